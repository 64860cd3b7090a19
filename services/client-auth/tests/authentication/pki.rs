//! A small PKI made in the test: a CA for PGO clients, a rogue CA, a CA for the server, and
//! certificates issued by them.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::CertificateDer;

/// A CA that can issue certificates.
pub struct Ca(CertifiedIssuer<'static, KeyPair>);

impl Ca {
    pub fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        Ca(CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap())
    }

    pub fn pem(&self) -> String {
        self.0.pem()
    }

    /// A client certificate for `names`, valid now.
    pub fn client(&self, names: &[&str]) -> Leaf {
        self.issue(names, ExtendedKeyUsagePurpose::ClientAuth, None)
    }

    /// A client certificate for `names` that expired in 2021.
    pub fn expired_client(&self, names: &[&str]) -> Leaf {
        self.issue(names, ExtendedKeyUsagePurpose::ClientAuth, Some((2020, 2021)))
    }

    /// A certificate for `names` that is only for TLS servers.
    pub fn server(&self, names: &[&str]) -> Leaf {
        self.issue(names, ExtendedKeyUsagePurpose::ServerAuth, None)
    }

    fn issue(&self, names: &[&str], usage: ExtendedKeyUsagePurpose, years: Option<(i32, i32)>) -> Leaf {
        let mut params = CertificateParams::new(names.iter().map(|name| name.to_string()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name.push(DnType::CommonName, names.first().copied().unwrap_or("nameless"));
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![usage];
        if let Some((from, to)) = years {
            params.not_before = rcgen::date_time_ymd(from, 1, 1);
            params.not_after = rcgen::date_time_ymd(to, 1, 1);
        }
        let key = KeyPair::generate().unwrap();
        let certificate = params.signed_by(&key, &self.0).unwrap();
        Leaf { der: certificate.der().clone(), pem: certificate.pem(), key_pem: key.serialize_pem() }
    }
}

/// An issued certificate and its key.
pub struct Leaf {
    pub der: CertificateDer<'static>,
    pub pem: String,
    pub key_pem: String,
}

impl Leaf {
    /// The client identity reqwest presents in the handshake.
    pub fn identity(&self) -> reqwest::Identity {
        reqwest::Identity::from_pem(format!("{}{}", self.pem, self.key_pem).as_bytes()).unwrap()
    }

    /// The certificate as nginx's `$ssl_client_escaped_cert` forwards it.
    pub fn escaped_pem(&self) -> String {
        percent_encoding::utf8_percent_encode(&self.pem, percent_encoding::NON_ALPHANUMERIC).to_string()
    }

    /// The certificate as an RFC 9440 `Client-Cert` value.
    pub fn rfc9440(&self) -> String {
        use base64::Engine;
        format!(":{}:", base64::engine::general_purpose::STANDARD.encode(&self.der))
    }
}

/// Everything the tests need, made once per test.
pub struct Pki {
    pub pgo_ca: Ca,
    pub rogue_ca: Ca,
    pub server_ca: Ca,
    pub server: Leaf,
}

impl Pki {
    pub fn new() -> Pki {
        let server_ca = Ca::new("Test server CA");
        let server = server_ca.server(&["127.0.0.1"]);
        Pki { pgo_ca: Ca::new("Test PGO CA"), rogue_ca: Ca::new("Rogue CA"), server_ca, server }
    }
}
