//! Logging and tracing for the whole process: one `tracing` subscriber writing text or JSON lines
//! to stderr, filtered by the configured directives, and, when an OTLP endpoint is configured,
//! exporting every span to it (OTLP over HTTP/protobuf), with W3C trace-context propagation.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// How to log and trace.
#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    /// JSON lines instead of text.
    pub json: bool,
    /// Filter directives, e.g. `info` or `info,store=debug`. `RUST_LOG` wins when set.
    pub filter: String,
    /// OTLP/HTTP endpoint (`http://collector:4318`), if spans are to be exported.
    pub otlp_endpoint: Option<String>,
    /// The `service.name` resource attribute.
    pub service_name: String,
}

/// Tracing could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The filter directives do not parse.
    #[error("invalid log filter: {0}")]
    Filter(String),
    /// The OTLP exporter could not be built.
    #[error("cannot set up OTLP export: {0}")]
    Exporter(String),
    /// A subscriber was installed already.
    #[error("logging is already set up")]
    AlreadySet,
}

/// Keeps the exporter alive; dropping it flushes the spans not yet exported.
#[derive(Debug)]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            let _ = provider.shutdown();
        }
    }
}

/// Installs the process-wide subscriber.
pub fn init(config: &TelemetryConfig) -> Result<TelemetryGuard, TelemetryError> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.is_empty() => EnvFilter::try_new(directives),
        _ => EnvFilter::try_new(&config.filter),
    }
    .map_err(|error| TelemetryError::Filter(error.to_string()))?;
    let provider = match config.otlp_endpoint.as_deref().filter(|endpoint| !endpoint.is_empty()) {
        Some(endpoint) => {
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
                .build()
                .map_err(|error| TelemetryError::Exporter(error.to_string()))?;
            let provider = SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(Resource::builder().with_service_name(config.service_name.clone()).build())
                .build();
            opentelemetry::global::set_text_map_propagator(
                opentelemetry_sdk::propagation::TraceContextPropagator::new(),
            );
            Some(provider)
        }
        None => None,
    };
    let otel_layer =
        provider.as_ref().map(|provider| tracing_opentelemetry::layer().with_tracer(provider.tracer("pgo-exchange")));
    let registry = tracing_subscriber::registry().with(filter).with(otel_layer);
    let installed = if config.json {
        registry
            .with(tracing_subscriber::fmt::layer().json().with_current_span(true).with_writer(std::io::stderr))
            .try_init()
    } else {
        registry.with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr)).try_init()
    };
    installed.map_err(|_| TelemetryError::AlreadySet)?;
    Ok(TelemetryGuard { provider })
}
