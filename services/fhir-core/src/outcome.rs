//! OperationOutcome: how every FHIR endpoint reports errors and warnings (FHIR R4 §2.38,
//! identical in the parts used here to STU3).

use serde_json::{Map, Value, json};

/// How bad an issue is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The request could not be processed at all.
    Fatal,
    /// The request failed.
    Error,
    /// The request succeeded, but something deserves attention.
    Warning,
    /// For information only.
    Information,
}

impl Severity {
    fn code(self) -> &'static str {
        match self {
            Severity::Fatal => "fatal",
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
        }
    }
}

/// The FHIR `IssueType` codes the service uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueCode {
    /// Content invalid against the specification or a profile.
    Invalid,
    /// A structural issue in the content (wrong type, unparseable).
    Structure,
    /// A required element is missing.
    Required,
    /// An element has an incorrect value.
    Value,
    /// An authentication or authorisation problem.
    Security,
    /// The user needs to log in (no or invalid credentials).
    Login,
    /// The credentials have expired.
    Expired,
    /// The user may not do this.
    Forbidden,
    /// Processing failed.
    Processing,
    /// The interaction, parameter or resource type is not supported.
    NotSupported,
    /// The content would duplicate an existing record.
    Duplicate,
    /// The referenced thing was not found.
    NotFound,
    /// The content is too long.
    TooLong,
    /// A conflict with the current state (version conflict).
    Conflict,
    /// An unexpected internal error.
    Exception,
    /// The request took too long or resources are exhausted.
    Transient,
    /// The operation would take more of the service than it allows (a limit on a search).
    TooCostly,
    /// Refused for now because of too many requests (or, here, too many failed attempts).
    Throttled,
    /// Informational note.
    Informational,
}

impl IssueCode {
    /// The code as it appears in `OperationOutcome.issue.code`.
    pub fn code(self) -> &'static str {
        match self {
            IssueCode::Invalid => "invalid",
            IssueCode::Structure => "structure",
            IssueCode::Required => "required",
            IssueCode::Value => "value",
            IssueCode::Security => "security",
            IssueCode::Login => "login",
            IssueCode::Expired => "expired",
            IssueCode::Forbidden => "forbidden",
            IssueCode::Processing => "processing",
            IssueCode::NotSupported => "not-supported",
            IssueCode::Duplicate => "duplicate",
            IssueCode::NotFound => "not-found",
            IssueCode::TooLong => "too-long",
            IssueCode::Conflict => "conflict",
            IssueCode::Exception => "exception",
            IssueCode::Transient => "transient",
            IssueCode::TooCostly => "too-costly",
            IssueCode::Throttled => "throttled",
            IssueCode::Informational => "informational",
        }
    }
}

/// One issue of an OperationOutcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// How bad it is.
    pub severity: Severity,
    /// What kind of issue.
    pub code: IssueCode,
    /// Human-readable detail; must never carry a BSN, SQL or a stack trace.
    pub diagnostics: String,
    /// Where, as FHIRPath expressions (e.g. `Observation.code.coding[0]`).
    pub expression: Vec<String>,
}

impl Issue {
    /// The issue in one line: `where: what` (or just `what` without a location).
    pub fn describe(&self) -> String {
        match self.expression.as_slice() {
            [] => self.diagnostics.clone(),
            locations => format!("{}: {}", locations.join(", "), self.diagnostics),
        }
    }
}

/// An OperationOutcome under construction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperationOutcome {
    /// The issues, in order.
    pub issues: Vec<Issue>,
}

impl OperationOutcome {
    /// An outcome with one error issue.
    pub fn error(code: IssueCode, diagnostics: impl Into<String>) -> Self {
        Self::default().with(Severity::Error, code, diagnostics, None)
    }

    /// Adds an issue, optionally located by an expression.
    pub fn with(
        mut self,
        severity: Severity,
        code: IssueCode,
        diagnostics: impl Into<String>,
        expression: Option<String>,
    ) -> Self {
        self.push(severity, code, diagnostics, expression);
        self
    }

    /// Adds an issue in place.
    pub fn push(
        &mut self,
        severity: Severity,
        code: IssueCode,
        diagnostics: impl Into<String>,
        expression: Option<String>,
    ) {
        self.issues.push(Issue {
            severity,
            code,
            diagnostics: diagnostics.into(),
            expression: expression.into_iter().collect(),
        });
    }

    /// Whether any issue is an error or fatal.
    pub fn has_errors(&self) -> bool {
        self.issues.iter().any(|issue| matches!(issue.severity, Severity::Error | Severity::Fatal))
    }

    /// The outcome as a FHIR JSON resource (the same shape in STU3 and R4).
    pub fn to_json(&self) -> Value {
        let issues: Vec<Value> = self
            .issues
            .iter()
            .map(|issue| {
                let mut entry = Map::new();
                entry.insert("severity".into(), json!(issue.severity.code()));
                entry.insert("code".into(), json!(issue.code.code()));
                if !issue.diagnostics.is_empty() {
                    entry.insert("diagnostics".into(), json!(issue.diagnostics));
                }
                if !issue.expression.is_empty() {
                    entry.insert("expression".into(), json!(issue.expression));
                }
                Value::Object(entry)
            })
            .collect();
        // An OperationOutcome needs at least one issue; an empty one means "all went well".
        let issues = if issues.is_empty() {
            vec![json!({"severity": "information", "code": "informational", "diagnostics": "All OK"})]
        } else {
            issues
        };
        json!({"resourceType": "OperationOutcome", "issue": issues})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_issues_with_their_location() {
        let outcome = OperationOutcome::error(IssueCode::Structure, "bad").with(
            Severity::Warning,
            IssueCode::Informational,
            "note",
            Some("Observation.code".into()),
        );
        assert_eq!(
            outcome.to_json(),
            json!({"resourceType": "OperationOutcome", "issue": [
                {"severity": "error", "code": "structure", "diagnostics": "bad"},
                {"severity": "warning", "code": "informational", "diagnostics": "note", "expression": ["Observation.code"]}
            ]})
        );
        assert!(outcome.has_errors());
    }

    #[test]
    fn an_empty_outcome_still_has_an_issue() {
        assert_eq!(OperationOutcome::default().to_json()["issue"][0]["severity"], "information");
    }
}
