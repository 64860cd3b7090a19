//! The MedMij lists, as XML. MedMij beheer publishes them. This service imports three of them,
//! validated against their schemas (the OAuth Client List, the Gegevensdienstnamenlijst and the
//! Whitelist: see [`parse_list`]), and publishes the entries of the providers it hosts in the
//! shape of the provider list (Zorgaanbiederslijst, ZAL), so that PGOs and MedMij beheer can
//! discover their endpoints.

mod lists;
mod xml_out;
mod zal;

pub use lists::{
    DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, DEFAULT_MAX_ELEMENTS, DataServiceName, DataServiceNameList,
    GNL_NAMESPACE_RELEASE1, ListError, ListHeader, ListKind, ListLimits, ListShape, MedMijList, OAuthClient,
    OAuthClientList, OCL_NAMESPACE_RELEASE2, OCL_NAMESPACE_RELEASE3, WHITELIST_NAMESPACE_RELEASE2, Whitelist,
    check_newer, parse_list, parse_list_with, write_data_service_name_list, write_oauth_client_list, write_whitelist,
};
pub use zal::{ZAL_NAMESPACE, Zal, ZalDataService, ZalProvider, ZalSystemRole};
