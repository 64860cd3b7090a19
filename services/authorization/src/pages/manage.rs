//! The consent-management pages: log in, then the list of PGOs holding an ongoing consent, each
//! with a revoke button, and which PGOs retrieved which of the person's data, when (from the
//! access log).

use super::layout::page;
use super::texts::Lang;
use maud::{Markup, html};

/// Where the management pages live.
pub const MANAGE_PATH: &str = "/oauth/consents";

/// One consent as listed.
#[derive(Debug, Clone)]
pub struct ManagedConsent {
    /// Its id (the revoke form sends it).
    pub id: i64,
    /// The PGO organisation.
    pub organisation: String,
    /// The PGO's hostname.
    pub client_id: String,
    /// The provider's display name.
    pub provider: String,
    /// The data services' names.
    pub services: Vec<String>,
    /// Given on (a date).
    pub since: String,
    /// Lapses on (a date).
    pub until: String,
}

/// A PGO's retrieval of the person's data.
#[derive(Debug, Clone)]
pub struct Retrieval {
    /// When (date and time).
    pub when: String,
    /// The PGO organisation.
    pub organisation: String,
    /// The PGO's hostname.
    pub client_id: String,
    /// The provider's display name.
    pub provider: String,
    /// The data service's name.
    pub service: String,
    /// How many resources it got.
    pub resources: usize,
    /// Their types.
    pub types: String,
}

fn switch(lang: Lang) -> String {
    format!("{MANAGE_PATH}?lang={}", lang.other().tag())
}

/// The page asking the person to log in first.
pub fn manage_login_page(lang: Lang) -> Markup {
    let texts = lang.texts();
    page(
        lang,
        texts.manage_title,
        Some(&switch(lang)),
        html! {
            p { (texts.manage_intro) }
            p { (texts.manage_login) }
            form method="post" action={ (MANAGE_PATH) "/login" } {
                input type="hidden" name="lang" value=(lang.tag());
                button.primary type="submit" id="login" { (texts.login_button) }
            }
        },
    )
}

/// The list of consents.
pub fn manage_page(
    lang: Lang,
    consents: &[ManagedConsent],
    retrievals: &[Retrieval],
    csrf: &str,
    revoked: bool,
) -> Markup {
    let texts = lang.texts();
    page(
        lang,
        texts.manage_title,
        Some(&switch(lang)),
        html! {
            @if revoked { p.notice role="status" { (texts.revoked) } }
            p { (texts.manage_intro) }
            @if consents.is_empty() {
                p { (texts.manage_none) }
            } @else {
                table {
                    thead { tr {
                        th scope="col" { (texts.manage_pgo) }
                        th scope="col" { (texts.manage_provider) }
                        th scope="col" { (texts.manage_services) }
                        th scope="col" { (texts.manage_since) }
                        th scope="col" { (texts.manage_until) }
                        th scope="col" { span.visually-hidden { (texts.revoke_button) } }
                    } }
                    tbody {
                        @for consent in consents {
                            tr {
                                td { (consent.organisation) br; small { (consent.client_id) } }
                                td { (consent.provider) }
                                td { (consent.services.join(", ")) }
                                td { (consent.since) }
                                td { (consent.until) }
                                td {
                                    form.inline method="post" action={ (MANAGE_PATH) "/revoke" } {
                                        input type="hidden" name="csrf" value=(csrf);
                                        input type="hidden" name="consent" value=(consent.id);
                                        button.secondary type="submit" id={ "revoke-" (consent.id) }
                                            aria-label={ (texts.revoke_button) ": " (consent.organisation) ", " (consent.provider) } {
                                            (texts.revoke_button)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { (texts.history_title) }
            @if retrievals.is_empty() {
                p id="history-none" { (texts.history_none) }
            } @else {
                table id="history" {
                    thead { tr {
                        th scope="col" { (texts.history_when) }
                        th scope="col" { (texts.manage_pgo) }
                        th scope="col" { (texts.manage_provider) }
                        th scope="col" { (texts.manage_services) }
                        th scope="col" { (texts.history_what) }
                    } }
                    tbody {
                        @for retrieval in retrievals {
                            tr {
                                td { (retrieval.when) }
                                td { (retrieval.organisation) br; small { (retrieval.client_id) } }
                                td { (retrieval.provider) }
                                td { (retrieval.service) }
                                td { (retrieval.resources) " " (texts.history_records) @if !retrieval.types.is_empty() { " (" (retrieval.types) ")" } }
                            }
                        }
                    }
                }
            }
            form method="post" action={ (MANAGE_PATH) "/logout" } {
                input type="hidden" name="csrf" value=(csrf);
                button.secondary type="submit" id="logout" { (texts.logout_button) }
            }
        },
    )
}
