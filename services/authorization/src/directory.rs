//! What the imported MedMij lists say, in the shape the authorization server asks it: which PGOs
//! exist (OAuth Client List: hostname, organisation name, the data services each may use), the
//! names of data services (Gegevensdienstnamenlijst) and which hosts may use the back channel
//! (Whitelist).

use std::collections::{HashMap, HashSet};

/// A PGO from the OAuth Client List.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownClient {
    /// Its hostname: the OAuth `client_id`.
    pub hostname: String,
    /// The organisation's name, shown on the consent page.
    pub organisation: String,
    /// The data services it may use; `None` when the list does not limit them (older lists).
    pub data_services: Option<Vec<String>>,
}

impl KnownClient {
    /// Whether the list allows this client data service `id`.
    pub fn may_use(&self, id: &str) -> bool {
        self.data_services.as_ref().is_none_or(|allowed| allowed.iter().any(|allowed| allowed == id))
    }
}

/// The lists, as held now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directory {
    clients: HashMap<String, KnownClient>,
    service_names: HashMap<String, String>,
    whitelist: Option<HashSet<String>>,
}

impl Directory {
    /// A directory of these clients, data-service names and (if a Whitelist is held) hosts.
    pub fn new(
        clients: impl IntoIterator<Item = KnownClient>,
        service_names: impl IntoIterator<Item = (String, String)>,
        whitelist: Option<Vec<String>>,
    ) -> Directory {
        Directory {
            clients: clients.into_iter().map(|client| (client.hostname.to_ascii_lowercase(), client)).collect(),
            service_names: service_names.into_iter().collect(),
            whitelist: whitelist.map(|hosts| hosts.into_iter().map(|host| host.to_ascii_lowercase()).collect()),
        }
    }

    /// The client with this `client_id` (hostnames compare without case).
    pub fn client(&self, client_id: &str) -> Option<&KnownClient> {
        self.clients.get(&client_id.to_ascii_lowercase())
    }

    /// The name of data service `id` from the list, if it names it.
    pub fn service_name(&self, id: &str) -> Option<&str> {
        self.service_names.get(id).map(String::as_str)
    }

    /// Whether `host` may call the back channel: on the Whitelist, or no Whitelist is held.
    pub fn may_call_back_channel(&self, host: &str) -> bool {
        self.whitelist.as_ref().is_none_or(|hosts| hosts.contains(&host.to_ascii_lowercase()))
    }

    /// How many clients are known.
    pub fn client_count(&self) -> usize {
        self.clients.len()
    }
}
