//! The consent-management pages: log in, then the list of PGOs holding an ongoing consent (one
//! line per app and provider, each with a revoke button), and which PGOs collected which of the
//! person's data, when (from the access log: one line per collection, the kinds of data on
//! demand, in words a person knows).

use super::layout::page;
use super::plain_words;
use super::texts::{Lang, Words};
use maud::{Markup, html};

/// Where the management pages live.
pub const MANAGE_PATH: &str = "/oauth/consents";

/// A PGO's consent at one provider, as listed: one line per app and provider, however many
/// consents an earlier version of the service stored for them.
#[derive(Debug, Clone)]
pub struct ManagedConsent {
    /// The consents it stands for (the revoke form sends them all).
    pub ids: Vec<i64>,
    /// The PGO organisation.
    pub organisation: String,
    /// The PGO's hostname.
    pub client_id: String,
    /// The provider's display name.
    pub provider: String,
    /// The data services' names.
    pub services: Vec<String>,
    /// Given on (written out).
    pub since: String,
    /// Lapses on (written out).
    pub until: String,
}

/// One collection: a PGO fetching one data service of the person at one provider, in the burst
/// of requests that takes (each request is a line of the access log; the person sees one line).
#[derive(Debug, Clone)]
pub struct Collection {
    /// When it started (written out).
    pub started: String,
    /// The PGO organisation.
    pub organisation: String,
    /// The PGO's hostname.
    pub client_id: String,
    /// The provider's display name.
    pub provider: String,
    /// The data service's name.
    pub service: String,
    /// How many items of the person's data it got (each counted once).
    pub items: usize,
    /// Of which kinds, by the names a person knows, with how many of each.
    pub kinds: Vec<(String, usize)>,
    /// Whether the app sent these to the provider (Delen) rather than collected them.
    pub shared: bool,
}

fn switch(lang: Lang) -> String {
    format!("{MANAGE_PATH}?lang={}", lang.other().tag())
}

/// Consent ids as the revoke form sends them: `3,7`.
fn ids(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
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
    collections: &[Collection],
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
                ul.items id="consents" {
                    @for consent in consents {
                        li {
                            p {
                                strong { (consent.organisation) } " " small { (consent.client_id) } br;
                                (texts.manage_at) " " strong { (consent.provider) } ": " (consent.services.join(", "))
                            }
                            p.dates { (texts.manage_since) " " (consent.since) " · " (texts.manage_until) " " (consent.until) }
                            form.inline method="post" action={ (MANAGE_PATH) "/revoke" } {
                                input type="hidden" name="csrf" value=(csrf);
                                input type="hidden" name="consents" value=(ids(&consent.ids));
                                button.secondary type="submit" id={ "revoke-" (consent.ids.first().copied().unwrap_or_default()) }
                                    aria-label={ (texts.revoke_button) ": " (consent.organisation) ", " (consent.provider) } {
                                    (texts.revoke_button)
                                }
                            }
                        }
                    }
                }
            }
            h2 { (texts.history_title) }
            @if collections.is_empty() {
                p id="history-none" { (texts.history_none) }
            } @else {
                ul.items id="history" {
                    @for collection in collections {
                        li {
                            details {
                                summary {
                                    strong { (collection.started) } br;
                                    @if collection.shared {
                                        (collection.organisation) " " (texts.history_shared) " "
                                        (plain_words::items(collection.items, lang)) " " (texts.history_shared_of) " "
                                        (collection.service) " " (texts.history_shared_with) " " (collection.provider)
                                    } @else {
                                        (collection.organisation) " " (texts.history_collected) " "
                                        (plain_words::items(collection.items, lang)) " " (texts.history_of) " "
                                        (collection.service) " " (texts.history_from) " " (collection.provider)
                                    }
                                }
                                p { (texts.history_detail) }
                                ul {
                                    @for (kind, count) in &collection.kinds {
                                        li { (kind) ": " (count) }
                                    }
                                }
                                p { small { (collection.client_id) } }
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
