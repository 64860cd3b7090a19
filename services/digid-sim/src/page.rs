//! The simulator's HTML: the test login page and the error page, in the language the relying
//! party asked for (`texts.rs`). Server-rendered, no JavaScript, no external resources;
//! everything echoed is HTML-escaped. Responses forbid framing and carry a
//! Content-Security-Policy that allows only the page's own style block.

use crate::texts::{Lang, Words};
use crate::{LOA_HIGH, LOA_LOW, LOA_SUBSTANTIAL};
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The page's style. `overflow-wrap:anywhere` and the full-width fields keep a long name or
/// scope from pushing the page wider than a phone.
const STYLE: &str = "body{font-family:sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;line-height:1.5;\
overflow-wrap:anywhere}\
.test{border:3px solid #b00;background:#fee;padding:.5rem 1rem}\
label{display:block;font-weight:bold;margin-top:1rem}\
input,select,button{font-size:1rem;padding:.4rem;max-width:100%;box-sizing:border-box}\
input,select{width:100%}\
.scopes{color:#444}\
.error{color:#b00;font-weight:bold}\
.buttons{margin-top:1.5rem;display:flex;flex-wrap:wrap;gap:1rem}";

/// The levels on the page, in the order of their labels in [`crate::texts::Texts::levels`].
const LEVELS: [&str; 3] = [LOA_LOW, LOA_SUBSTANTIAL, LOA_HIGH];

/// What the login page shows.
#[derive(Debug)]
pub(crate) struct LoginPage<'a> {
    /// The pending request the form belongs to.
    pub(crate) request_id: &'a str,
    /// The language of the page.
    pub(crate) lang: Lang,
    /// Whom the person logs in for: the name the relying party gave, else its client id.
    pub(crate) login_for: &'a str,
    /// The scopes asked for, each once.
    pub(crate) scopes: &'a [String],
    /// The BSN typed so far.
    pub(crate) bsn: &'a str,
    /// The level to preselect.
    pub(crate) loa: &'a str,
    /// Why the last attempt was refused.
    pub(crate) error: Option<&'a str>,
}

/// The login page.
pub(crate) fn login(page: &LoginPage<'_>) -> String {
    let texts = page.lang.texts();
    let (invalid, described, error) = match page.error {
        Some(message) => (
            r#" aria-invalid="true""#,
            "bsn-error bsn-hint",
            format!(r#"<p id="bsn-error" class="error">{}</p>"#, escape(message)),
        ),
        None => ("", "bsn-hint", String::new()),
    };
    let title = match page.error {
        Some(_) => format!("{}{}", texts.error_prefix, texts.title),
        None => texts.title.to_owned(),
    };
    let options: String = LEVELS
        .iter()
        .zip(texts.levels)
        .map(|(value, label)| {
            let selected = if *value == page.loa { " selected" } else { "" };
            format!(r#"<option value="{value}"{selected}>{label}</option>"#)
        })
        .collect();
    let body = format!(
        r#"<h1>DigiD simulator</h1>
<p class="test" role="note">{notice}</p>
<p id="login-for">{log_in_for} <strong>{login_for}</strong>.</p>
<p id="scopes" class="scopes">{requested} <code>{scopes}</code></p>
<form method="post" action="authorize">
<input type="hidden" name="request" value="{request}">
<input type="hidden" name="ui_locales" value="{tag}">
<label for="bsn">{bsn_label}</label>
<input id="bsn" name="bsn" type="text" inputmode="numeric" autocomplete="off" required value="{bsn}"{invalid} aria-describedby="{described}">
<p id="bsn-hint">{bsn_hint}</p>
{error}<label for="loa">{loa_label}</label>
<select id="loa" name="loa">{options}</select>
<div class="buttons">
<button id="login" type="submit" name="action" value="login">{log_in}</button>
<button id="cancel" type="submit" name="action" value="cancel" formnovalidate>{cancel}</button>
</div>
</form>"#,
        notice = texts.test_notice,
        log_in_for = texts.log_in_for,
        login_for = escape(page.login_for),
        requested = texts.requested_scope,
        scopes = escape(&page.scopes.join(" ")),
        request = escape(page.request_id),
        tag = page.lang.tag(),
        bsn_label = texts.bsn_label,
        bsn = escape(page.bsn),
        bsn_hint = texts.bsn_hint,
        loa_label = texts.loa_label,
        log_in = texts.log_in,
        cancel = texts.cancel,
    );
    document(page.lang, &title, &body)
}

/// The page for a request that cannot be sent back to the relying party.
pub(crate) fn error(lang: Lang, message: &str) -> String {
    let texts = lang.texts();
    let body = format!(
        r#"<h1>DigiD simulator</h1>
<p class="test" role="note">{notice}</p>
<h2>{heading}</h2>
<p class="error">{message}</p>
<p>{not_sent_back}</p>"#,
        notice = texts.test_notice_short,
        heading = texts.invalid_request,
        message = escape(message),
        not_sent_back = texts.not_sent_back,
    );
    document(lang, &format!("{}{}", texts.error_prefix, texts.title), &body)
}

fn document(lang: Lang, title: &str, body: &str) -> String {
    let tag = lang.tag();
    format!(
        r#"<!DOCTYPE html>
<html lang="{tag}">
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

    fn page(lang: Lang) -> LoginPage<'static> {
        LoginPage {
            request_id: "r",
            lang,
            login_for: "Demo Ziekenhuis",
            scopes: &[],
            bsn: "",
            loa: LOA_SUBSTANTIAL,
            error: None,
        }
    }

    #[test]
    fn the_page_speaks_the_language_asked_for() {
        let dutch = login(&page(Lang::Nl));
        assert!(dutch.contains(r#"<html lang="nl">"#));
        assert!(dutch.contains("Inloggen voor <strong>Demo Ziekenhuis</strong>"));
        assert!(dutch.contains(">Annuleren</button>") && !dutch.contains("Cancel"));
        assert!(dutch.contains(r#"name="ui_locales" value="nl""#));

        let english = login(&page(Lang::En));
        assert!(english.contains(r#"<html lang="en">"#));
        assert!(english.contains("Log in for <strong>Demo Ziekenhuis</strong>"));
        assert!(english.contains(">Cancel</button>") && !english.contains("Annuleren"));
        assert!(english.contains(r#"<option value="http://eidas.europa.eu/LoA/substantial" selected>Substantial<"#));
        assert!(english.contains(r#"name="ui_locales" value="en""#));
        assert!(error(Lang::En, "x").contains("This login request is invalid"));
    }

    #[test]
    fn special_characters_are_escaped() {
        assert_eq!(escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }

    #[test]
    fn echoed_values_cannot_break_out() {
        let scopes = ["openid".to_owned(), "<script>".to_owned()];
        let html = login(&LoginPage {
            request_id: "r",
            lang: Lang::Nl,
            login_for: "<script>alert(1)</script>",
            scopes: &scopes,
            bsn: "\"><script>",
            loa: LOA_HIGH,
            error: Some("<b>"),
        });
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;alert(1)"));
        assert!(html.contains("<code>openid &lt;script&gt;</code>"));
        assert!(html.contains(r#"<option value="http://eidas.europa.eu/LoA/high" selected>"#));
        assert!(html.contains(r#"aria-invalid="true" aria-describedby="bsn-error bsn-hint""#));
    }

    #[test]
    fn every_field_has_a_label() {
        let html = login(&page(Lang::Nl));
        for id in ["bsn", "loa"] {
            assert!(html.contains(&format!(r#"<label for="{id}">"#)), "{id}");
            assert!(html.contains(&format!(r#"id="{id}""#)), "{id}");
        }
        assert!(!html.contains("aria-invalid"));
        assert!(!html.to_lowercase().contains("<script"));
    }

    #[test]
    fn the_policy_allows_exactly_the_served_style_block() {
        let response = respond(StatusCode::OK, error(Lang::Nl, "x"), None);
        let policy = response.headers().get(CONTENT_SECURITY_POLICY).unwrap().to_str().unwrap().to_owned();
        let html = error(Lang::Nl, "x");
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
