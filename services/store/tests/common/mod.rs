//! What the store's test files share: a migrated store over a test database, and a provider.

#![allow(dead_code, clippy::expect_used)]

use store::{NewProvider, Provider, Store};
use test_support::TestDatabase;

/// The store over `database`, migrated.
pub async fn open(database: &TestDatabase) -> Store {
    let store = Store::connect(&database.url, 4).await.expect("connects");
    store.migrate().await.expect("migrates");
    store
}

/// A new provider `name` offering `data_services`.
pub async fn provider_of(store: &Store, name: &str, data_services: &[&str]) -> Provider {
    let new = NewProvider {
        name: name.into(),
        display_name: name.to_uppercase(),
        data_services: data_services.iter().map(|id| (*id).to_owned()).collect(),
    };
    store.create_provider(&new, None).await.expect("provider")
}
