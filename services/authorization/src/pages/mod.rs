//! The person's pages: plain server-rendered HTML (maud escapes everything it is given), usable
//! without JavaScript, in Dutch or English, with labels on every control. Every page is sent with
//! headers that forbid framing (clickjacking), scripts and caching.

mod consent;
mod layout;
mod manage;
mod texts;

pub use consent::{ConsentPage, DECISION_PATH, consent_page, landing_page, no_record_page};
pub use layout::{STYLESHEET, STYLESHEET_PATH, error_page, html_response};
pub use manage::{MANAGE_PATH, ManagedConsent, Retrieval, manage_login_page, manage_page};
pub use texts::Lang;
