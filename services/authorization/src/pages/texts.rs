//! The words on the pages, in Dutch (the default) and English.

use serde::{Deserialize, Serialize};

/// A language of the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Lang {
    /// Nederlands.
    #[default]
    Nl,
    /// English.
    En,
}

impl Lang {
    /// From a `lang` or `ui_locales` parameter (`nl`, `en`, `en-GB`, or a space-separated list
    /// in order of preference): the first language the pages have; Dutch otherwise.
    pub fn from_param(value: Option<&str>) -> Lang {
        let preferred = value.unwrap_or_default().split(' ').map(|tag| tag.split('-').next().unwrap_or_default());
        for tag in preferred {
            match tag.to_ascii_lowercase().as_str() {
                "en" => return Lang::En,
                "nl" => return Lang::Nl,
                _ => {}
            }
        }
        Lang::Nl
    }

    /// The BCP 47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Nl => "nl",
            Lang::En => "en",
        }
    }

    /// The other language (the page offers a switch to it).
    pub fn other(self) -> Lang {
        match self {
            Lang::Nl => Lang::En,
            Lang::En => Lang::Nl,
        }
    }

    /// The texts.
    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Nl => &NL,
            Lang::En => &EN,
        }
    }
}

/// Every text of the pages.
#[derive(Debug)]
pub struct Texts {
    pub switch_label: &'static str,
    pub service_name: &'static str,
    pub landing_title: &'static str,
    pub landing_intro: &'static str,
    pub landing_services: &'static str,
    pub login_button: &'static str,
    pub cancel_button: &'static str,
    pub consent_title: &'static str,
    pub consent_intro: &'static str,
    pub consent_duration: &'static str,
    pub share_title: &'static str,
    pub share_intro: &'static str,
    pub allow_button: &'static str,
    pub share_button: &'static str,
    pub deny_button: &'static str,
    pub no_record_title: &'static str,
    pub no_record_text: &'static str,
    pub back_button: &'static str,
    pub error_title: &'static str,
    pub error_unknown_client: &'static str,
    pub error_redirect_uri: &'static str,
    pub error_session: &'static str,
    pub error_login: &'static str,
    pub error_unavailable: &'static str,
    pub manage_title: &'static str,
    pub manage_intro: &'static str,
    pub manage_login: &'static str,
    pub manage_none: &'static str,
    pub manage_since: &'static str,
    pub manage_until: &'static str,
    pub revoke_button: &'static str,
    pub revoked: &'static str,
    pub logout_button: &'static str,
    pub history_title: &'static str,
    pub history_none: &'static str,
    pub manage_at: &'static str,
    pub history_collected: &'static str,
    pub history_of: &'static str,
    pub history_from: &'static str,
    pub history_detail: &'static str,
    pub consent_manage_before: &'static str,
}

static NL: Texts = Texts {
    switch_label: "English",
    service_name: "Toegang tot uw gezondheidsgegevens",
    landing_title: "Een app vraagt om uw gegevens",
    landing_intro: "wil uw gegevens ophalen bij",
    landing_services: "Het gaat om:",
    login_button: "Inloggen met DigiD",
    cancel_button: "Annuleren",
    consent_title: "Toestemming geven",
    consent_intro: "Geeft u toestemming dat deze app de volgende gegevens ophaalt bij",
    consent_duration: "Uw toestemming geldt tot u haar intrekt, of tot de app haar zes maanden niet heeft gebruikt.",
    share_title: "Gegevens delen bevestigen",
    share_intro: "Wilt u dat deze app uw gegevens deelt met",
    allow_button: "Ja, ik geef toestemming",
    share_button: "Ja, delen",
    deny_button: "Nee",
    no_record_title: "Geen gegevens gevonden",
    no_record_text: "Deze zorgaanbieder heeft geen gegevens van u. Er is niets gedeeld. U gaat terug naar de app.",
    back_button: "Terug naar de app",
    error_title: "Dit verzoek kan niet worden uitgevoerd",
    error_unknown_client: "De app die u hierheen stuurde is niet bekend. Ga terug en probeer het opnieuw, of neem contact op met de maker van de app.",
    error_redirect_uri: "De app gaf een ongeldig terugkeeradres op. Om u te beschermen sturen wij u daar niet heen.",
    error_session: "Uw sessie is verlopen of ongeldig. Begin opnieuw in de app.",
    error_login: "Het inloggen is niet gelukt. Begin opnieuw.",
    error_unavailable: "Inloggen is nu niet mogelijk. Probeer het later opnieuw.",
    manage_title: "Mijn toestemmingen",
    manage_intro: "Hier ziet u welke apps uw gegevens mogen blijven ophalen, en kunt u die toestemming intrekken.",
    manage_login: "Log in met DigiD om uw toestemmingen te zien.",
    manage_none: "Er zijn geen apps met een doorlopende toestemming.",
    manage_since: "Sinds",
    manage_until: "Geldig tot",
    revoke_button: "Intrekken",
    revoked: "De toestemming is ingetrokken.",
    history_title: "Wie heeft uw gegevens opgehaald",
    history_none: "Er zijn nog geen gegevens van u opgehaald.",
    manage_at: "bij",
    history_collected: "haalde",
    history_of: "op uit",
    history_from: "bij",
    history_detail: "Welke gegevens:",
    consent_manage_before: "U kunt haar altijd intrekken op de pagina",
    logout_button: "Uitloggen",
};

static EN: Texts = Texts {
    switch_label: "Nederlands",
    service_name: "Access to your health data",
    landing_title: "An app asks for your data",
    landing_intro: "wants to collect your data from",
    landing_services: "This concerns:",
    login_button: "Log in with DigiD",
    cancel_button: "Cancel",
    consent_title: "Give consent",
    consent_intro: "Do you consent to this app collecting the following data from",
    consent_duration: "Your consent holds until you revoke it, or until the app has not used it for six months.",
    share_title: "Confirm sharing",
    share_intro: "Do you want this app to share your data with",
    allow_button: "Yes, I consent",
    share_button: "Yes, share",
    deny_button: "No",
    no_record_title: "No data found",
    no_record_text: "This provider holds no data about you. Nothing was shared. You will return to the app.",
    back_button: "Back to the app",
    error_title: "This request cannot be carried out",
    error_unknown_client: "The app that sent you here is not known. Go back and try again, or contact the app's maker.",
    error_redirect_uri: "The app gave an invalid return address. To protect you, we do not send you there.",
    error_session: "Your session has expired or is invalid. Start again in the app.",
    error_login: "The login did not succeed. Start again.",
    error_unavailable: "Logging in is not possible right now. Try again later.",
    manage_title: "My consents",
    manage_intro: "Here you see which apps may keep collecting your data, and you can revoke that consent.",
    manage_login: "Log in with DigiD to see your consents.",
    manage_none: "No app holds an ongoing consent.",
    manage_since: "Since",
    manage_until: "Valid until",
    revoke_button: "Revoke",
    revoked: "The consent was revoked.",
    history_title: "Who retrieved your data",
    history_none: "No data of yours has been retrieved yet.",
    manage_at: "at",
    history_collected: "collected",
    history_of: "of",
    history_from: "from",
    history_detail: "Which data:",
    consent_manage_before: "You can revoke it at any time on the page",
    logout_button: "Log out",
};
