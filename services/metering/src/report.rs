//! The usage report of a period: per PGO the new unique users, the amount due and the evidence
//! (each user's pseudonym with their first exchange of the year: time, request id, provider and
//! data service), in JSON or CSV. Amounts are integer euro cents.

use crate::period::{Period, format_instant};
use crate::rules::Tariffs;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use store::{FirstExchange, Store, StoreError};

/// What the report says it is.
pub const REPORT_KIND: &str = "pgo-exchange usage report";

/// A usage report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageReport {
    /// Always [`REPORT_KIND`].
    pub kind: String,
    /// The service that witnessed the exchanges (its public URL).
    pub issuer: String,
    /// When the report was made.
    pub generated_at: String,
    /// The period reported on.
    pub period: PeriodInfo,
    /// The one PGO reported on, or none for all.
    pub client_id: Option<String>,
    /// Always `EUR`.
    pub currency: String,
    /// Per PGO with new users, by client id.
    pub clients: Vec<ClientUsage>,
    /// Sums over the PGOs.
    pub totals: Totals,
}

/// A reporting period and its bounds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodInfo {
    /// `2026-03`, `2026-Q1` or `2026`.
    pub id: String,
    /// Its first instant.
    pub start: String,
    /// The first instant after it.
    pub end: String,
    /// The zone its days are reckoned in.
    pub zone: String,
}

/// One PGO's usage in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientUsage {
    /// The PGO's client id.
    pub client_id: String,
    /// New unique users.
    pub new_users: u64,
    /// The amount due, in euro cents.
    pub amount_cents: i64,
    /// Each new user's first exchange.
    pub evidence: Vec<Evidence>,
}

/// A new user's first exchange of the year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The person's pseudonym.
    pub pseudonym: String,
    /// When.
    pub first_exchange: String,
    /// Its `MedMij-Request-ID`.
    pub request_id: String,
    /// The provider.
    pub provider: String,
    /// The data service.
    pub data_service: String,
    /// `collect` or `share`.
    pub kind: String,
    /// The fee for this user, in euro cents.
    pub tariff_cents: i64,
}

/// Sums over the PGOs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// PGOs with new users.
    pub clients: u64,
    /// New unique users.
    pub new_users: u64,
    /// The amount due, in euro cents.
    pub amount_cents: i64,
}

/// How a report is asked for.
#[derive(Debug, Clone)]
pub struct ReportRequest<'a> {
    /// The period.
    pub period: Period,
    /// One PGO, or all.
    pub client_id: Option<&'a str>,
}

/// What the report is made with.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    /// The service's public URL.
    pub issuer: String,
    /// The zone of the calendar.
    pub zone: Tz,
    /// The fee.
    pub tariffs: Tariffs,
}

/// Builds the report asked for, at `now` (ms).
pub async fn build(
    store: &Store,
    settings: &ReportSettings,
    request: &ReportRequest<'_>,
    now: i64,
) -> Result<UsageReport, StoreError> {
    let (start, end) = request.period.bounds(settings.zone);
    let firsts = store.usage().first_exchanges(i64::from(request.period.year), start, end, request.client_id).await?;
    Ok(assemble(settings, request, (start, end), firsts, now))
}

/// The report from the first exchanges in the period, sorted by PGO.
fn assemble(
    settings: &ReportSettings,
    request: &ReportRequest<'_>,
    (start, end): (i64, i64),
    firsts: Vec<FirstExchange>,
    now: i64,
) -> UsageReport {
    let mut clients: Vec<ClientUsage> = Vec::new();
    let tariffs = settings.tariffs.schedule(settings.zone);
    for first in firsts {
        let tariff_cents = tariffs.cents_at(first.first_at);
        let evidence = Evidence {
            pseudonym: first.pseudonym,
            first_exchange: format_instant(first.first_at),
            request_id: first.request_id,
            provider: first.provider,
            data_service: first.data_service,
            kind: first.kind,
            tariff_cents,
        };
        match clients.last_mut() {
            Some(usage) if usage.client_id == first.client_id => {
                usage.new_users += 1;
                usage.amount_cents += tariff_cents;
                usage.evidence.push(evidence);
            }
            _ => clients.push(ClientUsage {
                client_id: first.client_id,
                new_users: 1,
                amount_cents: tariff_cents,
                evidence: vec![evidence],
            }),
        }
    }
    let totals = Totals {
        clients: clients.len() as u64,
        new_users: clients.iter().map(|usage| usage.new_users).sum(),
        amount_cents: clients.iter().map(|usage| usage.amount_cents).sum(),
    };
    UsageReport {
        kind: REPORT_KIND.to_owned(),
        issuer: settings.issuer.clone(),
        generated_at: format_instant(now),
        period: PeriodInfo {
            id: request.period.to_string(),
            start: format_instant(start),
            end: format_instant(end),
            zone: settings.zone.name().to_owned(),
        },
        client_id: request.client_id.map(str::to_owned),
        currency: "EUR".to_owned(),
        clients,
        totals,
    }
}

/// The CSV columns: a `client` row per PGO (its totals), then a `user` row per new user (the
/// evidence), and a last `total` row.
pub const CSV_HEADER: &str = "record,client_id,new_users,amount_cents,pseudonym,first_exchange,request_id,provider,data_service,kind,tariff_cents";

impl UsageReport {
    /// The report as JSON text.
    pub fn to_json(&self) -> String {
        // Sized once for the evidence (some 340 bytes a user, pretty-printed): growing by
        // doubling copied a year's half gigabyte over and over.
        let mut out = Vec::with_capacity(4_096 + 400 * self.totals.new_users as usize);
        match serde_json::to_writer_pretty(&mut out, self) {
            Ok(()) => String::from_utf8(out).unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// The report as CSV (RFC 4180: CRLF line ends, fields quoted when needed).
    pub fn to_csv(&self) -> String {
        let mut out = String::with_capacity(128 * (1 + self.totals.new_users as usize));
        let mut row = |fields: &[&str]| {
            let quoted: Vec<String> = fields.iter().map(|field| csv_field(field)).collect();
            out.push_str(&quoted.join(","));
            out.push_str("\r\n");
        };
        row(&CSV_HEADER.split(',').collect::<Vec<_>>());
        for usage in &self.clients {
            let (users, amount) = (usage.new_users.to_string(), usage.amount_cents.to_string());
            row(&["client", &usage.client_id, &users, &amount, "", "", "", "", "", "", ""]);
            for evidence in &usage.evidence {
                let tariff = evidence.tariff_cents.to_string();
                row(&[
                    "user",
                    &usage.client_id,
                    "",
                    "",
                    &evidence.pseudonym,
                    &evidence.first_exchange,
                    &evidence.request_id,
                    &evidence.provider,
                    &evidence.data_service,
                    &evidence.kind,
                    &tariff,
                ]);
            }
        }
        let (users, amount) = (self.totals.new_users.to_string(), self.totals.amount_cents.to_string());
        row(&["total", "", &users, &amount, "", "", "", "", "", "", ""]);
        out
    }
}

/// The characters that make a spreadsheet read a cell as a formula (or, tab and carriage return,
/// shift it into the next cell before it does): OWASP "CSV injection".
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A CSV field: neutralised when a spreadsheet would take it for a formula (a single quote in
/// front, which spreadsheets show as text and do not evaluate; some report fields, the request id
/// above all, are chosen by a PGO), then quoted when it holds a comma, a quote or a line break.
fn csv_field(field: &str) -> String {
    let field: std::borrow::Cow<'_, str> =
        if field.starts_with(FORMULA_STARTS) { format!("'{field}").into() } else { field.into() };
    if field.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(client: &str, person: &str, at: i64) -> FirstExchange {
        FirstExchange {
            client_id: client.into(),
            year: 2026,
            pseudonym: person.into(),
            first_at: at,
            request_id: format!("req,\"{person}\""),
            provider: "umcx".into(),
            data_service: "48".into(),
            kind: "collect".into(),
        }
    }

    fn report() -> UsageReport {
        let settings = ReportSettings {
            issuer: "https://pgx.example".into(),
            zone: chrono_tz::Europe::Amsterdam,
            tariffs: Tariffs::standard(),
        };
        let period: Period = "2026-03".parse().expect("period");
        let request = ReportRequest { period, client_id: None };
        let bounds = period.bounds(settings.zone);
        let march = bounds.0 + 86_400_000;
        let firsts =
            vec![first("a.example", "p1", march), first("a.example", "p2", march + 1), first("b.example", "p1", march)];
        assemble(&settings, &request, bounds, firsts, march + 10 * 86_400_000)
    }

    #[test]
    fn amounts_are_summed_per_pgo_in_cents() {
        let report = report();
        assert_eq!(report.clients.len(), 2);
        assert_eq!((report.clients[0].new_users, report.clients[0].amount_cents), (2, 1500));
        assert_eq!((report.clients[1].new_users, report.clients[1].amount_cents), (1, 750));
        assert_eq!(report.totals, Totals { clients: 2, new_users: 3, amount_cents: 2250 });
        assert_eq!(report.period.start, "2026-02-28T23:00:00.000Z");
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let csv = report().to_csv();
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], CSV_HEADER);
        assert_eq!(lines[1], "client,a.example,2,1500,,,,,,,");
        assert!(
            lines[2].starts_with("user,a.example,,,p1,2026-03-01T23:00:00.000Z,\"req,\"\"p1\"\"\",umcx,48,collect,750")
        );
        assert_eq!(lines[6], "total,,3,2250,,,,,,,");
        assert_eq!(lines.len(), 8, "seven rows and the empty rest after the last CRLF");
    }

    #[test]
    fn cells_a_spreadsheet_would_evaluate_are_neutralised() {
        assert_eq!(csv_field("=1+1"), "'=1+1");
        assert_eq!(csv_field("+31"), "'+31");
        assert_eq!(csv_field("-2"), "'-2");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("\tx"), "'\tx");
        assert_eq!(csv_field("\r=1"), "\"'\r=1\"");
        assert_eq!(
            csv_field("=HYPERLINK(\"http://evil.example\",\"x\")"),
            "\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\""
        );
        assert_eq!(csv_field("req-1=2"), "req-1=2", "only the first character matters");
        assert_eq!(csv_field("2026-03-01T23:00:00.000Z"), "2026-03-01T23:00:00.000Z");
    }

    #[test]
    fn a_formula_in_the_evidence_reaches_the_csv_as_text() {
        let mut report = report();
        report.clients[0].evidence[0].request_id = "=HYPERLINK(\"http://evil.example\",\"x\")".into();
        report.clients[0].evidence[1].request_id = "@cmd".into();
        let csv = report.to_csv();
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert!(lines[2].contains(",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",umcx,"), "{}", lines[2]);
        assert!(lines[3].contains(",'@cmd,umcx,"), "{}", lines[3]);
        for line in &lines {
            for cell in line.split(',') {
                assert!(!cell.starts_with(FORMULA_STARTS) && !cell.starts_with("\"="), "{line}");
            }
        }
    }
}
