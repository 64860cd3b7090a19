//! Wire formats and content negotiation (FHIR R4 §3.1.0.1.6, STU3 §2.1.0.5).
//!
//! `_format` wins over `Accept`. A media range may carry a `fhirVersion` parameter, which must
//! name the release of the endpoint. The caller says which formats it can produce; anything else
//! is not acceptable, so adding a format (XML) touches only the list and a renderer.

use crate::Release;

/// A FHIR wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// FHIR JSON.
    Json,
    /// FHIR XML.
    Xml,
}

impl Format {
    /// The media type the service answers with for this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/fhir+json; charset=utf-8",
            Format::Xml => "application/fhir+xml; charset=utf-8",
        }
    }

    /// The short name `_format` takes (`json`, `xml`).
    pub fn short_name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Xml => "xml",
        }
    }

    /// Recognises a format by media type or by the short `_format` names (`json`, `xml`).
    pub fn from_media_type(media_type: &str) -> Option<Format> {
        match media_type.trim().to_ascii_lowercase().as_str() {
            "json" | "application/json" | "application/fhir+json" | "application/json+fhir" | "text/json" => {
                Some(Format::Json)
            }
            "xml" | "application/xml" | "application/fhir+xml" | "application/xml+fhir" | "text/xml" => {
                Some(Format::Xml)
            }
            _ => None,
        }
    }
}

/// Why no format could be chosen; the message is safe to show to a client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotAcceptable {
    /// `_format` named something the service does not produce.
    #[error("the format '{requested}' requested in _format is not supported; use {offered}")]
    FormatParameter {
        /// What was asked for.
        requested: String,
        /// The `_format` values offered, e.g. `json or xml`.
        offered: String,
    },
    /// No media range in `Accept` names a supported format.
    #[error("none of the media types in Accept ('{requested}') is supported; use {offered}")]
    Accept {
        /// What was asked for.
        requested: String,
        /// The media types offered, e.g. `application/fhir+json or application/fhir+xml`.
        offered: String,
    },
    /// The media range asked for another FHIR release than this endpoint serves.
    #[error("this endpoint serves FHIR {served}, but fhirVersion={asked} was requested")]
    FhirVersion {
        /// The release of the endpoint (its MIME version, e.g. 3.0).
        served: &'static str,
        /// What the client asked for.
        asked: String,
    },
}

/// Chooses the response format from `_format` and `Accept`, among the formats `supported`
/// (the first is the default when the client expresses no preference).
pub fn negotiate(
    format_parameter: Option<&str>,
    accept: Option<&str>,
    release: Release,
    supported: &[Format],
) -> Result<Format, NotAcceptable> {
    let default = supported.first().copied().unwrap_or(Format::Json);
    if let Some(requested) = format_parameter {
        let (media_type, parameters) = split_parameters(requested);
        check_fhir_version(&parameters, release)?;
        return match Format::from_media_type(media_type) {
            Some(format) if supported.contains(&format) => Ok(format),
            _ => Err(NotAcceptable::FormatParameter {
                requested: requested.to_owned(),
                offered: offered(supported, Format::short_name),
            }),
        };
    }
    let Some(accept) = accept.filter(|value| !value.trim().is_empty()) else {
        return Ok(default);
    };
    let mut best: Option<(f32, Format)> = None;
    let mut version_mismatch = None;
    for range in accept.split(',') {
        let (media_type, parameters) = split_parameters(range);
        let quality = parameters
            .iter()
            .find(|(name, _)| name == "q")
            .and_then(|(_, value)| value.parse::<f32>().ok())
            .unwrap_or(1.0);
        if quality <= 0.0 {
            continue;
        }
        let candidate = match media_type.to_ascii_lowercase().as_str() {
            "*/*" | "application/*" => Some(default),
            other => Format::from_media_type(other).filter(|format| supported.contains(format)),
        };
        let Some(format) = candidate else { continue };
        if let Err(mismatch) = check_fhir_version(&parameters, release) {
            version_mismatch.get_or_insert(mismatch);
            continue;
        }
        if best.is_none_or(|(best_quality, _)| quality > best_quality) {
            best = Some((quality, format));
        }
    }
    match (best, version_mismatch) {
        (Some((_, format)), _) => Ok(format),
        (None, Some(mismatch)) => Err(mismatch),
        (None, None) => {
            Err(NotAcceptable::Accept { requested: accept.to_owned(), offered: offered(supported, media_type) })
        }
    }
}

/// The media type a client names in `Accept` for `format`.
fn media_type(format: Format) -> &'static str {
    match format {
        Format::Json => "application/fhir+json",
        Format::Xml => "application/fhir+xml",
    }
}

/// `supported` named one way, as a list to read: `json`, `json or xml`.
fn offered(supported: &[Format], name: fn(Format) -> &'static str) -> String {
    let names: Vec<&str> = supported.iter().map(|format| name(*format)).collect();
    match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => "json".to_owned(),
    }
}

fn check_fhir_version(parameters: &[(String, String)], release: Release) -> Result<(), NotAcceptable> {
    match parameters.iter().find(|(name, _)| name.eq_ignore_ascii_case("fhirVersion")) {
        Some((_, asked)) if !release_matches(asked, release) => {
            Err(NotAcceptable::FhirVersion { served: release.mime_version(), asked: asked.clone() })
        }
        _ => Ok(()),
    }
}

fn release_matches(asked: &str, release: Release) -> bool {
    asked == release.mime_version() || asked == release.fhir_version()
}

/// Splits `type/subtype; a=1; b="2"` into the media type and its parameters.
fn split_parameters(range: &str) -> (&str, Vec<(String, String)>) {
    let mut parts = range.split(';');
    let media_type = parts.next().unwrap_or_default().trim();
    let parameters = parts
        .filter_map(|part| {
            let (name, value) = part.split_once('=')?;
            Some((name.trim().to_owned(), value.trim().trim_matches('"').to_owned()))
        })
        .collect();
    (media_type, parameters)
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON_ONLY: &[Format] = &[Format::Json];
    const BOTH: &[Format] = &[Format::Json, Format::Xml];

    #[test]
    fn no_preference_gives_the_default() {
        assert_eq!(negotiate(None, None, Release::Stu3, JSON_ONLY), Ok(Format::Json));
        assert_eq!(negotiate(None, Some("*/*"), Release::R4, JSON_ONLY), Ok(Format::Json));
    }

    #[test]
    fn format_parameter_wins_over_accept() {
        assert_eq!(negotiate(Some("json"), Some("application/fhir+xml"), Release::Stu3, BOTH), Ok(Format::Json));
        assert_eq!(negotiate(Some("xml"), Some("application/fhir+json"), Release::Stu3, BOTH), Ok(Format::Xml));
    }

    #[test]
    fn unsupported_formats_are_not_acceptable() {
        assert!(matches!(
            negotiate(Some("xml"), None, Release::Stu3, JSON_ONLY),
            Err(NotAcceptable::FormatParameter { .. })
        ));
        assert!(matches!(
            negotiate(None, Some("application/fhir+xml"), Release::Stu3, JSON_ONLY),
            Err(NotAcceptable::Accept { .. })
        ));
        assert!(matches!(
            negotiate(None, Some("text/html"), Release::Stu3, JSON_ONLY),
            Err(NotAcceptable::Accept { .. })
        ));
    }

    #[test]
    fn a_refusal_names_every_format_offered() {
        let html = negotiate(Some("html"), None, Release::Stu3, BOTH).expect_err("html is not offered");
        assert_eq!(html.to_string(), "the format 'html' requested in _format is not supported; use json or xml");
        let accept = negotiate(None, Some("text/html"), Release::R4, BOTH).expect_err("html is not offered");
        assert!(accept.to_string().ends_with("use application/fhir+json or application/fhir+xml"), "{accept}");
        let json_only = negotiate(Some("html"), None, Release::R4, JSON_ONLY).expect_err("html is not offered");
        assert!(json_only.to_string().ends_with("; use json"), "{json_only}");
    }

    #[test]
    fn quality_values_choose_among_supported_formats() {
        let accept = "application/fhir+xml;q=0.9, application/fhir+json;q=0.5";
        assert_eq!(negotiate(None, Some(accept), Release::R4, BOTH), Ok(Format::Xml));
        assert_eq!(negotiate(None, Some(accept), Release::R4, JSON_ONLY), Ok(Format::Json));
        assert!(negotiate(None, Some("application/fhir+json;q=0"), Release::R4, JSON_ONLY).is_err());
    }

    #[test]
    fn fhir_version_parameter_must_match_the_endpoint() {
        let stu3 = "application/fhir+json; fhirVersion=3.0";
        assert_eq!(negotiate(None, Some(stu3), Release::Stu3, JSON_ONLY), Ok(Format::Json));
        assert!(matches!(
            negotiate(None, Some(stu3), Release::R4, JSON_ONLY),
            Err(NotAcceptable::FhirVersion { served: "4.0", .. })
        ));
        assert!(negotiate(Some("application/fhir+json;fhirVersion=4.0"), None, Release::Stu3, JSON_ONLY).is_err());
    }

    #[test]
    fn legacy_stu3_media_types_are_understood() {
        assert_eq!(negotiate(None, Some("application/json+fhir"), Release::Stu3, JSON_ONLY), Ok(Format::Json));
    }
}
