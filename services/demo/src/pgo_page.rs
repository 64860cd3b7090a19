//! The demo PGO's pages: their frame, their stylesheet and the result page. The PGO is another
//! party than the service, so it has a look of its own (a file of its own origin, so that the
//! Content-Security-Policy can forbid inline styles). The result page fits any window: its table
//! has fixed columns that wrap their text (long queries break anywhere, with their full text
//! kept) and becomes one block per query on a narrow screen, each value under its column's name.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use maud::{DOCTYPE, Markup, html};

/// Where the demo PGO's stylesheet is served.
pub(crate) const STYLESHEET_PATH: &str = "/demo-pgo/style.css";

/// The stylesheet. The columns' widths are set on the header cells only (a fixed table takes
/// them from its first row), so that they are gone with the hidden header below 48rem, where the
/// rows become blocks and each cell shows its column's name (`data-label`): no column is cut off
/// on a phone. `overflow-wrap:anywhere` lets a query or a resource id break where it must.
const STYLESHEET: &str = "\
body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}\
header{border-bottom:1px solid #ccc;margin-bottom:1rem}\
h2{margin-top:2rem;margin-bottom:.5rem}\
.secondary{font-weight:normal;font-size:.9rem;color:#555}\
fieldset{margin-bottom:1rem;border:1px solid #ccc}\
button{font-size:1rem;padding:.5rem 1rem;margin:.5rem .5rem .25rem 0;cursor:pointer}\
button.primary{background:#154273;color:#fff;border:1px solid #154273}\
.notice{background:#eef6ee;border-left:4px solid #3a7d44;padding:.5rem 1rem}\
code{overflow-wrap:anywhere}\
table.results{border-collapse:collapse;width:100%;table-layout:fixed}\
table.results th,table.results td{text-align:left;vertical-align:top;padding:.25rem .5rem;border-bottom:1px solid #ddd;\
overflow-wrap:anywhere}\
table.results th.query{width:40%}\
table.results th.status{width:7rem}\
table.results th.total{width:5rem}\
table.results ul{margin:0;padding-left:1.1rem}\
@media (max-width:48rem){\
table.results thead{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}\
table.results,table.results tbody,table.results tr,table.results td{display:block;width:auto}\
table.results tr{border-bottom:2px solid #bbb;padding:.5rem 0}\
table.results td{border:0;padding:.1rem 0}\
table.results td::before{content:attr(data-label) \": \";font-weight:bold}\
}\
:focus{outline:3px solid #ffbf47}";

/// `GET /demo-pgo/style.css`.
pub(crate) async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(STYLESHEET)
}

/// A page of the demo PGO with `title` as its heading.
pub(crate) fn page(title: &str, body: Markup) -> HttpResponse {
    let markup = html! {
        (DOCTYPE)
        html lang="nl" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – Demo PGO" }
                link rel="stylesheet" href=(STYLESHEET_PATH);
            }
            body {
                header { p { strong { "Demo PGO" } " – een voorbeeld-app (" (super::pgo_client::HOSTNAME) ")" } }
                main { h1 { (title) } (body) }
            }
        }
    };
    HttpResponse::build(StatusCode::OK)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", "default-src 'none'; style-src 'self'; frame-ancestors 'none'"))
        .insert_header(("Cache-Control", "no-store"))
        .body(markup.into_string())
}

/// One query's outcome.
pub(crate) struct Answer {
    /// The query, relative to the data service's FHIR base.
    pub(crate) query: String,
    /// The HTTP status (0 when no answer came).
    pub(crate) status: u16,
    /// The Bundle's `total`.
    pub(crate) total: Option<u64>,
    /// What each entry is, as [`super::pgo_client`] describes it.
    pub(crate) entries: Vec<String>,
}

/// What was collected from one data service.
pub(crate) struct Collected {
    /// Its id, e.g. `48`.
    pub(crate) id: String,
    /// Its name, e.g. `Basisgegevens zorg (BgZ) 3.0`.
    pub(crate) name: String,
    /// The answers to its queries, in order.
    pub(crate) answers: Vec<Answer>,
}

/// The result page's body: what was collected at `provider` (its display name).
pub(crate) fn results(provider: &str, refresh_token: bool, services: &[Collected]) -> Markup {
    let found: usize = services.iter().flat_map(|service| &service.answers).map(|answer| answer.entries.len()).sum();
    html! {
        p.notice #collected role="status" {
            "Toegang gekregen: " (found) " gegevens opgehaald bij " strong { (provider) } ". "
            "De app heeft ook een refresh token (" (if refresh_token { "ontvangen" } else { "niet ontvangen" }) ")."
        }
        p { a href="/oauth/consents" { "Mijn toestemmingen beheren" } " · " a href=(super::pgo_client::PATH) { "Opnieuw" } }
        @for service in services {
            section.service aria-labelledby={ "service-" (service.id) } {
                h2 #{ "service-" (service.id) } {
                    (service.name) " " span.secondary { "(gegevensdienst " (service.id) ")" }
                }
                table.results {
                    thead {
                        tr {
                            th.query scope="col" { "Vraag" }
                            th.status scope="col" { "Status" }
                            th.total scope="col" { "Aantal" }
                            th scope="col" { "Resultaat" }
                        }
                    }
                    tbody {
                        @for answer in &service.answers {
                            tr {
                                td.query data-label="Vraag" { code { (answer.query) } }
                                td.status data-label="Status" { (status_text(answer.status)) }
                                td.total data-label="Aantal" { (answer.total.map(|total| total.to_string()).unwrap_or_default()) }
                                td data-label="Resultaat" {
                                    @if answer.entries.is_empty() {
                                        "–"
                                    } @else {
                                        ul { @for entry in &answer.entries { li { (entry) } } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A status code with its reason phrase, e.g. `200 OK`; `geen antwoord` when none came.
fn status_text(status: u16) -> String {
    match StatusCode::from_u16(status) {
        Ok(code) => match code.canonical_reason() {
            Some(reason) => format!("{status} {reason}"),
            None => status.to_string(),
        },
        Err(_) => "geen antwoord".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collected() -> Vec<Collected> {
        vec![Collected {
            id: "48".to_owned(),
            name: "Basisgegevens zorg (BgZ) 3.0".to_owned(),
            answers: vec![Answer {
                query: "Patient?_include=Patient:general-practitioner".to_owned(),
                status: 200,
                total: Some(1),
                entries: vec!["Patient/demo-patient-anna: Anna".to_owned()],
            }],
        }]
    }

    #[test]
    fn the_results_name_the_provider_and_the_data_services() {
        let html = results("Demo Ziekenhuis", true, &collected()).into_string();
        assert!(html.contains("opgehaald bij <strong>Demo Ziekenhuis</strong>"), "{html}");
        assert!(html.contains("Basisgegevens zorg (BgZ) 3.0 <span class=\"secondary\">(gegevensdienst 48)</span>"));
        assert!(html.contains("refresh token (ontvangen)"));
        assert!(html.contains(r#"<td class="status" data-label="Status">200 OK</td>"#), "{html}");
    }

    #[test]
    fn every_cell_carries_its_column_name_for_narrow_screens() {
        let html = results("Demo Ziekenhuis", false, &collected()).into_string();
        let cells = html.matches("<td").count();
        assert_eq!(cells, 4);
        assert_eq!(html.matches("data-label=").count(), cells, "{html}");
    }

    #[test]
    fn the_stylesheet_is_under_the_demo_pgos_path() {
        assert!(STYLESHEET_PATH.starts_with(&format!("{}/", super::super::pgo_client::PATH)));
    }

    #[test]
    fn a_missing_answer_says_so() {
        assert_eq!(status_text(0), "geen antwoord");
        assert_eq!(status_text(401), "401 Unauthorized");
    }

    #[test]
    fn the_stylesheet_stacks_the_table_on_narrow_screens() {
        assert!(STYLESHEET.contains("@media (max-width:48rem)"));
        assert!(STYLESHEET.contains("content:attr(data-label)"));
        assert_eq!(STYLESHEET.matches('{').count(), STYLESHEET.matches('}').count(), "balanced braces");
    }
}
