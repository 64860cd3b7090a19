//! Levels of assurance of a login (eIDAS: low, substantial, high), as OpenID Connect `acr` values.

use serde::{Deserialize, Serialize};

/// A level of assurance, ordered from weakest to strongest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Loa {
    /// eIDAS low (DigiD basis).
    Low,
    /// eIDAS substantial (DigiD substantieel: the default requirement).
    Substantial,
    /// eIDAS high (DigiD hoog).
    High,
}

const PREFIX: &str = "http://eidas.europa.eu/LoA/";

impl Loa {
    /// Every level, weakest first.
    pub const ALL: [Loa; 3] = [Loa::Low, Loa::Substantial, Loa::High];

    /// The `acr` URI.
    pub fn uri(self) -> &'static str {
        match self {
            Loa::Low => "http://eidas.europa.eu/LoA/low",
            Loa::Substantial => "http://eidas.europa.eu/LoA/substantial",
            Loa::High => "http://eidas.europa.eu/LoA/high",
        }
    }

    /// The level of an `acr` URI.
    pub fn from_uri(uri: &str) -> Option<Loa> {
        Loa::from_name(uri.strip_prefix(PREFIX)?)
    }

    /// The level called `name` (`low`, `substantial`, `high`), as in the settings.
    pub fn from_name(name: &str) -> Option<Loa> {
        match name {
            "low" => Some(Loa::Low),
            "substantial" => Some(Loa::Substantial),
            "high" => Some(Loa::High),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_order_and_round_trip_through_their_uris() {
        assert!(Loa::Low < Loa::Substantial && Loa::Substantial < Loa::High);
        for loa in Loa::ALL {
            assert_eq!(Loa::from_uri(loa.uri()), Some(loa));
        }
        assert_eq!(Loa::from_uri("http://eidas.europa.eu/LoA/extreme"), None);
        assert_eq!(Loa::from_uri("substantial"), None);
    }
}
