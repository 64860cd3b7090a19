//! The MedMij rules for a PGO's redirect URI: `https`, a host name (not an IP address), no query,
//! no fragment, no user info, and the host is the PGO's own hostname from the OAuth Client List.
//! In development mode `http` on a loopback host (`localhost`, `*.localhost`, 127.0.0.1, ::1) is
//! accepted for any client, as for native apps (RFC 8252 §7.3), so that a PGO can be tried on one
//! machine.

use url::{Host, Url};

/// Why a redirect URI is refused. The person is shown this; the browser is never sent there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RedirectUriError {
    /// Missing.
    #[error("redirect_uri is missing")]
    Missing,
    /// Not an absolute URL.
    #[error("redirect_uri is not an absolute URL")]
    Malformed,
    /// Not https (and not loopback http in development mode).
    #[error("redirect_uri must use https")]
    NotHttps,
    /// An IP address instead of a host name.
    #[error("redirect_uri must name a host, not an IP address")]
    IpAddress,
    /// Has a query or fragment or user info.
    #[error("redirect_uri must not have a query, a fragment or user info")]
    Extras,
    /// On another host than the client's.
    #[error("redirect_uri is not on the client's hostname")]
    OtherHost,
}

/// Checks `uri` as the redirect URI of the client with `hostname`.
pub fn check(uri: Option<&str>, hostname: &str, development: bool) -> Result<Url, RedirectUriError> {
    let text = uri.filter(|text| !text.is_empty()).ok_or(RedirectUriError::Missing)?;
    let url = Url::parse(text).map_err(|_| RedirectUriError::Malformed)?;
    // A `?` or `#` with nothing after it still makes the URI differ from the registered shape.
    if url.query().is_some() || url.fragment().is_some() || text.contains(['?', '#']) {
        return Err(RedirectUriError::Extras);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(RedirectUriError::Extras);
    }
    let loopback = is_loopback(&url);
    match url.scheme() {
        "https" => {}
        "http" if development && loopback => return Ok(url),
        _ => return Err(RedirectUriError::NotHttps),
    }
    if development && loopback {
        return Ok(url);
    }
    match url.host() {
        Some(Host::Domain(domain)) if domain.eq_ignore_ascii_case(hostname) => Ok(url),
        Some(Host::Domain(_)) => Err(RedirectUriError::OtherHost),
        Some(Host::Ipv4(_) | Host::Ipv6(_)) => Err(RedirectUriError::IpAddress),
        None => Err(RedirectUriError::Malformed),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => {
            let domain = domain.to_ascii_lowercase();
            domain == "localhost" || domain.ends_with(".localhost")
        }
        Some(Host::Ipv4(address)) => address.is_loopback(),
        Some(Host::Ipv6(address)) => address.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PGO: &str = "pgo.example.nl";

    #[test]
    fn the_rules_hold_in_production() {
        let cases: &[(&str, Result<(), RedirectUriError>)] = &[
            ("https://pgo.example.nl/callback", Ok(())),
            ("https://PGO.example.nl:8443/a/b", Ok(())),
            ("http://pgo.example.nl/callback", Err(RedirectUriError::NotHttps)),
            ("https://other.example.nl/callback", Err(RedirectUriError::OtherHost)),
            ("https://pgo.example.nl.evil.example/cb", Err(RedirectUriError::OtherHost)),
            ("https://192.0.2.1/callback", Err(RedirectUriError::IpAddress)),
            ("https://[2001:db8::1]/callback", Err(RedirectUriError::IpAddress)),
            ("https://pgo.example.nl/callback?x=1", Err(RedirectUriError::Extras)),
            ("https://pgo.example.nl/callback?", Err(RedirectUriError::Extras)),
            ("https://pgo.example.nl/callback#top", Err(RedirectUriError::Extras)),
            ("https://user@pgo.example.nl/callback", Err(RedirectUriError::Extras)),
            ("/callback", Err(RedirectUriError::Malformed)),
            ("http://127.0.0.1:9000/callback", Err(RedirectUriError::NotHttps)),
            ("http://localhost:9000/callback", Err(RedirectUriError::NotHttps)),
            ("javascript:alert(1)", Err(RedirectUriError::NotHttps)),
        ];
        for (uri, expected) in cases {
            assert_eq!(check(Some(uri), PGO, false).map(|_| ()), *expected, "{uri}");
        }
        assert_eq!(check(None, PGO, false).map(|_| ()), Err(RedirectUriError::Missing));
        assert_eq!(check(Some(""), PGO, false).map(|_| ()), Err(RedirectUriError::Missing));
    }

    #[test]
    fn development_mode_adds_loopback_http_and_nothing_else() {
        for uri in ["http://127.0.0.1:9000/cb", "http://localhost/cb", "http://[::1]:1/cb", "http://demo.localhost/cb"]
        {
            assert!(check(Some(uri), PGO, true).is_ok(), "{uri}");
        }
        assert_eq!(check(Some("http://192.0.2.1/cb"), PGO, true).map(|_| ()), Err(RedirectUriError::NotHttps));
        assert_eq!(check(Some("http://pgo.example.nl/cb"), PGO, true).map(|_| ()), Err(RedirectUriError::NotHttps));
        assert_eq!(check(Some("https://other.example.nl/cb"), PGO, true).map(|_| ()), Err(RedirectUriError::OtherHost));
        assert_eq!(check(Some("http://127.0.0.1/cb?x"), PGO, true).map(|_| ()), Err(RedirectUriError::Extras));
    }
}
