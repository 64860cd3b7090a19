//! The dashboard's pages in each language: what they say, how they count, where they link.

use super::*;

fn usage() -> YearUsage {
    let periods = Period::of_year(Granularity::Month, 2026);
    let mut clients = BTreeMap::new();
    let mut one = vec![(0, 0); 12];
    one[2] = (1, 750);
    let mut two = vec![(0, 0); 12];
    two[0] = (2, 1500);
    clients.insert("one.example".to_owned(), one);
    clients.insert("two.example".to_owned(), two);
    YearUsage { periods, clients }
}

fn render(lang: Lang, usage: &YearUsage) -> String {
    let session = Session { auditor: "nza".to_owned(), csrf: "csrf-token".to_owned(), lang };
    dashboard_page(lang, &DashboardView { name: "Example auditor", session: &session, year: 2026, usage }).into_string()
}

#[test]
fn the_language_comes_from_lang_before_ui_locales_and_is_dutch_otherwise() {
    let asked = |pairs: &[(&str, &str)]| {
        asked_lang(&pairs.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect())
    };
    assert_eq!(asked(&[]), None);
    assert_eq!(asked(&[("lang", "en")]), Some(Lang::En));
    assert_eq!(asked(&[("lang", "EN-gb")]), Some(Lang::En));
    assert_eq!(asked(&[("ui_locales", "de en nl")]), Some(Lang::En));
    assert_eq!(asked(&[("lang", "nl"), ("ui_locales", "en")]), Some(Lang::Nl));
    assert_eq!(asked(&[("lang", "fr"), ("ui_locales", "en")]), Some(Lang::En), "lang names none we have");
    assert_eq!(asked(&[("lang", "fr")]), None);
    assert_eq!(Lang::default(), Lang::Nl);
}

#[test]
fn the_sign_in_page_is_dutch_with_a_switch_to_english_that_the_form_keeps() {
    let dutch = login_form(Lang::Nl, Some(Lang::Nl.texts().error_credentials)).into_string();
    assert!(dutch.contains("<html lang=\"nl\">"), "{dutch}");
    for expected in ["<title>Inloggen · pgo-exchange", "Client-id", "Geheim", "De client-id of het geheim klopt niet."]
    {
        assert!(dutch.contains(expected), "{expected:?} in {dutch}");
    }
    assert!(dutch.contains("href=\"/audit/login?lang=en\" lang=\"en\" hreflang=\"en\""), "{dutch}");
    assert!(dutch.contains("<input type=\"hidden\" name=\"lang\" value=\"nl\">"), "{dutch}");
    assert!(!dutch.contains("Sign in") && !dutch.contains("Secret"), "no English left: {dutch}");

    let english = login_form(Lang::En, None).into_string();
    assert!(english.contains("<html lang=\"en\">") && english.contains(">Sign in</button>"), "{english}");
    assert!(english.contains("href=\"/audit/login?lang=nl\"") && english.contains(">Nederlands</a>"));
    assert!(english.contains("name=\"lang\" value=\"en\"") && !english.contains("Inloggen"), "{english}");
}

#[test]
fn the_dashboard_in_dutch_writes_plurals_amounts_and_months_the_dutch_way() {
    let page = render(Lang::Nl, &usage());
    assert!(page.contains("<html lang=\"nl\">"));
    assert!(page.contains("3 nieuwe unieke gebruikers, €\u{a0}22,50 te betalen over 2026."), "{page}");
    assert!(page.contains("one.example: 1 nieuwe unieke gebruiker</li>"), "{page}");
    assert!(page.contains("two.example: 2 nieuwe unieke gebruikers</li>"), "{page}");
    assert!(page.contains("<abbr title=\"maart 2026\">mrt</abbr>"), "{page}");
    assert!(page.contains("<td class=\"number\">€\u{a0}15,00</td>"), "{page}");
    assert!(page.contains("href=\"/audit/dashboard?year=2026&amp;lang=en\""), "the switch keeps the year");
    assert!(page.contains(">Uitloggen</button>") && page.contains("name=\"lang\" value=\"nl\""), "{page}");
    for english in ["Sign out", "Signed in as", "new unique", "Amount", "due", "EUR", "Mar"] {
        assert!(!page.contains(english), "{english:?} on the Dutch page: {page}");
    }
}

#[test]
fn the_dashboard_in_english_writes_plurals_amounts_and_months_the_english_way() {
    let page = render(Lang::En, &usage());
    assert!(page.contains("<html lang=\"en\">"));
    assert!(page.contains("3 new unique users, €22.50 due for 2026."), "{page}");
    assert!(page.contains("one.example: 1 new unique user</li>"), "{page}");
    assert!(page.contains("two.example: 2 new unique users</li>"), "{page}");
    assert!(page.contains("<abbr title=\"March 2026\">Mar</abbr>") && page.contains("March 2026: "), "{page}");
    assert!(page.contains("href=\"/audit/dashboard?year=2026&amp;lang=nl\""));
    for dutch in ["Uitloggen", "Ingelogd", "gebruiker", "Bedrag", "te betalen", "mrt"] {
        assert!(!page.contains(dutch), "{dutch:?} on the English page: {page}");
    }
}

#[test]
fn a_total_of_one_user_is_singular_and_none_is_said_in_words() {
    let mut single = usage();
    single.clients.remove("two.example");
    assert!(render(Lang::Nl, &single).contains("1 nieuwe unieke gebruiker, €\u{a0}7,50 te betalen over 2026."));
    assert!(render(Lang::En, &single).contains("1 new unique user, €7.50 due for 2026."));
    let empty = YearUsage { periods: Period::of_year(Granularity::Month, 2026), clients: BTreeMap::new() };
    let dutch = render(Lang::Nl, &empty);
    assert!(dutch.contains("0 nieuwe unieke gebruikers, €\u{a0}0,00 te betalen over 2026."), "{dutch}");
    assert!(dutch.contains("In 2026 had geen enkele PGO nieuwe gebruikers.") && !dutch.contains("id=\"usage\""));
    assert!(render(Lang::En, &empty).contains("No PGO had new users in 2026."));
}

#[test]
fn the_table_scrolls_in_its_own_box() {
    let page = render(Lang::Nl, &usage());
    let scrolling = "<div class=\"scroll\" role=\"region\" aria-labelledby=\"usage-caption\" tabindex=\"0\">";
    assert!(page.contains(&format!("{scrolling}<table id=\"usage\" aria-labelledby=\"usage-caption\">")), "{page}");
    assert!(
        page.contains("<p class=\"caption\" id=\"usage-caption\">Nieuwe unieke gebruikers per PGO per periode in 2026")
    );
    assert!(STYLESHEET.contains(".scroll {") && STYLESHEET.contains("overflow-x: auto"));
}

#[test]
fn every_text_is_there_in_both_languages() {
    for lang in [Lang::Nl, Lang::En] {
        let texts = lang.texts();
        let words = [
            texts.switch_label,
            texts.sign_in_title,
            texts.sign_in_intro,
            texts.client_id_label,
            texts.secret_label,
            texts.sign_in_button,
            texts.error_origin,
            texts.error_credentials,
            texts.error_title,
            texts.error_year,
            texts.error_unavailable,
            texts.back_to_dashboard,
            texts.dashboard_title,
            texts.signed_in_as,
            texts.year_label,
            texts.show_button,
            texts.chart_title,
            texts.legend_label,
            texts.column_users,
            texts.column_amount,
            texts.reports_heading,
            texts.reports_intro,
            texts.report_file,
            texts.sign_out_button,
        ];
        assert!(words.iter().all(|word| !word.trim().is_empty()), "{lang:?}");
        assert!(texts.months_short.iter().all(|month| !month.is_empty()));
    }
    let (nl, en) = (Lang::Nl.texts(), Lang::En.texts());
    assert_ne!(nl.sign_in_intro, en.sign_in_intro);
    assert_eq!(
        (nl.error_throttled)(&Lang::Nl.count(1, &nl.seconds)),
        "Te veel mislukte inlogpogingen. Probeer het over 1 seconde opnieuw."
    );
    assert_eq!(
        (en.error_throttled)(&Lang::En.count(30, &en.seconds)),
        "Too many sign-ins failed. Try again in 30 seconds."
    );
    assert_eq!(
        (en.error_throttled)(&Lang::En.count(1, &en.seconds)),
        "Too many sign-ins failed. Try again in 1 second."
    );
}
