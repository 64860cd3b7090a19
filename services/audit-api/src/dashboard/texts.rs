//! The words of the dashboard, in Dutch (the default: MedMij is Dutch, as are the person's pages)
//! and English. A sentence with a number or a name in it is a function of the language, because
//! the two languages put the parts in different orders.

use super::locale::Plural;
pub(crate) use ui_language::Lang;

ui_language::words!(pub(crate) Texts, NL, EN);

/// Every text of the dashboard.
#[derive(Debug)]
pub(crate) struct Texts {
    /// The link to the page in the other language, written in that language.
    pub(crate) switch_label: &'static str,
    pub(crate) brand: &'static str,
    pub(crate) sign_in_title: &'static str,
    pub(crate) sign_in_intro: &'static str,
    pub(crate) client_id_label: &'static str,
    pub(crate) secret_label: &'static str,
    pub(crate) sign_in_button: &'static str,
    pub(crate) error_origin: &'static str,
    pub(crate) error_credentials: &'static str,
    /// Too many failed sign-ins; try again after this many seconds.
    pub(crate) error_throttled: fn(&str) -> String,
    /// `1 second`, `30 seconds`.
    pub(crate) seconds: Plural,
    pub(crate) error_title: &'static str,
    pub(crate) error_year: &'static str,
    pub(crate) error_unavailable: &'static str,
    pub(crate) back_to_dashboard: &'static str,
    pub(crate) dashboard_title: &'static str,
    pub(crate) signed_in_as: &'static str,
    pub(crate) year_label: &'static str,
    pub(crate) show_button: &'static str,
    /// The chart's heading for a year.
    pub(crate) chart_heading: fn(i32) -> String,
    pub(crate) chart_title: &'static str,
    pub(crate) legend_label: &'static str,
    /// `1 new unique user`, `2 new unique users`.
    pub(crate) new_users: Plural,
    /// `2 new unique users` and `€15.00` due in a year.
    pub(crate) totals: fn(&str, &str, i32) -> String,
    /// A PGO's new users in a period (a bar segment's tooltip).
    pub(crate) segment: fn(&str, &str, &str) -> String,
    pub(crate) no_users: fn(i32) -> String,
    pub(crate) table_caption: fn(i32) -> String,
    pub(crate) column_pgo: &'static str,
    pub(crate) column_users: &'static str,
    pub(crate) column_amount: &'static str,
    pub(crate) reports_heading: &'static str,
    /// Before the command that checks a saved report.
    pub(crate) reports_intro: &'static str,
    /// The command's argument: the saved report.
    pub(crate) report_file: &'static str,
    pub(crate) sign_out_button: &'static str,
    /// Months, short (the chart's axis, the table's columns) and long (the list of reports).
    pub(crate) months_short: [&'static str; 12],
    /// The letter before a quarter's number (`Q1`).
    pub(crate) quarter_letter: &'static str,
    /// Digits in groups of three, and the decimal sign.
    pub(crate) group_separator: char,
    pub(crate) decimal_separator: char,
}

static NL: Texts = Texts {
    switch_label: "English",
    brand: "pgo-exchange · audit",
    sign_in_title: "Inloggen",
    sign_in_intro: "Auditors loggen in met de client-id en het geheim die voor hen in deze dienst zijn ingesteld.",
    client_id_label: "Client-id",
    secret_label: "Geheim",
    sign_in_button: "Inloggen",
    error_origin: "Dit formulier moet worden verstuurd vanaf de eigen pagina van deze dienst.",
    error_credentials: "De client-id of het geheim klopt niet.",
    error_throttled: |seconds| format!("Te veel mislukte inlogpogingen. Probeer het over {seconds} opnieuw."),
    seconds: Plural { one: "seconde", other: "seconden" },
    error_title: "Dit verzoek kan niet worden uitgevoerd",
    error_year: "Het jaar moet een jaartal zijn, zoals 2026.",
    error_unavailable: "Het dashboard is nu niet beschikbaar. Probeer het later opnieuw.",
    back_to_dashboard: "Terug naar het dashboard",
    dashboard_title: "Gebruiksoverzicht",
    signed_in_as: "Ingelogd als",
    year_label: "Jaar",
    show_button: "Tonen",
    chart_heading: |year| format!("Nieuwe unieke gebruikers per PGO in {year}"),
    chart_title: "Nieuwe unieke gebruikers per PGO per periode",
    legend_label: "Legenda",
    new_users: Plural { one: "nieuwe unieke gebruiker", other: "nieuwe unieke gebruikers" },
    totals: |users, amount, year| format!("{users}, {amount} te betalen over {year}."),
    segment: |client, users, period| format!("{client}: {users} in {period}"),
    no_users: |year| format!("In {year} had geen enkele PGO nieuwe gebruikers."),
    table_caption: |year| format!("Nieuwe unieke gebruikers per PGO per periode in {year}, en het te betalen bedrag"),
    column_pgo: "PGO",
    column_users: "Gebruikers",
    column_amount: "Bedrag",
    reports_heading: "Ondertekende rapporten",
    reports_intro: "Elk rapport is ondertekend door de dienst (JWS). Controleer een opgeslagen rapport met",
    report_file: "BESTAND",
    sign_out_button: "Uitloggen",
    months_short: ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"],
    quarter_letter: "K",
    group_separator: '.',
    decimal_separator: ',',
};

static EN: Texts = Texts {
    switch_label: "Nederlands",
    brand: "pgo-exchange · audit",
    sign_in_title: "Sign in",
    sign_in_intro: "Auditors sign in with the client id and secret configured for them in this service.",
    client_id_label: "Client id",
    secret_label: "Secret",
    sign_in_button: "Sign in",
    error_origin: "This form must be sent from this service's own page.",
    error_credentials: "The client id or secret is not right.",
    error_throttled: |seconds| format!("Too many sign-ins failed. Try again in {seconds}."),
    seconds: Plural { one: "second", other: "seconds" },
    error_title: "This request cannot be carried out",
    error_year: "The year must be a year such as 2026.",
    error_unavailable: "The dashboard is not available right now. Try again later.",
    back_to_dashboard: "Back to the dashboard",
    dashboard_title: "Usage dashboard",
    signed_in_as: "Signed in as",
    year_label: "Year",
    show_button: "Show",
    chart_heading: |year| format!("New unique users per PGO in {year}"),
    chart_title: "New unique users per PGO per period",
    legend_label: "Legend",
    new_users: Plural { one: "new unique user", other: "new unique users" },
    totals: |users, amount, year| format!("{users}, {amount} due for {year}."),
    segment: |client, users, period| format!("{client}: {users} in {period}"),
    no_users: |year| format!("No PGO had new users in {year}."),
    table_caption: |year| format!("New unique users per PGO per period in {year}, and the amount due"),
    column_pgo: "PGO",
    column_users: "Users",
    column_amount: "Amount",
    reports_heading: "Signed reports",
    reports_intro: "Each report is signed by the service (JWS). Check a saved one with",
    report_file: "FILE",
    sign_out_button: "Sign out",
    months_short: ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    quarter_letter: "Q",
    group_separator: ',',
    decimal_separator: '.',
};
