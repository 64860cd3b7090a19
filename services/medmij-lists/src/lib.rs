//! The MedMij lists, as XML. MedMij beheer publishes them; this service publishes the entries of
//! the providers it hosts in the shape of the provider list (Zorgaanbiederslijst, ZAL), so that
//! PGOs and MedMij beheer can discover their endpoints.

mod zal;

pub use zal::{ZAL_NAMESPACE, Zal, ZalDataService, ZalProvider, ZalSystemRole};
