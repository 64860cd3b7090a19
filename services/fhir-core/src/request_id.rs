//! MedMij's request and correlation ids (`MedMij-Request-ID`, `X-Correlation-ID`). MedMij makes
//! them UUIDs. The service keeps them for years (access log, AuditEvents, usage-report evidence)
//! and logs them, so it takes a sent id only when it is a UUID: anything else could carry data
//! that must not be kept (a BSN, a name) and is replaced by a fresh UUID.

/// Whether `text` is a UUID in the canonical 8-4-4-4-12 form of hexadecimal digits, in either
/// case (RFC 9562 §4). Braces, `urn:uuid:` and the 32-digit form without hyphens are not taken.
pub fn is_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(index, byte)| match index {
            8 | 13 | 18 | 23 => *byte == b'-',
            _ => byte.is_ascii_hexdigit(),
        })
}

/// A fresh random (version 4) UUID.
pub fn generate() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The id to use for one that was sent: the sent one if it is a UUID, otherwise a fresh one;
/// and whether it was replaced.
pub fn accept_or_replace(sent: &str) -> (String, bool) {
    if is_uuid(sent) { (sent.to_owned(), false) } else { (generate(), true) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_uuids_are_taken() {
        for good in ["123e4567-e89b-12d3-a456-426614174000", "123E4567-E89B-12D3-A456-426614174000"] {
            assert!(is_uuid(good), "{good}");
            assert_eq!(accept_or_replace(good), (good.to_owned(), false));
        }
        for bad in [
            "",
            "999946067",
            "req-anna",
            "123e4567e89b12d3a456426614174000",
            "{123e4567-e89b-12d3-a456-426614174000}",
            "urn:uuid:123e4567-e89b-12d3-a456-426614174000",
            "123e4567-e89b-12d3-a456-42661417400g",
            "123e4567-e89b-12d3-a456_426614174000",
            " 123e4567-e89b-12d3-a456-426614174000",
            "123e4567-e89b-12d3-a456-4266141740000",
        ] {
            assert!(!is_uuid(bad), "{bad}");
            let (used, replaced) = accept_or_replace(bad);
            assert!(replaced && is_uuid(&used) && used != bad, "{bad}");
        }
        assert!(is_uuid(&generate()));
    }
}
