//! FHIR references and logical ids.

/// Whether `id` is a valid FHIR logical id: 1 to 64 of `A-Z a-z 0-9 - .`.
pub fn is_valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// Whether `name` has the shape of a resource type name (`Observation`).
pub fn is_type_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|first| first.is_ascii_uppercase()) && bytes.all(|b| b.is_ascii_alphabetic())
}

/// The resource a literal reference points at: `Type/id`, an absolute URL ending in `Type/id`,
/// either optionally followed by `/_history/version`. Contained (`#id`) and `urn:` references
/// have no stored target and give `None`.
pub fn parse(reference: &str) -> Option<(&str, &str)> {
    if reference.starts_with('#') || reference.starts_with("urn:") {
        return None;
    }
    let without_query = reference.split(['?', '#']).next().unwrap_or_default();
    let mut segments: Vec<&str> = without_query.trim_end_matches('/').split('/').collect();
    if segments.len() >= 4 && segments[segments.len() - 2] == "_history" {
        segments.truncate(segments.len() - 2);
    }
    let [.., resource_type, id] = segments.as_slice() else {
        return None;
    };
    (is_type_name(resource_type) && is_valid_id(id)).then_some((*resource_type, *id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_relative_absolute_and_versioned_references() {
        assert_eq!(parse("Patient/nl-core-patient-01"), Some(("Patient", "nl-core-patient-01")));
        assert_eq!(parse("https://example.org/fhir/Organization/o1"), Some(("Organization", "o1")));
        assert_eq!(parse("Observation/o1/_history/3"), Some(("Observation", "o1")));
    }

    #[test]
    fn ignores_what_has_no_stored_target() {
        assert_eq!(parse("#contained-1"), None);
        assert_eq!(parse("urn:uuid:0b6f1a3e-1c6d-4b7e-9d6c-5f3a2e1b0c9d"), None);
        assert_eq!(parse("patient/x"), None);
        assert_eq!(parse("Patient/"), None);
        assert_eq!(parse("Patient/has space"), None);
    }

    #[test]
    fn ids_follow_the_fhir_rule() {
        assert!(is_valid_id("zib-Product-02.v1"));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id(&"a".repeat(65)));
        assert!(!is_valid_id("a_b"));
    }
}
