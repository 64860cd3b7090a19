//! The frame of every page, the stylesheet, the error page and the response headers.

use super::texts::{Lang, Texts, Words};
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use maud::{DOCTYPE, Markup, html};

/// Where the stylesheet is served (a file, so the CSP can forbid inline styles).
pub const STYLESHEET_PATH: &str = "/oauth/style.css";

/// The stylesheet. `.visually-hidden` keeps a text for screen readers off the screen (the header
/// of the consent list's revoke column).
pub const STYLESHEET: &str = "\
body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}\
header{display:flex;justify-content:space-between;align-items:baseline;border-bottom:1px solid #ccc;margin-bottom:1rem}\
button{font-size:1rem;padding:.5rem 1rem;margin:.25rem .5rem .25rem 0;cursor:pointer}\
button.primary{background:#154273;color:#fff;border:1px solid #154273}\
button.secondary{background:#fff;color:#154273;border:1px solid #154273}\
.actions{display:flex;flex-wrap:wrap;gap:.5rem}\
form.inline{display:inline}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #ddd}\
ul.items{list-style:none;padding:0}ul.items>li{border-bottom:1px solid #ddd;padding:.5rem 0}ul.items p{margin:.25rem 0}\
.dates{color:#555;font-size:.9rem}summary{cursor:pointer}details ul{margin:.25rem 0}\
body{overflow-wrap:break-word}header a{white-space:nowrap;margin-left:1rem}\
.notice{background:#eef6ee;border-left:4px solid #3a7d44;padding:.5rem 1rem}\
.warning{background:#fdf3e7;border-left:4px solid #b35900;padding:.5rem 1rem}\
.visually-hidden{position:absolute;width:1px;height:1px;margin:-1px;padding:0;border:0;overflow:hidden;clip-path:inset(50%);white-space:nowrap}\
:focus{outline:3px solid #ffbf47}";

/// A whole page: `title` as its heading, `body` under it, and a link to the same page in the
/// other language (`switch_href`).
pub fn page(lang: Lang, title: &str, switch_href: Option<&str>, body: Markup) -> Markup {
    let texts: &Texts = lang.texts();
    html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – " (texts.service_name) }
                link rel="stylesheet" href=(STYLESHEET_PATH);
            }
            body {
                header {
                    p { (texts.service_name) }
                    @if let Some(href) = switch_href {
                        a href=(href) lang=(lang.other().tag()) hreflang=(lang.other().tag()) { (texts.switch_label) }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The page for an error the person must see (and that is not sent to the PGO).
pub fn error_page(lang: Lang, message: &str) -> Markup {
    let texts = lang.texts();
    page(lang, texts.error_title, None, html! { p.warning role="alert" { (message) } })
}

/// An HTML response with the headers every page carries.
pub fn html_response(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header((
            "Content-Security-Policy",
            "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        // Not `no-referrer`: under it browsers send `Origin: null` with the pages' own form posts
        // (Fetch, "append a request `Origin` header"), and the decision and revoke forms, which
        // must come from the service's origin, would all be refused. `same-origin` still sends
        // nothing to other sites (the OpenID Provider, the PGO).
        .insert_header(("Referrer-Policy", "same-origin"))
        .insert_header(("Cache-Control", "no-store"))
        .body(markup.into_string())
}
