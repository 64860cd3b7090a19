//! The SHA-256 digests the store keeps in place of what they digest: a provider's ingest key
//! (never stored itself) and a resource's content (to recognise a write that changes nothing).

use aws_lc_rs::digest;
use serde_json::Value;
use std::fmt::Write as _;

/// The SHA-256 (hex) under which an ingest key is stored and checked.
pub fn ingest_key_hash(key: &str) -> String {
    sha256_hex(key.as_bytes())
}

/// SHA-256 (hex) of the resource without `meta.versionId` and `meta.lastUpdated`, which the store
/// sets itself: two writes with the same content hash are the same version.
pub fn content_hash(resource: &Value) -> String {
    let mut copy = resource.clone();
    if let Some(Value::Object(meta)) = copy.get_mut("meta") {
        meta.remove("versionId");
        meta.remove("lastUpdated");
        if meta.is_empty()
            && let Value::Object(members) = &mut copy
        {
            members.remove("meta");
        }
    }
    sha256_hex(copy.to_string().as_bytes())
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    digest::digest(&digest::SHA256, bytes).as_ref().iter().fold(String::with_capacity(64), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_content_hash_ignores_version_meta_only() {
        let a = json!({"resourceType": "Patient", "id": "p", "meta": {"versionId": "1", "lastUpdated": "x", "profile": ["p"]}});
        let b = json!({"resourceType": "Patient", "id": "p", "meta": {"versionId": "7", "profile": ["p"]}});
        let c = json!({"resourceType": "Patient", "id": "p", "meta": {"profile": ["q"]}});
        assert_eq!(content_hash(&a), content_hash(&b));
        assert_ne!(content_hash(&a), content_hash(&c));
        let bare = json!({"resourceType": "Patient", "id": "p"});
        let empty_meta = json!({"resourceType": "Patient", "id": "p", "meta": {"versionId": "2"}});
        assert_eq!(content_hash(&bare), content_hash(&empty_meta));
    }

    #[test]
    fn ingest_keys_hash_to_sha256_hex() {
        assert_eq!(ingest_key_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
