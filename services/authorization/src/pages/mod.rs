//! The person's pages: plain server-rendered HTML (maud escapes everything it is given), usable
//! without JavaScript, in Dutch or English, with labels on every control. Every page is sent with
//! headers that forbid framing (clickjacking), scripts and caching.

mod consent;
mod layout;
mod manage;
mod plain_words;
mod texts;

pub use consent::{ConsentPage, DECISION_PATH, consent_page, landing_page, no_record_page};
pub use layout::{STYLESHEET, STYLESHEET_PATH, error_page, html_response};
pub use manage::{Collection, MANAGE_PATH, ManagedConsent, manage_login_page, manage_page};
pub use plain_words::{data_name, long_date, long_date_time};
pub use texts::{Lang, Words};
