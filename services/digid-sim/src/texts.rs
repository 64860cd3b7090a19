//! The words on the simulator's pages, in Dutch (the default, as DigiD's own) and English. The
//! language comes from the relying party's `ui_locales` (OIDC Core §3.1.2.1): the first tag in it
//! whose language the pages have.

pub(crate) use ui_language::Lang;

ui_language::words!(pub(crate) Texts, NL, EN);

/// Every text of the pages. Those with `<strong>` are HTML; the others are plain text.
#[derive(Debug)]
pub(crate) struct Texts {
    pub(crate) title: &'static str,
    pub(crate) error_prefix: &'static str,
    /// HTML: the warning that this is not DigiD, on the login page.
    pub(crate) test_notice: &'static str,
    /// HTML: the same, short, on the error page.
    pub(crate) test_notice_short: &'static str,
    pub(crate) log_in_for: &'static str,
    pub(crate) requested_scope: &'static str,
    pub(crate) bsn_label: &'static str,
    pub(crate) bsn_hint: &'static str,
    pub(crate) loa_label: &'static str,
    /// The levels of assurance, low, substantial, high.
    pub(crate) levels: [&'static str; 3],
    pub(crate) log_in: &'static str,
    pub(crate) cancel: &'static str,
    pub(crate) invalid_request: &'static str,
    pub(crate) not_sent_back: &'static str,
    pub(crate) bsn_empty: &'static str,
    pub(crate) bsn_not_nine_digits: &'static str,
    pub(crate) bsn_fails_eleven_test: &'static str,
    pub(crate) missing_client_id: &'static str,
    pub(crate) unknown_client: &'static str,
    pub(crate) missing_redirect_uri: &'static str,
    pub(crate) unregistered_redirect_uri: &'static str,
    pub(crate) request_expired: &'static str,
    pub(crate) request_done: &'static str,
    pub(crate) unknown_level: &'static str,
    pub(crate) too_many_logins: &'static str,
    pub(crate) bad_redirect_uri: &'static str,
}

const NL: Texts = Texts {
    title: "DigiD simulator (testinlog)",
    error_prefix: "Fout: ",
    test_notice: "<strong>Testomgeving.</strong> Dit is niet de echte DigiD maar een simulator voor ontwikkeling en \
                  testen. Gebruik alleen test-BSN's.",
    test_notice_short: "<strong>Testomgeving.</strong> Dit is niet de echte DigiD.",
    log_in_for: "Inloggen voor",
    requested_scope: "Gevraagd (scope):",
    bsn_label: "BSN (burgerservicenummer)",
    bsn_hint: "Negen cijfers die voldoen aan de elfproef, bijvoorbeeld 999911120.",
    loa_label: "Betrouwbaarheidsniveau",
    levels: ["Laag (low)", "Substantieel (substantial)", "Hoog (high)"],
    log_in: "Inloggen",
    cancel: "Annuleren",
    invalid_request: "Deze inlogaanvraag is ongeldig",
    not_sent_back: "U wordt niet teruggestuurd naar de website die deze aanvraag deed.",
    bsn_empty: "Vul een BSN in.",
    bsn_not_nine_digits: "Een BSN bestaat uit negen cijfers.",
    bsn_fails_eleven_test: "Dit BSN is ongeldig: het voldoet niet aan de elfproef.",
    missing_client_id: "De parameter client_id ontbreekt.",
    unknown_client: "Deze client is onbekend:",
    missing_redirect_uri: "De parameter redirect_uri ontbreekt.",
    unregistered_redirect_uri: "Deze redirect_uri is niet geregistreerd voor de client:",
    request_expired: "Deze inlogaanvraag is verlopen of al afgehandeld. Begin opnieuw bij de website die u \
                      hierheen stuurde.",
    request_done: "Deze inlogaanvraag is al afgehandeld.",
    unknown_level: "Onbekend betrouwbaarheidsniveau.",
    too_many_logins: "Te veel openstaande inlogpogingen; probeer het later opnieuw.",
    bad_redirect_uri: "Ongeldige redirect_uri.",
};

const EN: Texts = Texts {
    title: "DigiD simulator (test login)",
    error_prefix: "Error: ",
    test_notice: "<strong>Test environment.</strong> This is not the real DigiD but a simulator for development \
                  and testing. Use test BSNs only.",
    test_notice_short: "<strong>Test environment.</strong> This is not the real DigiD.",
    log_in_for: "Log in for",
    requested_scope: "Requested (scope):",
    bsn_label: "BSN (citizen service number)",
    bsn_hint: "Nine digits that pass the 11-test (elfproef), for example 999911120.",
    loa_label: "Level of assurance",
    levels: ["Low", "Substantial", "High"],
    log_in: "Log in",
    cancel: "Cancel",
    invalid_request: "This login request is invalid",
    not_sent_back: "You are not sent back to the website that made this request.",
    bsn_empty: "Enter a BSN.",
    bsn_not_nine_digits: "A BSN has nine digits.",
    bsn_fails_eleven_test: "This BSN is invalid: it does not pass the 11-test.",
    missing_client_id: "The parameter client_id is missing.",
    unknown_client: "This client is unknown:",
    missing_redirect_uri: "The parameter redirect_uri is missing.",
    unregistered_redirect_uri: "This redirect_uri is not registered for the client:",
    request_expired: "This login request has expired or was already handled. Start again at the website that \
                      sent you here.",
    request_done: "This login request was already handled.",
    unknown_level: "Unknown level of assurance.",
    too_many_logins: "Too many logins in progress; try again later.",
    bad_redirect_uri: "Invalid redirect_uri.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_locales_choose_the_words_and_dutch_is_the_default() {
        assert_eq!(Lang::from_param(Some("de en-GB")).texts().bsn_label, EN.bsn_label);
        assert_eq!(Lang::from_param(None).texts().bsn_label, NL.bsn_label);
        assert_ne!(NL.bsn_label, EN.bsn_label);
    }
}
