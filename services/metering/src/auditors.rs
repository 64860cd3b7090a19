//! Auditors: the parties who check the PGO vendors' fee claims. Each has a client id and a
//! secret configured per deployment (only the secret's SHA-256 is configured), and signs in with
//! the OAuth client-credentials grant (RFC 6749 §4.4) at the token endpoint, or with the same
//! credentials on the dashboard's sign-in form. They are not PGOs: they never reach a person's
//! data, and PGOs never reach theirs.

use aws_lc_rs::{constant_time, digest};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// An auditor as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auditor {
    /// Its client id.
    pub id: String,
    /// Its name, for pages.
    pub name: String,
    secret_sha256: Vec<u8>,
}

/// The configured auditors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Auditors(Vec<Auditor>);

impl Auditors {
    /// From (id, name, hex SHA-256 of the secret); entries whose hash is not hex are skipped
    /// (the settings check them before).
    pub fn new(entries: impl IntoIterator<Item = (String, String, String)>) -> Auditors {
        Auditors(
            entries
                .into_iter()
                .filter_map(|(id, name, hex)| {
                    let secret_sha256 = from_hex(&hex)?;
                    let name = if name.is_empty() { id.clone() } else { name };
                    Some(Auditor { id, name, secret_sha256 })
                })
                .collect(),
        )
    }

    /// Adds an auditor whose secret is `secret` (the demo's).
    pub fn with_secret(mut self, id: &str, name: &str, secret: &str) -> Auditors {
        self.0.push(Auditor { id: id.to_owned(), name: name.to_owned(), secret_sha256: sha256(secret) });
        self
    }

    /// The auditor `id` if `secret` is its secret (compared in constant time).
    pub fn authenticate(&self, id: &str, secret: &str) -> Option<&Auditor> {
        let offered = sha256(secret);
        let auditor = self.0.iter().find(|auditor| auditor.id == id)?;
        constant_time::verify_slices_are_equal(&auditor.secret_sha256, &offered).ok().map(|()| auditor)
    }

    /// The auditor `id`.
    pub fn get(&self, id: &str) -> Option<&Auditor> {
        self.0.iter().find(|auditor| auditor.id == id)
    }

    /// Whether any auditor is configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The hex SHA-256 of `secret`: what the settings hold.
pub fn secret_hash(secret: &str) -> String {
    sha256(secret).iter().map(|byte| format!("{byte:02x}")).collect()
}

fn sha256(text: &str) -> Vec<u8> {
    digest::digest(&digest::SHA256, text.as_bytes()).as_ref().to_vec()
}

fn from_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() != 64 {
        return None;
    }
    (0..32).map(|index| u8::from_str_radix(hex.get(2 * index..2 * index + 2)?, 16).ok()).collect()
}

/// The client id and secret of an `Authorization: Basic` header (RFC 6749 §2.3.1: both
/// form-urlencoded before base64).
pub fn basic_credentials(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |text: &str| -> Option<String> {
        url::form_urlencoded::parse(format!("x={text}").as_bytes()).next().map(|(_, value)| value.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_right_secret_authenticates() {
        let auditors = Auditors::new([("nza".to_owned(), String::new(), secret_hash("s3cret"))]);
        assert_eq!(auditors.authenticate("nza", "s3cret").map(|a| a.name.as_str()), Some("nza"));
        assert!(auditors.authenticate("nza", "s3cret ").is_none());
        assert!(auditors.authenticate("other", "s3cret").is_none());
        assert!(Auditors::new([("x".to_owned(), String::new(), "zz".to_owned())]).is_empty());
    }

    #[test]
    fn basic_credentials_are_read_and_unescaped() {
        let header = format!("Basic {}", STANDARD.encode("nza:a%3Ab+c"));
        assert_eq!(basic_credentials(&header), Some(("nza".to_owned(), "a:b c".to_owned())));
        assert_eq!(basic_credentials("Bearer abc"), None);
        assert_eq!(basic_credentials("Basic !!!"), None);
    }
}
