//! The pages of a PGO's request: the landing page (who asks what, log in), the consent page (or,
//! for sharing, the confirmation page) and the page for a person the provider has no record of.

use super::layout::page;
use super::manage::MANAGE_PATH;
use super::texts::{Lang, Words};
use maud::{Markup, html};

/// Where the forms of these pages post.
pub const DECISION_PATH: &str = "/oauth/decision";

/// What the pages say about the request.
#[derive(Debug, Clone)]
pub struct ConsentPage<'a> {
    /// The language.
    pub lang: Lang,
    /// The PGO organisation (OAuth Client List).
    pub organisation: &'a str,
    /// The PGO's hostname.
    pub client_id: &'a str,
    /// The provider's display name.
    pub provider: &'a str,
    /// The data services' names (data-service name list).
    pub services: Vec<String>,
    /// Whether the PGO will send data (Delen) rather than collect it.
    pub sharing: bool,
    /// The CSRF token of the session.
    pub csrf: &'a str,
    /// The page's own path, for the language switch.
    pub path: &'a str,
}

fn switch(request: &ConsentPage<'_>) -> String {
    format!("{}?lang={}", request.path, request.lang.other().tag())
}

fn who(request: &ConsentPage<'_>) -> Markup {
    html! { strong { (request.organisation) } " (" (request.client_id) ")" }
}

fn services(request: &ConsentPage<'_>) -> Markup {
    html! { ul { @for name in &request.services { li { (name) } } } }
}

fn decision_form(csrf: &str, buttons: Markup) -> Markup {
    html! {
        form method="post" action=(DECISION_PATH) {
            input type="hidden" name="csrf" value=(csrf);
            div.actions { (buttons) }
        }
    }
}

/// The landing page: the PGO, the provider, the data (to collect, or to share); log in or cancel.
pub fn landing_page(request: &ConsentPage<'_>) -> Markup {
    let texts = request.lang.texts();
    let (title, intro) = if request.sharing {
        (texts.landing_share_title, texts.landing_share_intro)
    } else {
        (texts.landing_title, texts.landing_intro)
    };
    page(
        request.lang,
        title,
        Some(&switch(request)),
        html! {
            p { (who(request)) " " (intro) " " strong { (request.provider) } "." }
            p { (texts.landing_services) }
            (services(request))
            div.actions {
                form method="get" action="/oauth/login" {
                    button.primary type="submit" id="login" { (texts.login_button) }
                }
                form method="post" action=(DECISION_PATH) {
                    input type="hidden" name="csrf" value=(request.csrf);
                    button.secondary type="submit" name="decision" value="deny" id="cancel" { (texts.cancel_button) }
                }
            }
        },
    )
}

/// The consent page (collecting) or confirmation page (sharing).
pub fn consent_page(request: &ConsentPage<'_>) -> Markup {
    let texts = request.lang.texts();
    let (title, intro, yes) = if request.sharing {
        (texts.share_title, texts.share_intro, texts.share_button)
    } else {
        (texts.consent_title, texts.consent_intro, texts.allow_button)
    };
    page(
        request.lang,
        title,
        Some(&switch(request)),
        html! {
            p { (who(request)) }
            p { (intro) " " strong { (request.provider) } "?" }
            (services(request))
            @if !request.sharing {
                // The management page opens beside the flow, which the person can still finish.
                p {
                    (texts.consent_duration) " " (texts.consent_manage_before) " "
                    a id="manage-link" href={ (MANAGE_PATH) "?lang=" (request.lang.tag()) } target="_blank" rel="noopener" {
                        (texts.manage_title)
                    } "."
                }
            }
            (decision_form(request.csrf, html! {
                button.primary type="submit" name="decision" value="allow" id="allow" { (yes) }
                button.secondary type="submit" name="decision" value="deny" id="deny" { (texts.deny_button) }
            }))
        },
    )
}

/// The page for a person the provider holds no record of.
pub fn no_record_page(request: &ConsentPage<'_>) -> Markup {
    let texts = request.lang.texts();
    page(
        request.lang,
        texts.no_record_title,
        Some(&switch(request)),
        html! {
            p.notice role="status" { (texts.no_record_text) }
            (decision_form(request.csrf, html! {
                button.primary type="submit" name="decision" value="deny" id="back" { (texts.back_button) }
            }))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(lang: Lang, sharing: bool) -> ConsentPage<'static> {
        ConsentPage {
            lang,
            organisation: "PGO <script>alert(1)</script>",
            client_id: "pgo.example.nl",
            provider: "UMC X",
            services: vec!["Meetwaarden vitale functies".into()],
            sharing,
            csrf: "token-1",
            path: "/oauth/consent",
        }
    }

    #[test]
    fn collecting_asks_consent_and_sharing_asks_confirmation() {
        let collect = consent_page(&request(Lang::Nl, false)).into_string();
        assert!(collect.contains("Toestemming geven") && collect.contains("zes maanden"));
        let share = consent_page(&request(Lang::Nl, true)).into_string();
        assert!(share.contains("Gegevens delen bevestigen") && share.contains("Ja, delen"));
        assert!(!share.contains("zes maanden"), "a share is one act, not an ongoing consent");
    }

    #[test]
    fn the_landing_page_says_whether_the_app_collects_or_shares() {
        let collect = landing_page(&request(Lang::Nl, false)).into_string();
        assert!(collect.contains("wil uw gegevens ophalen bij") && !collect.contains("delen met"));
        let share = landing_page(&request(Lang::Nl, true)).into_string();
        assert!(share.contains("Een app wil uw gegevens delen") && share.contains("wil uw gegevens delen met"));
        assert!(!share.contains("ophalen"), "{share}");
        let english = landing_page(&request(Lang::En, true)).into_string();
        assert!(english.contains("wants to share your data with"));
    }

    #[test]
    fn pages_are_in_the_chosen_language_and_escape_what_they_show() {
        let english = consent_page(&request(Lang::En, false)).into_string();
        assert!(english.contains("<html lang=\"en\">") && english.contains("Give consent"));
        assert!(english.contains("href=\"/oauth/consent?lang=nl\""), "a switch back to Dutch");
        assert!(!english.contains("<script>"), "names from the lists are escaped");
        assert!(english.contains("name=\"csrf\" value=\"token-1\""));
    }
}
