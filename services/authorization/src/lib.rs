//! The MedMij authorization server (the DVA's side of OAuth 2.0, RFC 6749):
//! - the authorization endpoint, where a PGO sends a person (`/oauth/authorize`), the person's
//!   login at an OpenID Provider standing for DigiD, the consent page and the redirect back with a
//!   one-time code;
//! - the token endpoint (`/oauth/token`): codes and rotating refresh tokens for access tokens
//!   (the `access-token` crate's format), with client authentication by mutual TLS;
//! - token revocation by PGOs (`/oauth/revoke`, RFC 7009), and the revocations every instance
//!   learns from the database (`revocation_watch.rs`);
//! - the person's consent management (`/oauth/consents`);
//! - discovery (RFC 8414 metadata, SMART configuration, the token-signing keys);
//! - importing the MedMij lists that say who the PGOs are.
//!
//! The BSN from a login lives only long enough to derive the person's keys (`identity`): it is
//! never stored, logged, put in a cookie, or sent to a PGO.

mod authorize_request;
mod directory;
mod endpoints;
mod flow_error;
mod http_client;
mod lists;
mod loa;
mod login;
mod pages;
mod redirect_uri;
pub mod revocation_watch;
mod secrets;
mod server;
mod session;

pub use directory::{Directory, KnownClient};
pub use endpoints::{
    AUTHORIZE_PATH, JWKS_PATH, LOGIN_CALLBACK_PATH, MANAGE_CALLBACK_PATH, REVOKE_PATH, TOKEN_PATH, audit_audience,
    authorization_server_metadata, configure, smart_configuration,
};
pub use flow_error::FlowError;
pub use lists::{ImportError, Imported, import, load_directory};
pub use loa::Loa;
pub use login::{BsnClaim, Login, LoginConfig, LoginError, LoginPageHints, ON_BEHALF_OF_PARAMETER};
pub use server::{AuthorizationConfig, AuthorizationServer, ClientAuthenticator};
