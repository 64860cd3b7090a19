//! The simulator's HTML: the test login page and the error page. Server-rendered, no JavaScript,
//! no external resources; everything echoed is HTML-escaped. Responses forbid framing and carry
//! a Content-Security-Policy that allows only the page's own style block.

use crate::{LOA_HIGH, LOA_LOW, LOA_SUBSTANTIAL};
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

const STYLE: &str = "body{font-family:sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;line-height:1.5}\
.test{border:3px solid #b00;background:#fee;padding:.5rem 1rem}\
label{display:block;font-weight:bold;margin-top:1rem}\
input,select,button{font-size:1rem;padding:.4rem}\
.error{color:#b00;font-weight:bold}\
.buttons{margin-top:1.5rem;display:flex;gap:1rem}";

/// The levels on the page, with their Dutch labels.
const LEVELS: [(&str, &str); 3] =
    [(LOA_LOW, "Laag (low)"), (LOA_SUBSTANTIAL, "Substantieel (substantial)"), (LOA_HIGH, "Hoog (high)")];

/// What the login page shows.
#[derive(Debug)]
pub(crate) struct LoginPage<'a> {
    /// The pending request the form belongs to.
    pub(crate) request_id: &'a str,
    /// The relying party, named on the page.
    pub(crate) client_id: &'a str,
    /// The BSN typed so far.
    pub(crate) bsn: &'a str,
    /// The level to preselect.
    pub(crate) loa: &'a str,
    /// Why the last attempt was refused.
    pub(crate) error: Option<&'a str>,
}

/// The login page.
pub(crate) fn login(page: &LoginPage<'_>) -> String {
    let (title, invalid, described, error) = match page.error {
        Some(message) => (
            "Fout: DigiD simulator (testinlog)",
            r#" aria-invalid="true""#,
            "bsn-error bsn-hint",
            format!(r#"<p id="bsn-error" class="error">{}</p>"#, escape(message)),
        ),
        None => ("DigiD simulator (testinlog)", "", "bsn-hint", String::new()),
    };
    let options: String = LEVELS
        .iter()
        .map(|(value, label)| {
            let selected = if *value == page.loa { " selected" } else { "" };
            format!(r#"<option value="{value}"{selected}>{label}</option>"#)
        })
        .collect();
    let body = format!(
        r#"<h1>DigiD simulator</h1>
<p class="test" role="note"><strong>Testomgeving.</strong> Dit is niet de echte DigiD maar een simulator voor ontwikkeling en testen. Gebruik alleen test-BSN's.</p>
<p>Inloggen voor <strong>{client}</strong>.</p>
<form method="post" action="authorize">
<input type="hidden" name="request" value="{request}">
<label for="bsn">BSN (burgerservicenummer)</label>
<input id="bsn" name="bsn" type="text" inputmode="numeric" autocomplete="off" required value="{bsn}"{invalid} aria-describedby="{described}">
<p id="bsn-hint">Negen cijfers die voldoen aan de elfproef, bijvoorbeeld 999911120.</p>
{error}<label for="loa">Betrouwbaarheidsniveau</label>
<select id="loa" name="loa">{options}</select>
<div class="buttons">
<button id="login" type="submit" name="action" value="login">Inloggen</button>
<button id="cancel" type="submit" name="action" value="cancel" formnovalidate>Annuleren</button>
</div>
</form>"#,
        client = escape(page.client_id),
        request = escape(page.request_id),
        bsn = escape(page.bsn),
    );
    document(title, &body)
}

/// The page for a request that cannot be sent back to the relying party.
pub(crate) fn error(message: &str) -> String {
    let body = format!(
        r#"<h1>DigiD simulator</h1>
<p class="test" role="note"><strong>Testomgeving.</strong> Dit is niet de echte DigiD.</p>
<h2>Deze inlogaanvraag is ongeldig</h2>
<p class="error">{}</p>
<p>U wordt niet teruggestuurd naar de website die deze aanvraag deed.</p>"#,
        escape(message)
    );
    document("Fout: DigiD simulator (testinlog)", &body)
}

fn document(title: &str, body: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="nl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{STYLE}</style>
</head>
<body>
<main>
{body}
</main>
</body>
</html>
"#
    )
}

/// An HTML response with the page's security headers. `redirect_uri` is where a form on the
/// page may end up: browsers apply `form-action` to the redirect after a submission too.
pub(crate) fn respond(status: StatusCode, html: String, redirect_uri: Option<&str>) -> HttpResponse {
    let form_action = match redirect_uri {
        Some(uri) => format!("'self' {}", source_of(uri)),
        None => "'none'".to_owned(),
    };
    let style_hash = STANDARD.encode(digest::digest(&digest::SHA256, STYLE.as_bytes()).as_ref());
    let policy = format!(
        "default-src 'none'; style-src 'sha256-{style_hash}'; form-action {form_action}; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((CONTENT_SECURITY_POLICY, policy))
        .insert_header((X_FRAME_OPTIONS, "DENY"))
        .insert_header((X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((REFERRER_POLICY, "no-referrer"))
        .insert_header((CACHE_CONTROL, "no-store"))
        .body(html)
}

/// The CSP source expression for a redirect URI: its origin, or its scheme for an app's
/// private-use scheme (whose origin is opaque).
fn source_of(uri: &str) -> String {
    match url::Url::parse(uri) {
        Ok(url) => match url.origin() {
            origin @ url::Origin::Tuple(..) => origin.ascii_serialization(),
            url::Origin::Opaque(_) => format!("{}:", url.scheme()),
        },
        Err(_) => "'none'".to_owned(),
    }
}

/// `text` with the HTML special characters replaced, safe in element content and in quoted
/// attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_characters_are_escaped() {
        assert_eq!(escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }

    #[test]
    fn echoed_values_cannot_break_out() {
        let html = login(&LoginPage {
            request_id: "r",
            client_id: "<script>alert(1)</script>",
            bsn: "\"><script>",
            loa: LOA_HIGH,
            error: Some("<b>"),
        });
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;alert(1)"));
        assert!(html.contains(r#"<option value="http://eidas.europa.eu/LoA/high" selected>"#));
        assert!(html.contains(r#"aria-invalid="true" aria-describedby="bsn-error bsn-hint""#));
    }

    #[test]
    fn every_field_has_a_label() {
        let html = login(&LoginPage { request_id: "r", client_id: "c", bsn: "", loa: LOA_SUBSTANTIAL, error: None });
        for id in ["bsn", "loa"] {
            assert!(html.contains(&format!(r#"<label for="{id}">"#)), "{id}");
            assert!(html.contains(&format!(r#"id="{id}""#)), "{id}");
        }
        assert!(!html.contains("aria-invalid"));
        assert!(!html.to_lowercase().contains("<script"));
    }

    #[test]
    fn the_policy_allows_exactly_the_served_style_block() {
        let response = respond(StatusCode::OK, error("x"), None);
        let policy = response.headers().get(CONTENT_SECURITY_POLICY).unwrap().to_str().unwrap().to_owned();
        let html = error("x");
        let style = html.split("<style>").nth(1).unwrap().split("</style>").next().unwrap();
        let hash = STANDARD.encode(digest::digest(&digest::SHA256, style.as_bytes()).as_ref());
        assert!(policy.contains(&format!("style-src 'sha256-{hash}';")), "{policy}");
        assert!(policy.contains("form-action 'none'"), "{policy}");
    }

    #[test]
    fn the_form_may_go_to_the_redirect_origin_only() {
        assert_eq!(source_of("https://pgo.example/cb?x=1"), "https://pgo.example");
        assert_eq!(source_of("http://127.0.0.1:8080/cb"), "http://127.0.0.1:8080");
        assert_eq!(source_of("nl.example.app:/cb"), "nl.example.app:");
    }
}
