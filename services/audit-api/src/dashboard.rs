//! The auditors' dashboard: a sign-in form (the auditor's client id and secret), then per year a
//! chart of new unique users per PGO per reporting period (server-rendered SVG), the totals and
//! amounts per PGO, and links to the signed reports. Plain HTML without scripts, with labels on
//! every control; framing, scripts and caching are forbidden by the headers.
//!
//! In Dutch or English, chosen as on the person's pages: Dutch unless a `lang` (or `ui_locales`)
//! parameter asks otherwise, a link on every page to the other language, and the choice kept: in
//! a hidden field of the sign-in form, then in the session. The browser's `Accept-Language` is
//! not read, as the person's pages do not read it either: one service, one rule.

mod chart;
mod locale;
mod texts;

use locale::Locale;
pub(crate) use texts::{Lang, Words};

use crate::auth::{self, Session};
use crate::errors::AuditError;
use crate::reports::{ReportFormat, SIGNED_MEDIA_TYPE, period_param, signed_usage};
use crate::{AUDIT_PATH, AuditApi};
use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::{HttpRequest, HttpResponse, web};
use chart::{YearUsage, chart, legend};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use metering::{Granularity, Period};
use std::collections::{BTreeMap, HashMap};
use throttle::{Door, Key};

const STYLESHEET: &str = include_str!("dashboard.css");

/// `GET /audit/style.css`.
pub(crate) async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "max-age=3600"))
        .body(STYLESHEET)
}

/// A whole page in `lang`: `title` as its heading, `body` under it, and a link to the same page
/// in the other language (`switch_href`).
fn page(lang: Lang, title: &str, switch_href: &str, body: Markup) -> Markup {
    let texts = lang.texts();
    let other = lang.other().tag();
    html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · pgo-exchange" }
                link rel="stylesheet" href={ (AUDIT_PATH) "/style.css" };
            }
            body {
                header {
                    p.brand { (texts.brand) }
                    a.language href=(switch_href) lang=(other) hreflang=(other) id="language" { (texts.switch_label) }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

fn html_response(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header((
            "Content-Security-Policy",
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "same-origin"))
        .insert_header(("Cache-Control", "no-store"))
        .body(markup.into_string())
}

fn see_other(location: &str) -> actix_web::HttpResponseBuilder {
    let mut builder = HttpResponse::SeeOther();
    builder.insert_header(("Location", location.to_owned())).insert_header(("Cache-Control", "no-store"));
    builder
}

/// A query string's or a form's fields.
fn fields(encoded: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(encoded).into_owned().collect()
}

/// The language `fields` ask for: `lang`, else `ui_locales` (the OpenID Connect name the
/// authorization endpoint takes); `None` when neither names one the dashboard has.
fn asked_lang(fields: &HashMap<String, String>) -> Option<Lang> {
    ["lang", "ui_locales"].iter().find_map(|name| fields.get(*name).and_then(|value| Lang::from_tags(value)))
}

/// The sign-in page in `lang`.
fn login_href(lang: Lang) -> String {
    format!("{AUDIT_PATH}/login?lang={}", lang.tag())
}

fn login_form(lang: Lang, message: Option<&str>) -> Markup {
    let texts = lang.texts();
    page(
        lang,
        texts.sign_in_title,
        &login_href(lang.other()),
        html! {
            p { (texts.sign_in_intro) }
            @if let Some(message) = message { p.warning role="alert" id="login-error" { (message) } }
            form method="post" action={ (AUDIT_PATH) "/login" } {
                // The language travels with the form, so the answer and the dashboard keep it.
                input type="hidden" name="lang" value=(lang.tag());
                p {
                    label for="client_id" { (texts.client_id_label) }
                    input type="text" id="client_id" name="client_id" autocomplete="username" required;
                }
                p {
                    label for="client_secret" { (texts.secret_label) }
                    input type="password" id="client_secret" name="client_secret" autocomplete="current-password" required;
                }
                button.primary type="submit" id="sign-in" { (texts.sign_in_button) }
            }
        },
    )
}

/// A page saying what went wrong, with a way back to the dashboard.
fn error_page(status: StatusCode, lang: Lang, message: &str) -> HttpResponse {
    let texts = lang.texts();
    let markup = page(
        lang,
        texts.error_title,
        &format!("{AUDIT_PATH}/dashboard?lang={}", lang.other().tag()),
        html! {
            p.warning role="alert" id="error" { (message) }
            p { a href={ (AUDIT_PATH) "/dashboard" } { (texts.back_to_dashboard) } }
        },
    );
    html_response(status, markup)
}

/// `GET /audit/login[?lang=en]`.
pub(crate) async fn login_page(request: HttpRequest) -> HttpResponse {
    let lang = asked_lang(&fields(request.query_string().as_bytes())).unwrap_or_default();
    html_response(StatusCode::OK, login_form(lang, None))
}

/// The largest sign-in or sign-out form read: a client id, a secret, a CSRF token.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// The body of a form post, read here rather than by actix's `Bytes` extractor, whose refusals
/// are plain text.
async fn form_body(payload: web::Payload) -> Result<web::Bytes, HttpResponse> {
    match payload.to_bytes_limited(MAX_FORM_BYTES).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(_)) => Err(AuditError::BadRequest("the request body could not be read".into()).response()),
        Err(_) => Err(AuditError::TooLarge.response()),
    }
}

/// `POST /audit/login`: checks the credentials, starts a session, on to the dashboard. Failed
/// sign-ins are counted per address and per auditor; past the limit the form comes back with
/// 429, `Retry-After` and a message, whatever was entered. Every answer is in the language the
/// form was shown in.
pub(crate) async fn login(request: HttpRequest, payload: web::Payload, api: web::Data<AuditApi>) -> HttpResponse {
    let body = match form_body(payload).await {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    let fields = fields(&body);
    let lang = asked_lang(&fields).unwrap_or_default();
    let texts = lang.texts();
    if !auth::same_origin(&api, &request) {
        return html_response(StatusCode::FORBIDDEN, login_form(lang, Some(texts.error_origin)));
    }
    let (id, secret) = (fields.get("client_id").map(|id| id.trim()), fields.get("client_secret"));
    // The same counts as client credentials at the token endpoint: one auditor, one budget.
    let throttle = &api.throttle;
    let keys: Vec<Key> = throttle
        .address_key(Door::Auditor, &request)
        .into_iter()
        .chain(id.and_then(|id| api.auditors.get(id)).map(|auditor| Key::Name(Door::Auditor, auditor.id.clone())))
        .collect();
    if let Err(refusal) = throttle.check(&keys) {
        tracing::warn!("dashboard sign-in refused: too many failed attempts");
        let seconds = i64::try_from(refusal.retry_after_seconds).unwrap_or(i64::MAX);
        let message = (texts.error_throttled)(&lang.count(seconds, &texts.seconds));
        let mut response = html_response(StatusCode::TOO_MANY_REQUESTS, login_form(lang, Some(&message)));
        response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(refusal.retry_after_seconds));
        return response;
    }
    let auditor = match (id, secret) {
        (Some(id), Some(secret)) => api.auditors.authenticate(id, secret),
        _ => None,
    };
    let Some(auditor) = auditor else {
        tracing::warn!("dashboard sign-in refused");
        throttle.failed(&keys);
        return html_response(StatusCode::UNAUTHORIZED, login_form(lang, Some(texts.error_credentials)));
    };
    match auth::start_session(&api, &auditor.id, lang).await {
        Ok(cookie) => see_other(&format!("{AUDIT_PATH}/dashboard")).cookie(cookie).finish(),
        Err(_) => error_page(StatusCode::INTERNAL_SERVER_ERROR, lang, texts.error_unavailable),
    }
}

/// `POST /audit/logout`: back to the sign-in page, in the session's language.
pub(crate) async fn logout(request: HttpRequest, payload: web::Payload, api: web::Data<AuditApi>) -> HttpResponse {
    let body = match form_body(payload).await {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    let fields = fields(&body);
    let mut lang = asked_lang(&fields).unwrap_or_default();
    if let Ok(Some((hash, session))) = auth::session(&api, &request).await
        && auth::same_origin(&api, &request)
        && fields.get("csrf") == Some(&session.csrf)
    {
        lang = session.lang;
        if auth::end_session(&api, &hash).await.is_err() {
            return error_page(StatusCode::INTERNAL_SERVER_ERROR, lang, lang.texts().error_unavailable);
        }
    }
    let mut gone = Cookie::build(auth::SESSION_COOKIE, "").path(AUDIT_PATH).finish();
    gone.make_removal();
    see_other(&login_href(lang)).cookie(gone).finish()
}

/// The signed-in auditor's session and its stored id hash, or the answer sending them to sign
/// in (in the language `asked`, if any).
async fn signed_in(
    api: &AuditApi,
    request: &HttpRequest,
    asked: Option<Lang>,
) -> Result<(String, Session), HttpResponse> {
    match auth::session(api, request).await {
        Ok(Some(found)) => Ok(found),
        Ok(None) => Err(see_other(&asked.map_or_else(|| format!("{AUDIT_PATH}/login"), login_href)).finish()),
        Err(_) => {
            let lang = asked.unwrap_or_default();
            Err(error_page(StatusCode::INTERNAL_SERVER_ERROR, lang, lang.texts().error_unavailable))
        }
    }
}

/// `GET /audit/dashboard/report?period=...&format=json|csv[&client=...]`: a signed report to
/// save.
pub(crate) async fn download(request: HttpRequest, api: web::Data<AuditApi>) -> HttpResponse {
    let params = fields(request.query_string().as_bytes());
    if let Err(response) = signed_in(&api, &request, asked_lang(&params)).await {
        return response;
    }
    let outcome = async {
        let period = period_param(&params)?;
        let format = ReportFormat::from_param(params.get("format").map(String::as_str))?;
        signed_usage(&api, period, params.get("client").map(String::as_str), format).await
    };
    match outcome.await {
        Ok((signed, file_name)) => HttpResponse::Ok()
            .content_type(SIGNED_MEDIA_TYPE)
            .insert_header(("Content-Disposition", format!("attachment; filename=\"{file_name}\"")))
            .insert_header(("Cache-Control", "no-store"))
            .body(signed),
        Err(error) => error.response(),
    }
}

async fn year_usage(api: &AuditApi, year: i32) -> Result<YearUsage, AuditError> {
    let periods = Period::of_year(api.granularity, year);
    let mut clients: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
    // Counted per month, where a tariff is one number, then summed into the periods.
    for month in Period::of_year(Granularity::Month, year) {
        let (start, end) = month.bounds(api.reports.zone);
        let cents = api.reports.tariffs.cents_at(start, api.reports.zone);
        let index = periods.iter().position(|period| period.contains(start, api.reports.zone)).unwrap_or(0);
        for (client, users) in api.store.usage().first_exchange_counts(i64::from(year), start, end).await? {
            let row = clients.entry(client).or_insert_with(|| vec![(0, 0); periods.len()]);
            row[index].0 += users;
            row[index].1 += users * cents;
        }
    }
    Ok(YearUsage { periods, clients })
}

/// `GET /audit/dashboard[?year=2026][&lang=en]`: a `lang` switches the session's language.
pub(crate) async fn dashboard(request: HttpRequest, api: web::Data<AuditApi>) -> HttpResponse {
    let params = fields(request.query_string().as_bytes());
    let asked = asked_lang(&params);
    let (hash, mut session) = match signed_in(&api, &request, asked).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if let Some(lang) = asked
        && lang != session.lang
    {
        session.lang = lang;
        // The page is shown in the language asked for all the same; only the next one may not be.
        if auth::save_session(&api, &hash, &session).await.is_err() {
            tracing::error!("the dashboard's language could not be kept in the session");
        }
    }
    let lang = session.lang;
    let now_year = metering::period::year_of(fhir_core::date::now_millis(), api.reports.zone);
    let year = match params.get("year").map(|text| text.parse::<i32>()) {
        None => now_year,
        Some(Ok(year)) if (2000..=9999).contains(&year) => year,
        Some(_) => return error_page(StatusCode::BAD_REQUEST, lang, lang.texts().error_year),
    };
    let usage = match year_usage(&api, year).await {
        Ok(usage) => usage,
        Err(_) => return error_page(StatusCode::INTERNAL_SERVER_ERROR, lang, lang.texts().error_unavailable),
    };
    let name = api.auditors.get(&session.auditor).map(|auditor| auditor.name.clone()).unwrap_or_default();
    let view = DashboardView { name: &name, session: &session, year, usage: &usage };
    html_response(StatusCode::OK, dashboard_page(lang, &view))
}

/// What the dashboard shows.
struct DashboardView<'a> {
    /// The auditor's name.
    name: &'a str,
    session: &'a Session,
    year: i32,
    usage: &'a YearUsage,
}

fn dashboard_page(lang: Lang, view: &DashboardView<'_>) -> Markup {
    let texts = lang.texts();
    let DashboardView { name, session, year, usage } = *view;
    let total_users: i64 = usage.clients.values().flatten().map(|(users, _)| users).sum();
    let total_cents: i64 = usage.clients.values().flatten().map(|(_, cents)| cents).sum();
    let switch = format!("{AUDIT_PATH}/dashboard?year={year}&lang={}", lang.other().tag());
    let body = html! {
        p { (texts.signed_in_as) " " strong { (name) } " (" (session.auditor) ")." }
        form.inline method="get" action={ (AUDIT_PATH) "/dashboard" } {
            label for="year" { (texts.year_label) }
            input type="number" id="year" name="year" value=(year) min="2000" max="9999";
            button.secondary type="submit" id="show-year" { (texts.show_button) }
        }
        h2 { ((texts.chart_heading)(year)) }
        (PreEscaped(chart(usage, lang)))
        @if !usage.clients.is_empty() { (legend(usage, lang)) }
        p id="totals" {
            ((texts.totals)(&lang.count(total_users, &texts.new_users), &lang.euros(total_cents), year))
        }
        @if usage.clients.is_empty() {
            p id="no-users" { ((texts.no_users)(year)) }
        } @else {
            // A year of months is wider than a phone: the table scrolls inside its own box, which
            // takes the keyboard's focus so it can be scrolled without a mouse too. Its title
            // stands above the box (a `caption` would scroll away with the columns).
            p.caption id="usage-caption" { ((texts.table_caption)(year)) }
            div.scroll role="region" aria-labelledby="usage-caption" tabindex="0" {
                table id="usage" aria-labelledby="usage-caption" {
                    thead { tr {
                        th scope="col" { (texts.column_pgo) }
                        @for period in &usage.periods {
                            th scope="col" { abbr title=(lang.period_long(period)) { (lang.period_short(period)) } }
                        }
                        th scope="col" { (texts.column_users) }
                        th scope="col" { (texts.column_amount) }
                    } }
                    tbody {
                        @for (client, row) in &usage.clients {
                            tr {
                                th scope="row" { (client) }
                                @for (users, _) in row { td.number { (lang.number(*users)) } }
                                td.number { (lang.number(row.iter().map(|(users, _)| users).sum())) }
                                td.number { (lang.euros(row.iter().map(|(_, cents)| cents).sum())) }
                            }
                        }
                    }
                }
            }
        }
        h2 { (texts.reports_heading) }
        p { (texts.reports_intro) " " code { "pgo-exchange report verify " (texts.report_file) } "." }
        ul.reports {
            @for period in &usage.periods {
                li {
                    (lang.period_long(period)) ": "
                    a href={ (AUDIT_PATH) "/dashboard/report?period=" (period) "&format=json" } { "JSON" } " · "
                    a href={ (AUDIT_PATH) "/dashboard/report?period=" (period) "&format=csv" } { "CSV" }
                }
            }
        }
        form method="post" action={ (AUDIT_PATH) "/logout" } {
            input type="hidden" name="csrf" value=(session.csrf);
            input type="hidden" name="lang" value=(lang.tag());
            button.secondary type="submit" id="sign-out" { (texts.sign_out_button) }
        }
    };
    page(lang, texts.dashboard_title, &switch, body)
}

#[cfg(test)]
mod tests;
