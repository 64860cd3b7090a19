//! `GET /metrics`: the application's metrics in the Prometheus text format, for the addresses of
//! `metrics.allowed_addresses` only (loopback by default). The numbers hold no personal data, but
//! request rates per data service, pool use and queue depths are the operator's business, not
//! the internet's; a scraper connects directly, as Prometheus does. A request that came through a
//! proxy (it carries `Forwarded` or `X-Forwarded-For`) is refused whatever its peer: behind a TLS
//! terminator on the same host every request would otherwise come from loopback.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use ipnet::IpNet;
use service_metrics::Exposition;
use std::net::IpAddr;
use std::str::FromStr;

/// An entry of `metrics.allowed_addresses` that is neither an address nor a network.
#[derive(Debug, thiserror::Error)]
#[error("metrics.allowed_addresses: '{0}' is neither an IP address nor a network (CIDR)")]
pub struct NotAnAddress(String);

/// What `/metrics` serves, and to whom.
#[derive(Debug)]
pub struct MetricsEndpoint {
    exposition: Exposition,
    allowed: Vec<IpNet>,
}

impl MetricsEndpoint {
    /// Serves `exposition` to peers in `allowed` (addresses or CIDRs).
    pub fn new<S: AsRef<str>>(exposition: Exposition, allowed: &[S]) -> Result<MetricsEndpoint, NotAnAddress> {
        let allowed = allowed
            .iter()
            .map(|entry| {
                let entry = entry.as_ref().trim();
                IpNet::from_str(entry)
                    .or_else(|_| IpAddr::from_str(entry).map(IpNet::from))
                    .map_err(|_| NotAnAddress(entry.to_owned()))
            })
            .collect::<Result<_, _>>()?;
        Ok(MetricsEndpoint { exposition, allowed })
    }

    /// Whether `request` came straight from an allowed address.
    fn admits(&self, request: &HttpRequest) -> bool {
        let headers = request.headers();
        if headers.contains_key(header::FORWARDED) || headers.contains_key("x-forwarded-for") {
            return false;
        }
        let Some(peer) = request.peer_addr() else { return false };
        let peer = peer.ip().to_canonical();
        self.allowed.iter().any(|network| network.contains(&peer))
    }
}

/// Registers `GET /metrics`.
pub fn configure(endpoint: web::Data<MetricsEndpoint>) -> impl Fn(&mut web::ServiceConfig) + Clone {
    move |config: &mut web::ServiceConfig| {
        config.service(crate::get_only("/metrics", web::get().to(serve)).app_data(endpoint.clone()));
    }
}

/// 200 with the metrics; 403 for a peer not allowed (the answer says which setting decides).
async fn serve(request: HttpRequest, endpoint: web::Data<MetricsEndpoint>) -> HttpResponse {
    if !endpoint.admits(&request) {
        return HttpResponse::Forbidden()
            .content_type("text/plain; charset=utf-8")
            .body("metrics are served to the addresses of metrics.allowed_addresses, not through a proxy\n");
    }
    match endpoint.exposition.encode() {
        Ok(text) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, service_metrics::CONTENT_TYPE))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(text),
        Err(_) => {
            tracing::error!("the metrics could not be written");
            HttpResponse::InternalServerError().finish()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn endpoint(allowed: &[&str]) -> MetricsEndpoint {
        MetricsEndpoint::new(service_metrics::Metrics::default().exposition(Vec::new()), allowed).unwrap()
    }

    #[test]
    fn only_allowed_peers_reach_the_metrics_and_never_through_a_proxy() {
        let endpoint = endpoint(&["127.0.0.1", "10.0.0.0/8"]);
        let from = |peer: &str| TestRequest::default().peer_addr(peer.parse().unwrap());
        assert!(endpoint.admits(&from("127.0.0.1:4000").to_http_request()));
        assert!(endpoint.admits(&from("10.1.2.3:4000").to_http_request()));
        assert!(endpoint.admits(&from("[::ffff:10.1.2.3]:4000").to_http_request()), "IPv4 seen as IPv6");
        assert!(!endpoint.admits(&from("192.0.2.7:4000").to_http_request()));
        let forwarded = from("127.0.0.1:4000").insert_header(("X-Forwarded-For", "192.0.2.7")).to_http_request();
        assert!(!endpoint.admits(&forwarded));
    }

    #[test]
    fn an_entry_that_is_no_address_is_refused() {
        let exposition = service_metrics::Metrics::default().exposition(Vec::new());
        assert!(MetricsEndpoint::new(exposition, &["localhost"]).is_err());
    }
}
