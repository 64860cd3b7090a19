//! The person's browser, without a browser: follows redirects from an authorization request,
//! fills in each page's form from a set of answers (BSN, level of assurance, which button), and
//! stops when it is sent back to the PGO's redirect URI, or at a page it cannot answer (which is
//! then what the person was shown).

use crate::http::{Answer, Http};
use crate::outcome::Exchange;
use scraper::{ElementRef, Html, Selector};

/// At most this many pages and redirects per walk (a loop is a failure, not a hang).
const MAX_STEPS: usize = 24;

/// Where a walk ended.
#[derive(Debug, Clone)]
pub enum Reached {
    /// Sent back to the PGO: the redirect, whole.
    Redirect(url::Url),
    /// Stopped at a page (an error shown to the person, or a page without a form to fill in).
    Page {
        /// Its status.
        status: u16,
        /// Its URL.
        url: String,
        /// Its text.
        body: String,
    },
}

/// A request of the walk.
enum Step {
    Get(url::Url),
    Form { method: reqwest::Method, action: url::Url, fields: Vec<(String, String)> },
}

/// Walks from `start` until the redirect to `redirect_uri`, filling in forms from `answers`
/// (name, value); a submit button is pressed when its name and value are an answer, a link with
/// id `start_link` is followed on a page without a form. Every exchange goes to `records`.
pub async fn walk(
    http: &Http,
    start: url::Url,
    redirect_uri: &str,
    answers: &[(String, String)],
    start_link: &str,
    records: &mut Vec<Exchange>,
) -> Result<Reached, String> {
    let mut step = Step::Get(start);
    for _ in 0..MAX_STEPS {
        let request = match &step {
            Step::Get(url) => http.client().get(url.clone()),
            Step::Form { method, action, fields } if *method == reqwest::Method::GET => {
                let mut url = action.clone();
                url.query_pairs_mut().clear().extend_pairs(fields.iter());
                http.client().get(url)
            }
            Step::Form { action, fields, .. } => http.client().post(action.clone()).form(fields),
        };
        let (answer, record) = http.send(request).await;
        records.push(record);
        let answer = answer?;
        if (300..400).contains(&answer.status) {
            let location = answer.location().ok_or_else(|| format!("a {} without a Location", answer.status))?;
            if location.as_str().starts_with(redirect_uri) {
                return Ok(Reached::Redirect(location));
            }
            step = Step::Get(location);
            continue;
        }
        let page = Reached::Page { status: answer.status, url: answer.url.to_string(), body: answer.text() };
        if answer.status != 200 || !answer.media_type().contains("html") {
            return Ok(page);
        }
        match next_step(&answer, answers, start_link) {
            Some(next) => step = next,
            None => return Ok(page),
        }
    }
    Err(format!("no redirect to the PGO after {MAX_STEPS} pages and redirects"))
}

/// What to do on an HTML page: submit its form, or follow its start link.
fn next_step(answer: &Answer, answers: &[(String, String)], start_link: &str) -> Option<Step> {
    let document = Html::parse_document(&answer.text());
    let forms = selector("form")?;
    for form in document.select(&forms) {
        if let Some(step) = fill(&form, answers, &answer.url) {
            return Some(step);
        }
    }
    let link = selector(&format!("a[id=\"{start_link}\"]"))?;
    let href = document.select(&link).next()?.value().attr("href")?;
    answer.url.join(href).ok().map(Step::Get)
}

/// The form's submission with `answers` filled in, if one of its buttons is answered (or it has
/// a single unnamed one).
fn fill(form: &ElementRef<'_>, answers: &[(String, String)], page: &url::Url) -> Option<Step> {
    let answer = |name: &str| answers.iter().find(|(answered, _)| answered == name).map(|(_, value)| value.clone());
    let mut fields = Vec::new();
    let mut pressed: Option<(String, String)> = None;
    let mut unnamed_buttons = 0;
    let mut named_buttons = 0;
    for control in form.select(&selector("input, select, textarea, button")?) {
        let element = control.value();
        let kind = element.attr("type").unwrap_or(if element.name() == "button" { "submit" } else { "text" });
        let name = element.attr("name").unwrap_or_default().to_owned();
        let value = element.attr("value").unwrap_or_default().to_owned();
        match (element.name(), kind) {
            ("button" | "input", "submit") => {
                if name.is_empty() {
                    unnamed_buttons += 1;
                } else {
                    named_buttons += 1;
                    if pressed.is_none() && answer(&name).is_some_and(|answered| answered == value) {
                        pressed = Some((name, value));
                    }
                }
            }
            (_, _) if name.is_empty() => {}
            ("input", "hidden") => fields.push((name, value)),
            ("input", "checkbox" | "radio") => {
                let chosen = answer(&name).map_or(element.attr("checked").is_some(), |answered| answered == value);
                if chosen {
                    fields.push((name, if value.is_empty() { "on".into() } else { value }));
                }
            }
            ("select", _) => {
                let options: Vec<_> = control.select(&selector("option")?).collect();
                let chosen = answer(&name).or_else(|| {
                    options.iter().find(|option| option.value().attr("selected").is_some()).or(options.first()).map(
                        |option| {
                            option.value().attr("value").map(str::to_owned).unwrap_or_else(|| option.text().collect())
                        },
                    )
                });
                fields.push((name, chosen.unwrap_or_default()));
            }
            ("textarea", _) => fields.push((name.clone(), answer(&name).unwrap_or_else(|| control.text().collect()))),
            _ => fields.push((name.clone(), answer(&name).unwrap_or(value))),
        }
    }
    match pressed {
        Some(button) => fields.push(button),
        None if named_buttons == 0 && unnamed_buttons == 1 => {}
        None => return None,
    }
    let element = form.value();
    let method = match element.attr("method").map(str::to_ascii_lowercase).as_deref() {
        Some("post") => reqwest::Method::POST,
        _ => reqwest::Method::GET,
    };
    let action = page.join(element.attr("action").unwrap_or_default()).ok()?;
    Some(Step::Form { method, action, fields })
}

fn selector(css: &str) -> Option<Selector> {
    Selector::parse(css).ok()
}

/// `answers` with `{bsn}` and `{loa}` filled in and `overrides` replacing answers of the same name.
pub fn answers_for(
    template: &[(String, String)],
    bsn: &str,
    loa: &str,
    overrides: &[(String, String)],
) -> Vec<(String, String)> {
    let mut answers: Vec<(String, String)> = template
        .iter()
        .filter(|(name, _)| !overrides.iter().any(|(overridden, _)| overridden == name))
        .map(|(name, value)| (name.clone(), value.replace("{bsn}", bsn).replace("{loa}", loa)))
        .collect();
    answers.extend(overrides.iter().cloned());
    answers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(html: &str) -> Answer {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("content-type", reqwest::header::HeaderValue::from_static("text/html"));
        Answer {
            status: 200,
            headers,
            body: html.as_bytes().to_vec(),
            url: url::Url::parse("https://idp.example/login?x=1").unwrap(),
        }
    }

    fn answers() -> Vec<(String, String)> {
        answers_for(
            &crate::config::LoginForm::default().answers,
            "999911120",
            "http://eidas.europa.eu/LoA/substantial",
            &[],
        )
    }

    #[test]
    fn a_login_form_is_filled_in_and_its_answered_button_pressed() {
        let html = r#"<form method="post" action="/login/submit"><input type="hidden" name="request" value="r1">
            <label>BSN <input name="bsn"></label>
            <select name="loa"><option value="http://eidas.europa.eu/LoA/low">low</option>
              <option value="http://eidas.europa.eu/LoA/substantial" selected>s</option></select>
            <button name="action" value="login">Log in</button><button name="action" value="cancel">Cancel</button></form>"#;
        let Some(Step::Form { method, action, fields }) = next_step(&page(html), &answers(), "login") else {
            panic!("no form step");
        };
        assert_eq!(method, reqwest::Method::POST);
        assert_eq!(action.as_str(), "https://idp.example/login/submit");
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("request", "r1"),
                ("bsn", "999911120"),
                ("loa", "http://eidas.europa.eu/LoA/substantial"),
                ("action", "login")
            ]
        );
    }

    #[test]
    fn a_page_without_a_form_follows_its_start_link_and_an_unanswerable_form_stops() {
        let landing = r#"<p>Welcome</p><a id="login" href="/oauth/login">Log in with DigiD</a>"#;
        assert!(
            matches!(next_step(&page(landing), &answers(), "login"), Some(Step::Get(url)) if url.path() == "/oauth/login")
        );
        let other = r#"<form method="post"><button name="choice" value="x">X</button><button name="choice" value="y">Y</button></form>"#;
        assert!(next_step(&page(other), &answers(), "login").is_none());
    }

    #[test]
    fn overrides_replace_answers_of_the_same_name() {
        let answers = answers_for(
            &[("action".into(), "login".into()), ("bsn".into(), "{bsn}".into())],
            "1",
            "l",
            &[("action".into(), "cancel".into())],
        );
        assert_eq!(answers, [("bsn".to_owned(), "1".to_owned()), ("action".to_owned(), "cancel".to_owned())]);
    }
}
