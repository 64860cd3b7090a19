//! The `Prefer` header (RFC 7240) as FHIR uses it: `handling=strict|lenient` for search
//! (FHIR R4 §3.1.1.2) and `return=minimal|representation|OperationOutcome` for writes (§3.1.0.4).

use actix_web::HttpRequest;

/// What a write should answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Return {
    /// No body.
    Minimal,
    /// The stored resource (the default).
    Representation,
    /// An OperationOutcome (with any warnings).
    OperationOutcome,
}

fn preferences(request: &HttpRequest) -> impl Iterator<Item = (String, String)> + '_ {
    request
        .headers()
        .get_all("prefer")
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split([',', ';']))
        .filter_map(|item| {
            let (name, value) = item.split_once('=')?;
            Some((name.trim().to_ascii_lowercase(), value.trim().trim_matches('"').to_owned()))
        })
}

/// Whether the client asked for strict handling of search parameters.
pub(crate) fn strict_handling(request: &HttpRequest) -> bool {
    preferences(request).any(|(name, value)| name == "handling" && value.eq_ignore_ascii_case("strict"))
}

/// What a write should return.
pub(crate) fn return_preference(request: &HttpRequest) -> Return {
    preferences(request)
        .find(|(name, _)| name == "return")
        .map(|(_, value)| match value.as_str() {
            "minimal" => Return::Minimal,
            "OperationOutcome" => Return::OperationOutcome,
            _ => Return::Representation,
        })
        .unwrap_or(Return::Representation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn reads_handling_and_return() {
        let request =
            TestRequest::default().insert_header(("Prefer", "handling=strict, return=minimal")).to_http_request();
        assert!(strict_handling(&request));
        assert_eq!(return_preference(&request), Return::Minimal);
        let plain = TestRequest::default().to_http_request();
        assert!(!strict_handling(&plain));
        assert_eq!(return_preference(&plain), Return::Representation);
        let outcome = TestRequest::default().insert_header(("Prefer", "return=OperationOutcome")).to_http_request();
        assert_eq!(return_preference(&outcome), Return::OperationOutcome);
    }
}
