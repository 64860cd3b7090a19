//! The auditors' dashboard: a sign-in form (the auditor's client id and secret), then per year a
//! chart of new unique users per PGO per reporting period (server-rendered SVG), the totals and
//! amounts per PGO, and links to the signed reports. Plain HTML without scripts, with labels on
//! every control; framing, scripts and caching are forbidden by the headers.

use crate::auth::{self, Session};
use crate::errors::AuditError;
use crate::reports::{ReportFormat, SIGNED_MEDIA_TYPE, period_param, signed_usage};
use crate::{AUDIT_PATH, AuditApi};
use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::{HttpRequest, HttpResponse, web};
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

fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · pgo-exchange" }
                link rel="stylesheet" href={ (AUDIT_PATH) "/style.css" };
            }
            body {
                header { p.brand { "pgo-exchange · audit" } }
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

fn login_form(message: Option<&str>) -> Markup {
    page(
        "Sign in",
        html! {
            p { "Auditors sign in with the client id and secret configured for them in this service." }
            @if let Some(message) = message { p.warning role="alert" id="login-error" { (message) } }
            form method="post" action={ (AUDIT_PATH) "/login" } {
                p {
                    label for="client_id" { "Client id" }
                    input type="text" id="client_id" name="client_id" autocomplete="username" required;
                }
                p {
                    label for="client_secret" { "Secret" }
                    input type="password" id="client_secret" name="client_secret" autocomplete="current-password" required;
                }
                button.primary type="submit" id="sign-in" { "Sign in" }
            }
        },
    )
}

/// `GET /audit/login`.
pub(crate) async fn login_page() -> HttpResponse {
    html_response(StatusCode::OK, login_form(None))
}

fn form_fields(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
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
/// 429, `Retry-After` and a message, whatever was entered.
pub(crate) async fn login(request: HttpRequest, payload: web::Payload, api: web::Data<AuditApi>) -> HttpResponse {
    let body = match form_body(payload).await {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    if !auth::same_origin(&api, &request) {
        return html_response(
            StatusCode::FORBIDDEN,
            login_form(Some("This form must be sent from this service's own page.")),
        );
    }
    let fields = form_fields(&body);
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
        let message = format!("Too many sign-ins failed. Try again in {} seconds.", refusal.retry_after_seconds);
        let mut response = html_response(StatusCode::TOO_MANY_REQUESTS, login_form(Some(&message)));
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
        return html_response(StatusCode::UNAUTHORIZED, login_form(Some("The client id or secret is not right.")));
    };
    match auth::start_session(&api, &auditor.id).await {
        Ok(cookie) => see_other(&format!("{AUDIT_PATH}/dashboard")).cookie(cookie).finish(),
        Err(error) => error.response(),
    }
}

/// `POST /audit/logout`.
pub(crate) async fn logout(request: HttpRequest, payload: web::Payload, api: web::Data<AuditApi>) -> HttpResponse {
    let body = match form_body(payload).await {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    let fields = form_fields(&body);
    if let Ok(Some((hash, session))) = auth::session(&api, &request).await
        && auth::same_origin(&api, &request)
        && fields.get("csrf") == Some(&session.csrf)
        && let Err(error) = auth::end_session(&api, &hash).await
    {
        return error.response();
    }
    let mut gone = Cookie::build(auth::SESSION_COOKIE, "").path(AUDIT_PATH).finish();
    gone.make_removal();
    see_other(&format!("{AUDIT_PATH}/login")).cookie(gone).finish()
}

/// The signed-in auditor, or the answer sending them to sign in.
async fn signed_in(api: &AuditApi, request: &HttpRequest) -> Result<Session, HttpResponse> {
    match auth::session(api, request).await {
        Ok(Some((_, session))) => Ok(session),
        Ok(None) => Err(see_other(&format!("{AUDIT_PATH}/login")).finish()),
        Err(error) => Err(error.response()),
    }
}

/// `GET /audit/dashboard/report?period=...&format=json|csv[&client=...]`: a signed report to
/// save.
pub(crate) async fn download(request: HttpRequest, api: web::Data<AuditApi>) -> HttpResponse {
    if let Err(response) = signed_in(&api, &request).await {
        return response;
    }
    let params: HashMap<String, String> =
        url::form_urlencoded::parse(request.query_string().as_bytes()).into_owned().collect();
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

/// New unique users and cents per PGO per reporting period of a year.
struct YearUsage {
    periods: Vec<Period>,
    /// Per PGO, per period index: (users, cents).
    clients: BTreeMap<String, Vec<(i64, i64)>>,
}

async fn year_usage(api: &AuditApi, year: i32) -> Result<YearUsage, AuditError> {
    let periods = Period::of_year(api.granularity, year);
    let mut clients: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
    // Counted per month, where a tariff is one number, then summed into the periods.
    for month in Period::of_year(Granularity::Month, year) {
        let (start, end) = month.bounds(api.reports.zone);
        let cents = api.reports.tariffs.cents_at(start, api.reports.zone);
        let index = periods.iter().position(|period| period.contains(start, api.reports.zone)).unwrap_or(0);
        for (client, users) in api.store.first_exchange_counts(i64::from(year), start, end).await? {
            let row = clients.entry(client).or_insert_with(|| vec![(0, 0); periods.len()]);
            row[index].0 += users;
            row[index].1 += users * cents;
        }
    }
    Ok(YearUsage { periods, clients })
}

/// Euro cents as `EUR 1,234.50`.
fn euros(cents: i64) -> String {
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("EUR {grouped}.{:02}", cents % 100)
}

/// `GET /audit/dashboard[?year=2026]`.
pub(crate) async fn dashboard(request: HttpRequest, api: web::Data<AuditApi>) -> HttpResponse {
    let session = match signed_in(&api, &request).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let now_year = metering::period::year_of(fhir_core::date::now_millis(), api.reports.zone);
    let params: HashMap<String, String> =
        url::form_urlencoded::parse(request.query_string().as_bytes()).into_owned().collect();
    let year = match params.get("year").map(|text| text.parse::<i32>()) {
        None => now_year,
        Some(Ok(year)) if (2000..=9999).contains(&year) => year,
        Some(_) => return AuditError::BadRequest("year must be a year such as 2026".to_owned()).response(),
    };
    let usage = match year_usage(&api, year).await {
        Ok(usage) => usage,
        Err(error) => return error.response(),
    };
    let name = api.auditors.get(&session.auditor).map(|auditor| auditor.name.clone()).unwrap_or_default();
    let total_users: i64 = usage.clients.values().flatten().map(|(users, _)| users).sum();
    let total_cents: i64 = usage.clients.values().flatten().map(|(_, cents)| cents).sum();
    let body = html! {
        p { "Signed in as " strong { (name) } " (" (session.auditor) ")." }
        form.inline method="get" action={ (AUDIT_PATH) "/dashboard" } {
            label for="year" { "Year" }
            input type="number" id="year" name="year" value=(year) min="2000" max="9999";
            button.secondary type="submit" id="show-year" { "Show" }
        }
        h2 { "New unique users per PGO, " (year) }
        (PreEscaped(chart(&usage)))
        p id="totals" { (total_users) " new unique users, " (euros(total_cents)) " due in " (year) "." }
        @if usage.clients.is_empty() {
            p { "No PGO had new users in " (year) "." }
        } @else {
            table id="usage" {
                caption { "New unique users per PGO per period, and the amount due" }
                thead { tr {
                    th scope="col" { "PGO" }
                    @for period in &usage.periods { th scope="col" { (period) } }
                    th scope="col" { "Users" }
                    th scope="col" { "Amount" }
                } }
                tbody {
                    @for (client, row) in &usage.clients {
                        tr {
                            th scope="row" { (client) }
                            @for (users, _) in row { td.number { (users) } }
                            td.number { (row.iter().map(|(users, _)| users).sum::<i64>()) }
                            td.number { (euros(row.iter().map(|(_, cents)| cents).sum::<i64>())) }
                        }
                    }
                }
            }
        }
        h2 { "Signed reports" }
        p { "Each report is signed by the service (JWS); check a saved one with " code { "pgo-exchange report verify FILE" } "." }
        ul.reports {
            @for period in &usage.periods {
                li {
                    (period) ": "
                    a href={ (AUDIT_PATH) "/dashboard/report?period=" (period) "&format=json" } { "JSON" } " · "
                    a href={ (AUDIT_PATH) "/dashboard/report?period=" (period) "&format=csv" } { "CSV" }
                }
            }
        }
        form method="post" action={ (AUDIT_PATH) "/logout" } {
            input type="hidden" name="csrf" value=(session.csrf);
            button.secondary type="submit" id="sign-out" { "Sign out" }
        }
    };
    html_response(StatusCode::OK, page("Usage dashboard", body))
}

/// Colours of the PGOs' bar segments, in turn.
const PALETTE: [&str; 10] =
    ["#1f5f8b", "#d9822b", "#3a8f4b", "#b8403a", "#6d5a9c", "#8a5a44", "#c2569b", "#6b6b6b", "#9a9a2e", "#2b9aa8"];

/// A stacked bar per period, a segment per PGO; a legend; a text alternative.
fn chart(usage: &YearUsage) -> String {
    use std::fmt::Write as _;
    let (width, height, left, bottom, top) = (760.0_f64, 300.0_f64, 56.0_f64, 40.0_f64, 16.0_f64);
    let totals: Vec<i64> =
        (0..usage.periods.len()).map(|index| usage.clients.values().map(|row| row[index].0).sum()).collect();
    let max = totals.iter().copied().max().unwrap_or(0).max(1);
    let step = nice_step(max);
    let top_value = (max + step - 1) / step * step;
    let plot_height = height - bottom - top;
    let band = (width - left - 8.0) / usage.periods.len().max(1) as f64;
    let y = |value: i64| top + plot_height * (1.0 - value as f64 / top_value as f64);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg id="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {}" role="img" aria-labelledby="chart-title chart-desc">"#,
        height + 24.0 * ((usage.clients.len() as f64) / 4.0).ceil()
    );
    let _ = write!(svg, r#"<title id="chart-title">New unique users per PGO per period</title>"#);
    let summary: Vec<String> =
        usage.periods.iter().zip(&totals).map(|(period, total)| format!("{period}: {total}")).collect();
    let _ = write!(svg, r#"<desc id="chart-desc">{}</desc>"#, escape(&summary.join("; ")));
    let mut tick = 0;
    while tick <= top_value {
        let _ = write!(
            svg,
            r##"<line x1="{left}" x2="{}" y1="{y}" y2="{y}" stroke="#dddddd"/><text x="{}" y="{}" text-anchor="end" font-size="11">{tick}</text>"##,
            width - 8.0,
            left - 6.0,
            y(tick) + 4.0,
            y = y(tick)
        );
        tick += step;
    }
    for (index, period) in usage.periods.iter().enumerate() {
        let x = left + band * index as f64 + band * 0.15;
        let mut base = 0_i64;
        for (colour, (client, row)) in PALETTE.iter().cycle().zip(&usage.clients) {
            let users = row[index].0;
            if users == 0 {
                continue;
            }
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{colour}"><title>{}: {users} in {period}</title></rect>"#,
                y(base + users),
                band * 0.7,
                y(base) - y(base + users),
                escape(client)
            );
            base += users;
        }
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{}" text-anchor="middle" font-size="11">{}</text>"#,
            x + band * 0.35,
            height - bottom + 16.0,
            period_label(period)
        );
    }
    for (index, (colour, client)) in PALETTE.iter().cycle().zip(usage.clients.keys()).enumerate() {
        let (column, line) = (index % 4, index / 4);
        let (x, y) = (left + 176.0 * column as f64, height + 4.0 + 24.0 * line as f64);
        let _ = write!(
            svg,
            r#"<rect x="{x}" y="{y}" width="12" height="12" fill="{colour}"/><text x="{}" y="{}" font-size="11">{}</text>"#,
            x + 16.0,
            y + 10.0,
            escape(client)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// `text` escaped for HTML and SVG.
fn escape(text: &str) -> String {
    html! { (text) }.into_string()
}

/// The axis label of a period: `Mar`, `Q1`, `2026`.
fn period_label(period: &Period) -> String {
    let text = period.to_string();
    match period.granularity() {
        Granularity::Month => {
            let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
            text[5..]
                .parse::<usize>()
                .ok()
                .and_then(|month| months.get(month - 1))
                .map_or(text.clone(), |m| (*m).to_owned())
        }
        Granularity::Quarter => text[5..].to_owned(),
        Granularity::Year => text,
    }
}

/// A round step for about five grid lines up to `max`.
fn nice_step(max: i64) -> i64 {
    let rough = (max as f64 / 5.0).max(1.0);
    let magnitude = 10_f64.powf(rough.log10().floor());
    let step =
        [1.0, 2.0, 5.0, 10.0].iter().map(|factor| factor * magnitude).find(|step| *step >= rough).unwrap_or(rough);
    step as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_as_euros() {
        assert_eq!(euros(750), "EUR 7.50");
        assert_eq!(euros(123_456_705), "EUR 1,234,567.05");
        assert_eq!(euros(0), "EUR 0.00");
    }

    #[test]
    fn grid_steps_are_round() {
        assert_eq!(nice_step(1), 1);
        assert_eq!(nice_step(7), 2);
        assert_eq!(nice_step(43), 10);
        assert_eq!(nice_step(170_000), 50_000);
    }

    #[test]
    fn the_chart_has_a_segment_per_pgo_with_users() {
        let periods = Period::of_year(Granularity::Quarter, 2026);
        let mut clients = BTreeMap::new();
        clients.insert("a.example".to_owned(), vec![(3, 2250), (0, 0), (1, 750), (0, 0)]);
        clients.insert("<b>.example".to_owned(), vec![(2, 1500), (0, 0), (0, 0), (0, 0)]);
        let svg = chart(&YearUsage { periods, clients });
        assert_eq!(svg.matches("<rect").count(), 3 + 2, "three segments and two legend keys");
        assert!(svg.contains("&lt;b&gt;.example") && !svg.contains("<b>"), "names are escaped");
        assert!(svg.contains("2026-Q1: 5"));
    }
}
