//! The MedMij lists the service imports (OAuth Client List, data-service name list, Whitelist):
//! importing a list file (schema checks in `medmij-lists`, the Volgnummer rule here and in the
//! store) and building the [`Directory`] the endpoints use from the lists held.

use crate::directory::{Directory, KnownClient};
use medmij_lists::MedMijList;
use store::{HeldList, Store, StoreError};

/// A list that replaced the one held (or was the first of its kind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// Which list.
    pub kind: &'static str,
    /// Its Volgnummer.
    pub volgnummer: u64,
}

/// A list could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Not a valid MedMij list.
    #[error("{0}")]
    Invalid(#[from] medmij_lists::ListError),
    /// Not newer than the list held.
    #[error("the {kind} list has Volgnummer {incoming}, not newer than the {held} held; refused")]
    NotNewer {
        /// Which list.
        kind: &'static str,
        /// The number of the list offered.
        incoming: u64,
        /// The number of the list held.
        held: u64,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Imports the list in `bytes` (a file's content) into `store`.
pub async fn import(store: &Store, bytes: &[u8]) -> Result<Imported, ImportError> {
    let list = medmij_lists::parse_list(bytes)?;
    let kind = list.kind().as_str();
    let header = list.header();
    let held = store.lists().held_list(kind).await?;
    let held_number = held.as_ref().map(|held| u64::try_from(held.volgnummer).unwrap_or(0));
    let incoming = header.volgnummer;
    if medmij_lists::check_newer(held_number, header).is_err() {
        return Err(ImportError::NotNewer { kind, incoming, held: held_number.unwrap_or(0) });
    }
    let replaced = store
        .lists()
        .replace_list(&HeldList {
            kind: kind.to_owned(),
            volgnummer: i64::try_from(incoming).unwrap_or(i64::MAX),
            tijdstempel: header.tijdstempel.clone(),
            content: String::from_utf8_lossy(bytes).into_owned(),
            imported_at: crate::server::now_millis(),
        })
        .await?;
    if !replaced {
        // Another import got there first with a number at least as high.
        let held =
            store.lists().held_list(kind).await?.map(|held| u64::try_from(held.volgnummer).unwrap_or(0)).unwrap_or(0);
        return Err(ImportError::NotNewer { kind, incoming, held });
    }
    Ok(Imported { kind, volgnummer: incoming })
}

/// The directory built from the lists held in `store` (empty parts for lists not held).
pub async fn load_directory(store: &Store) -> Result<Directory, ImportError> {
    let mut clients = Vec::new();
    let mut names = Vec::new();
    let mut whitelist = None;
    for kind in [
        medmij_lists::ListKind::OAuthClients,
        medmij_lists::ListKind::DataServiceNames,
        medmij_lists::ListKind::Whitelist,
    ] {
        let Some(held) = store.lists().held_list(kind.as_str()).await? else { continue };
        match medmij_lists::parse_list(held.content.as_bytes())? {
            MedMijList::OAuthClients(list) => {
                clients = list
                    .clients
                    .into_iter()
                    .map(|client| KnownClient {
                        hostname: client.hostname,
                        organisation: client.organisation_name,
                        data_services: client.data_services,
                    })
                    .collect();
            }
            MedMijList::DataServiceNames(list) => {
                names = list.names.into_iter().map(|name| (name.id, name.name)).collect();
            }
            MedMijList::Whitelist(list) => whitelist = Some(list.hosts),
        }
    }
    Ok(Directory::new(clients, names, whitelist))
}
