//! Where a request comes from, for throttling: the TCP peer's address, or, when the peer is one
//! of the configured trusted proxies, the address that proxy says it received the request from
//! (`X-Forwarded-For`). A forwarded address from any other peer is ignored: anyone can write the
//! header, and believing it would let a client pick a fresh address for every attempt.

use crate::mode::TrustedProxies;
use actix_web::HttpRequest;
use std::net::IpAddr;

/// The address `request` comes from. With `proxies`, a peer among them is looked through: the
/// `X-Forwarded-For` entries are read from the right (the one the nearest proxy added) past every
/// trusted proxy, and the first other address is the source. Entries further left were written
/// by the client and are never reached. Without a usable entry the peer itself is the source.
pub fn source_address(request: &HttpRequest, proxies: Option<&TrustedProxies>) -> Option<IpAddr> {
    let peer = request.peer_addr()?.ip().to_canonical();
    let Some(proxies) = proxies.filter(|proxies| proxies.contains(peer)) else { return Some(peer) };
    // Several headers count as one list, in order (RFC 9110 §5.3).
    let entries: Vec<&str> = request
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    for entry in entries.iter().rev() {
        match parse_entry(entry) {
            Some(address) if proxies.contains(address) => continue,
            Some(address) => return Some(address),
            // Garbage where the nearest untrusted hop should be: a proxy did not write it.
            None => return Some(peer),
        }
    }
    Some(peer)
}

/// An `X-Forwarded-For` entry: an address, an IPv6 address in brackets, either with a port.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    if let Ok(address) = entry.parse::<IpAddr>() {
        return Some(address.to_canonical());
    }
    if let Ok(socket) = entry.parse::<std::net::SocketAddr>() {
        return Some(socket.ip().to_canonical());
    }
    entry.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')).and_then(|inner| inner.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn source(peer: &str, forwarded: &[&str], proxies: Option<&[&str]>) -> Option<IpAddr> {
        let mut request = TestRequest::default().peer_addr(peer.parse().unwrap());
        for value in forwarded {
            request = request.append_header(("X-Forwarded-For", *value));
        }
        let proxies = proxies.map(|list| TrustedProxies::parse(list).unwrap());
        source_address(&request.to_http_request(), proxies.as_ref())
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn a_forwarded_address_counts_only_from_a_trusted_proxy() {
        assert_eq!(source("192.0.2.7:4000", &["198.51.100.1"], None), ip("192.0.2.7"));
        assert_eq!(source("192.0.2.7:4000", &["198.51.100.1"], Some(&["10.0.0.1"])), ip("192.0.2.7"));
        assert_eq!(source("10.0.0.1:4000", &["198.51.100.1"], Some(&["10.0.0.1"])), ip("198.51.100.1"));
        assert_eq!(source("10.0.0.1:4000", &[], Some(&["10.0.0.1"])), ip("10.0.0.1"));
    }

    #[test]
    fn what_the_client_wrote_left_of_the_proxies_entries_is_never_believed() {
        // The client sent "203.0.113.9"; the proxy appended the address it saw.
        let proxies: &[&str] = &["10.0.0.0/8"];
        assert_eq!(source("10.0.0.1:4000", &["203.0.113.9, 198.51.100.1"], Some(proxies)), ip("198.51.100.1"));
        // Two proxies in a row, and the same list over two headers.
        assert_eq!(
            source("10.0.0.1:4000", &["203.0.113.9, 198.51.100.1, 10.0.0.2"], Some(proxies)),
            ip("198.51.100.1")
        );
        assert_eq!(source("10.0.0.1:4000", &["203.0.113.9", "198.51.100.1"], Some(proxies)), ip("198.51.100.1"));
        assert_eq!(source("10.0.0.1:4000", &["unknown"], Some(proxies)), ip("10.0.0.1"));
    }

    #[test]
    fn entries_with_ports_and_brackets_are_read() {
        let proxies: &[&str] = &["10.0.0.1"];
        assert_eq!(source("10.0.0.1:4000", &["198.51.100.1:5555"], Some(proxies)), ip("198.51.100.1"));
        assert_eq!(source("10.0.0.1:4000", &["[2001:db8::1]:5555"], Some(proxies)), ip("2001:db8::1"));
        assert_eq!(source("10.0.0.1:4000", &["[2001:db8::1]"], Some(proxies)), ip("2001:db8::1"));
        assert_eq!(source("[::ffff:10.0.0.1]:4000", &["::ffff:198.51.100.1"], Some(proxies)), ip("198.51.100.1"));
    }
}
