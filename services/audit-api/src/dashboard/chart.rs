//! The dashboard's chart: a stacked bar per reporting period, a segment per PGO (server-rendered
//! SVG that scales with the page), and its legend as an HTML list, which wraps on a narrow screen
//! where a legend drawn inside the SVG would shrink with it.

use super::locale::Locale;
use super::texts::{Lang, Words};
use maud::{Markup, html};
use metering::Period;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// New unique users and cents per PGO per reporting period of a year.
pub(crate) struct YearUsage {
    pub(crate) periods: Vec<Period>,
    /// Per PGO, per period index: (users, cents).
    pub(crate) clients: BTreeMap<String, Vec<(i64, i64)>>,
}

impl YearUsage {
    /// Each PGO with its colour, in the order of the table.
    fn coloured(&self) -> impl Iterator<Item = (&'static str, &String, &Vec<(i64, i64)>)> {
        PALETTE.iter().copied().cycle().zip(&self.clients).map(|(colour, (client, row))| (colour, client, row))
    }
}

/// Colours of the PGOs' bar segments, in turn.
const PALETTE: [&str; 10] =
    ["#1f5f8b", "#d9822b", "#3a8f4b", "#b8403a", "#6d5a9c", "#8a5a44", "#c2569b", "#6b6b6b", "#9a9a2e", "#2b9aa8"];

/// The drawing's size in its own units. The page scales it to its column, so on a phone a unit
/// is about half a pixel; the stylesheet then enlarges the labels (`#chart text`), and the
/// margins leave room for that.
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 300.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 34.0;
const RIGHT: f64 = 8.0;
/// Room per character of a grid label at the largest size the stylesheet gives it.
const LABEL_CHARACTER: f64 = 12.0;

/// The chart, with a title and a description (the totals per period) for screen readers.
pub(crate) fn chart(usage: &YearUsage, lang: Lang) -> String {
    let texts = lang.texts();
    let totals: Vec<i64> =
        (0..usage.periods.len()).map(|index| usage.clients.values().map(|row| row[index].0).sum()).collect();
    let max = totals.iter().copied().max().unwrap_or(0).max(1);
    let step = nice_step(max);
    let top_value = (max + step - 1) / step * step;
    let left = 14.0 + LABEL_CHARACTER * lang.number(top_value).chars().count() as f64;
    let plot_height = HEIGHT - BOTTOM - TOP;
    let band = (WIDTH - left - RIGHT) / usage.periods.len().max(1) as f64;
    let y = |value: i64| TOP + plot_height * (1.0 - value as f64 / top_value as f64);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg id="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title chart-desc">"#
    );
    let _ = write!(svg, r#"<title id="chart-title">{}</title>"#, escape(texts.chart_title));
    let summary: Vec<String> = usage
        .periods
        .iter()
        .zip(&totals)
        .map(|(period, total)| format!("{}: {}", lang.period_long(period), lang.count(*total, &texts.new_users)))
        .collect();
    let _ = write!(svg, r#"<desc id="chart-desc">{}</desc>"#, escape(&summary.join("; ")));
    let mut tick = 0;
    while tick <= top_value {
        let _ = write!(
            svg,
            r##"<line x1="{left}" x2="{}" y1="{y}" y2="{y}" stroke="#dddddd"/><text x="{}" y="{}" text-anchor="end" font-size="13">{}</text>"##,
            WIDTH - RIGHT,
            left - 6.0,
            y(tick) + 4.0,
            lang.number(tick),
            y = y(tick)
        );
        tick += step;
    }
    for (index, period) in usage.periods.iter().enumerate() {
        let x = left + band * index as f64 + band * 0.15;
        let mut base = 0_i64;
        for (colour, client, row) in usage.coloured() {
            let users = row[index].0;
            if users == 0 {
                continue;
            }
            let tooltip = (texts.segment)(client, &lang.count(users, &texts.new_users), &lang.period_long(period));
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{colour}"><title>{}</title></rect>"#,
                y(base + users),
                band * 0.7,
                y(base) - y(base + users),
                escape(&tooltip)
            );
            base += users;
        }
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{}" text-anchor="middle" font-size="13">{}</text>"#,
            x + band * 0.35,
            HEIGHT - BOTTOM + 22.0,
            escape(&lang.period_short(period))
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The legend: each PGO's colour, name and new unique users in the year.
pub(crate) fn legend(usage: &YearUsage, lang: Lang) -> Markup {
    let texts = lang.texts();
    html! {
        ul.legend id="legend" aria-label=(texts.legend_label) {
            @for (colour, client, row) in usage.coloured() {
                li {
                    svg width="12" height="12" viewBox="0 0 12 12" aria-hidden="true" focusable="false" {
                        rect width="12" height="12" fill=(colour) {}
                    }
                    (client) ": " (lang.count(row.iter().map(|(users, _)| users).sum(), &texts.new_users))
                }
            }
        }
    }
}

/// `text` escaped for HTML and SVG.
fn escape(text: &str) -> String {
    html! { (text) }.into_string()
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
    use metering::Granularity;

    fn usage() -> YearUsage {
        let periods = Period::of_year(Granularity::Quarter, 2026);
        let mut clients = BTreeMap::new();
        clients.insert("a.example".to_owned(), vec![(3, 2250), (0, 0), (1, 750), (0, 0)]);
        clients.insert("<b>.example".to_owned(), vec![(1, 750), (0, 0), (0, 0), (0, 0)]);
        YearUsage { periods, clients }
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
        let svg = chart(&usage(), Lang::En);
        assert_eq!(svg.matches("<rect").count(), 3, "three segments");
        assert!(svg.contains("&lt;b&gt;.example") && !svg.contains("<b>"), "names are escaped");
        assert!(svg.contains("Q1 2026: 4 new unique users"), "{svg}");
        assert!(svg.contains("Q3 2026: 1 new unique user;"), "{svg}");
        assert!(svg.contains("&lt;b&gt;.example: 1 new unique user in Q1 2026"), "{svg}");
    }

    #[test]
    fn the_chart_speaks_dutch_by_its_labels_and_descriptions() {
        let svg = chart(&usage(), Lang::Nl);
        assert!(svg.contains(">Nieuwe unieke gebruikers per PGO per periode</title>"), "{svg}");
        assert!(svg.contains("K1 2026: 4 nieuwe unieke gebruikers; K2 2026: 0 nieuwe unieke gebruikers"), "{svg}");
        assert!(svg.contains("a.example: 3 nieuwe unieke gebruikers in K1 2026"), "{svg}");
        assert!(svg.contains(">K4</text>") && !svg.contains("Q4"), "{svg}");
    }

    #[test]
    fn grid_labels_are_grouped_by_language() {
        let mut big = usage();
        big.clients.insert("c.example".to_owned(), vec![(12_000, 0), (0, 0), (0, 0), (0, 0)]);
        assert!(chart(&big, Lang::Nl).contains(">15.000</text>"));
        assert!(chart(&big, Lang::En).contains(">15,000</text>"));
    }

    #[test]
    fn the_legend_counts_each_pgos_users_with_the_right_plural() {
        let dutch = legend(&usage(), Lang::Nl).into_string();
        assert!(dutch.contains("a.example: 4 nieuwe unieke gebruikers</li>"), "{dutch}");
        assert!(dutch.contains("&lt;b&gt;.example: 1 nieuwe unieke gebruiker</li>"), "{dutch}");
        let english = legend(&usage(), Lang::En).into_string();
        assert!(english.contains("a.example: 4 new unique users</li>"), "{english}");
        assert!(english.contains("&lt;b&gt;.example: 1 new unique user</li>"), "{english}");
        assert_eq!(english.matches("<rect").count(), 2, "a colour per PGO");
    }
}
