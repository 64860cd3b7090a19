//! Person identity inside the service. The BSN (Dutch citizen service number) identifies a person
//! at a provider, but it must never leave the service: not in tokens, links, logs or errors. In
//! its place the service uses keyed hashes under a deployment secret, which nobody without the
//! secret can turn back into a BSN (a plain hash of a nine-digit number could be reversed by
//! trying them all).

use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretBox};
use std::path::Path;

mod seal;

pub use seal::{PseudonymSeal, Seal, SealError};

/// Whether `bsn` is a well-formed BSN: nine digits passing the 11-test ("elfproef").
pub fn is_valid_bsn(bsn: &str) -> bool {
    if bsn.len() != 9 || !bsn.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: i64 =
        bsn.bytes().zip([9, 8, 7, 6, 5, 4, 3, 2, -1]).map(|(digit, weight)| i64::from(digit - b'0') * weight).sum();
    sum % 11 == 0 && sum != 0
}

/// The deployment secret: the key of every hash that stands in for a BSN. Losing it makes
/// existing person keys unusable (the data must be re-indexed); leaking it makes them reversible.
pub struct DeploymentSecret(SecretBox<Vec<u8>>);

impl std::fmt::Debug for DeploymentSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeploymentSecret(***)")
    }
}

/// The secret could not be read or created.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The secret is not base64 of at least 32 bytes.
    #[error("the deployment secret must be base64 of at least 32 random bytes")]
    TooWeak,
    /// No randomness was available.
    #[error("the system random number generator failed")]
    Random,
}

impl DeploymentSecret {
    /// A secret from its base64 text (as configured).
    pub fn from_base64(text: &str) -> Result<DeploymentSecret, SecretError> {
        let bytes = STANDARD.decode(text.trim()).map_err(|_| SecretError::TooWeak)?;
        if bytes.len() < 32 {
            return Err(SecretError::TooWeak);
        }
        Ok(DeploymentSecret(SecretBox::new(Box::new(bytes))))
    }

    /// Reads the secret from `path`, or creates a new random one there (readable by the owner
    /// only) when the file does not exist.
    pub fn load_or_create(path: &Path) -> Result<DeploymentSecret, SecretError> {
        let io = |source| SecretError::Io { path: path.display().to_string(), source };
        match std::fs::read_to_string(path) {
            Ok(text) => DeploymentSecret::from_base64(&text),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = vec![0_u8; 32];
                SystemRandom::new().fill(&mut bytes).map_err(|_| SecretError::Random)?;
                if let Some(parent) = path.parent() {
                    create_private_folder(parent).map_err(io)?;
                }
                write_private(path, STANDARD.encode(&bytes).as_bytes()).map_err(io)?;
                Ok(DeploymentSecret(SecretBox::new(Box::new(bytes))))
            }
            Err(error) => Err(io(error)),
        }
    }

    /// The key by which provider `provider` finds the person with `bsn`: differs per provider, so
    /// a key says nothing across providers.
    pub fn person_key(&self, provider: &str, bsn: &str) -> String {
        self.keyed_hash(&["person-key", provider, bsn.trim()])
    }

    /// The pseudonym of the person with `bsn`, the same at every provider (for metering).
    pub fn pseudonym(&self, bsn: &str) -> String {
        self.keyed_hash(&["pseudonym", bsn.trim()])
    }

    /// A value derived from the secret for `purpose` (e.g. the demo's ingest key): stable for a
    /// deployment, unguessable without the secret.
    pub fn derive(&self, purpose: &str) -> String {
        self.keyed_hash(&["derived", purpose])
    }

    /// The seal that hides pseudonyms inside access tokens (its key derived from the secret).
    pub fn pseudonym_seal(&self) -> Result<PseudonymSeal, SealError> {
        Seal::new(self.keyed_bytes(&["seal", "pseudonym-in-token"]).as_ref(), seal::PSEUDONYM_IN_TOKEN)
    }

    /// The seal that keeps signing keys unreadable in the database (its key derived from the
    /// secret): every instance of a deployment opens them, the database alone does not.
    pub fn signing_key_seal(&self) -> Result<Seal, SealError> {
        Seal::new(self.keyed_bytes(&["seal", "signing-key-at-rest"]).as_ref(), seal::SIGNING_KEY_AT_REST)
    }

    fn keyed_hash(&self, parts: &[&str]) -> String {
        URL_SAFE_NO_PAD.encode(self.keyed_bytes(parts).as_ref())
    }

    fn keyed_bytes(&self, parts: &[&str]) -> hmac::Tag {
        let key = hmac::Key::new(hmac::HMAC_SHA256, self.0.expose_secret());
        let mut context = hmac::Context::with_key(&key);
        for part in parts {
            // Length-prefixed, so that no two different part lists give the same input.
            context.update(&(part.len() as u64).to_be_bytes());
            context.update(part.as_bytes());
        }
        context.sign()
    }
}

/// Creates `folder` and its missing parents, each for its owner only (`0700`): the data folder
/// holds health data, keys and secrets.
pub fn create_private_folder(folder: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(folder)
}

/// Writes a file that only its owner may read.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_eleven_test() {
        for valid in ["999911120", "999911284", "123456782", "111222333"] {
            assert!(is_valid_bsn(valid), "{valid}");
        }
        for invalid in ["999911121", "12345678", "1234567890", "12345678a", "000000000", ""] {
            assert!(!is_valid_bsn(invalid), "{invalid}");
        }
    }

    #[test]
    fn keys_depend_on_secret_provider_and_bsn() {
        let secret = DeploymentSecret::from_base64(&STANDARD.encode([7_u8; 32])).expect("secret");
        let other = DeploymentSecret::from_base64(&STANDARD.encode([8_u8; 32])).expect("secret");
        let key = secret.person_key("umcx", "999911120");
        assert_eq!(key, secret.person_key("umcx", " 999911120 "));
        assert_ne!(key, secret.person_key("umcy", "999911120"));
        assert_ne!(key, other.person_key("umcx", "999911120"));
        assert_ne!(secret.pseudonym("999911120"), secret.pseudonym("999911284"));
        assert!(!key.contains("999911120"));
    }

    #[test]
    fn a_short_secret_is_refused() {
        assert!(DeploymentSecret::from_base64(&STANDARD.encode([1_u8; 16])).is_err());
        assert!(DeploymentSecret::from_base64("not base64!").is_err());
    }

    #[test]
    fn the_secret_file_is_created_once_and_private() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("secrets/deployment-secret");
        let first = DeploymentSecret::load_or_create(&path).expect("created");
        let again = DeploymentSecret::load_or_create(&path).expect("read");
        assert_eq!(first.person_key("a", "1"), again.person_key("a", "1"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("metadata").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    proptest! {
        #[test]
        fn valid_bsns_are_nine_digits(text in "\\PC{0,12}") {
            if is_valid_bsn(&text) {
                prop_assert!(text.len() == 9 && text.bytes().all(|b| b.is_ascii_digit()));
            }
        }
    }
}
