//! Metering of exchanges and what is made of it: the meter that counts every successful exchange
//! per PGO and person (`meter.rs`), the fee rules (`rules.rs`, periods in `period.rs`), the
//! auditors' usage reports (`report.rs`) and their signatures (`signing.rs`), and the access
//! log's writer (`access_log.rs`) and FHIR form (`audit_event.rs`), and the auditors who may read
//! them (`auditors.rs`).
//!
//! Persons appear only as pseudonyms: keyed hashes of the BSN that nobody without the deployment
//! secret can turn back into a BSN.

pub mod access_log;
pub mod audit_event;
pub mod auditors;
pub mod meter;
pub mod period;
pub mod report;
pub mod rules;
pub mod signing;

pub use access_log::AccessLog;
pub use auditors::{Auditor, Auditors, basic_credentials, secret_hash};
pub use meter::{Meter, Recorded};
pub use period::{Granularity, Period, PeriodError};
pub use report::{ReportRequest, ReportSettings, UsageReport};
pub use rules::{Exchange, ExchangeKind, Tariffs};
pub use signing::{SignatureError, SignedReport, VerifiedReport};
