//! The access log as FHIR R4 `AuditEvent` resources (the form NEN 7513 logs are exchanged in):
//! one per logged request, with the PGO as the requesting agent, the person (by pseudonym) and
//! every returned resource as entities, and the MedMij ids as details.

use crate::period::format_instant;
use serde_json::{Value, json};
use store::{AccessEntry, AccessOutcome, Interaction};

const PSEUDONYM_SYSTEM: &str = "urn:pgo-exchange:pseudonym";
const CLIENT_SYSTEM: &str = "urn:medmij:oauth-client";

/// The AuditEvent of entry `id`; `public_url` is the service's, for absolute references.
pub fn audit_event(id: i64, entry: &AccessEntry, public_url: &str) -> Value {
    // R4 AuditEvent.action (C create, R read, E execute) and the restful interaction it was.
    let (action, subtype) = match entry.interaction {
        Interaction::Read => ("R", "read"),
        Interaction::Search => ("E", "search-type"),
        Interaction::Lastn => ("E", "operation"),
        Interaction::Create => ("C", "create"),
        Interaction::Transaction => ("E", "transaction"),
        Interaction::Batch => ("E", "batch"),
    };
    // R4 AuditEvent.outcome: 0 success, 4 minor failure (refused), 8 serious failure.
    let outcome = match entry.outcome {
        AccessOutcome::Success => "0",
        AccessOutcome::Refused => "4",
        AccessOutcome::Failed => "8",
    };
    let base = format!("{public_url}/{}/{}/fhir", entry.provider, entry.data_service);
    let mut agent = json!({
        "type": { "coding": [{ "system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110150", "display": "Application" }] },
        "requestor": true,
    });
    match &entry.client_id {
        Some(client) => {
            agent["who"] = json!({ "identifier": { "system": CLIENT_SYSTEM, "value": client }, "display": client })
        }
        None => agent["who"] = json!({ "display": "an unidentified client (no valid access token)" }),
    }
    if let Some(peer) = &entry.peer {
        // Network access point type 2: an IP address.
        agent["network"] = json!({ "address": peer, "type": "2" });
    }
    let mut entities: Vec<Value> = Vec::new();
    if let Some(pseudonym) = &entry.pseudonym {
        entities.push(json!({
            "what": { "identifier": { "system": PSEUDONYM_SYSTEM, "value": pseudonym } },
            "type": { "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1", "display": "Person" },
            "role": { "system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1", "display": "Patient" },
        }));
    }
    for returned in &entry.returned {
        entities.push(json!({
            "what": { "reference": format!("{base}/{returned}") },
            "type": { "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2", "display": "System Object" },
        }));
    }
    let mut details = vec![
        json!({ "type": "MedMij-Request-ID", "valueString": entry.request_id }),
        json!({ "type": "resource-type", "valueString": entry.resource_type }),
        json!({ "type": "http-status", "valueString": entry.status.to_string() }),
    ];
    if let Some(correlation) = &entry.correlation_id {
        details.push(json!({ "type": "X-Correlation-ID", "valueString": correlation }));
    }
    entities.push(json!({
        "what": { "display": format!("{} {} at {base}", entry.interaction.as_str(), entry.resource_type) },
        "type": { "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2", "display": "System Object" },
        "role": { "system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "24", "display": "Query" },
        "detail": details,
    }));
    json!({
        "resourceType": "AuditEvent",
        "id": id.to_string(),
        "type": { "system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest", "display": "RESTful Operation" },
        "subtype": [{ "system": "http://hl7.org/fhir/restful-interaction", "code": subtype }],
        "action": action,
        "recorded": format_instant(entry.at),
        "outcome": outcome,
        "outcomeDesc": format!("HTTP {}", entry.status),
        "agent": [agent],
        "source": {
            "site": public_url,
            "observer": { "display": format!("pgo-exchange at {public_url}") },
            "type": [{ "system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4", "display": "Application Server" }],
        },
        "entity": entities,
    })
}

/// A Bundle (`collection`) of the AuditEvents of `entries`, with a `next` link when `next` is
/// given.
pub fn audit_bundle(entries: &[(i64, AccessEntry)], public_url: &str, next: Option<&str>, now: i64) -> Value {
    let mut bundle = json!({
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": format_instant(now),
        "entry": entries.iter().map(|(id, entry)| json!({
            "fullUrl": format!("urn:pgo-exchange:audit-event:{id}"),
            "resource": audit_event(*id, entry, public_url),
        })).collect::<Vec<_>>(),
    });
    if let Some(next) = next {
        bundle["link"] = json!([{ "relation": "next", "url": next }]);
    }
    bundle
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_becomes_an_audit_event() {
        let entry = AccessEntry {
            at: 1_772_000_000_000,
            client_id: Some("pgo.example.nl".into()),
            pseudonym: Some("psn".into()),
            provider: "umcx".into(),
            data_service: "48".into(),
            interaction: Interaction::Search,
            resource_type: "Observation".into(),
            returned: vec!["Observation/a".into(), "Patient/p".into()],
            status: 200,
            outcome: AccessOutcome::Success,
            request_id: "req-1".into(),
            correlation_id: None,
            peer: Some("127.0.0.1".into()),
        };
        let event = audit_event(7, &entry, "https://pgx.example");
        assert_eq!(event["resourceType"], "AuditEvent");
        assert_eq!(event["outcome"], "0");
        assert_eq!(event["agent"][0]["who"]["identifier"]["value"], "pgo.example.nl");
        assert_eq!(event["entity"][0]["what"]["identifier"]["value"], "psn");
        assert_eq!(event["entity"][1]["what"]["reference"], "https://pgx.example/umcx/48/fhir/Observation/a");
        assert_eq!(event["entity"][3]["detail"][0]["valueString"], "req-1");
        let refused =
            AccessEntry { outcome: AccessOutcome::Refused, status: 401, client_id: None, pseudonym: None, ..entry };
        let event = audit_event(8, &refused, "https://pgx.example");
        assert_eq!(event["outcome"], "4");
        assert_eq!(event["entity"].as_array().map(Vec::len), Some(3));
    }

    #[test]
    fn each_interaction_is_audited_as_what_it_was() {
        let entry = |interaction| AccessEntry {
            at: 1_772_000_000_000,
            client_id: Some("pgo.example.nl".into()),
            pseudonym: Some("psn".into()),
            provider: "umcx".into(),
            data_service: "52".into(),
            interaction,
            resource_type: "Observation".into(),
            returned: Vec::new(),
            status: 200,
            outcome: AccessOutcome::Success,
            request_id: "req-1".into(),
            correlation_id: None,
            peer: None,
        };
        let audited = |interaction| {
            let event = audit_event(1, &entry(interaction), "https://pgx.example");
            (event["action"].as_str().map(str::to_owned), event["subtype"][0]["code"].as_str().map(str::to_owned))
        };
        let expected = [
            (Interaction::Read, "R", "read"),
            (Interaction::Search, "E", "search-type"),
            (Interaction::Lastn, "E", "operation"),
            (Interaction::Create, "C", "create"),
            (Interaction::Transaction, "E", "transaction"),
            (Interaction::Batch, "E", "batch"),
        ];
        for (interaction, action, subtype) in expected {
            assert_eq!(audited(interaction), (Some(action.to_owned()), Some(subtype.to_owned())), "{interaction:?}");
        }
        assert_eq!(expected.len(), Interaction::ALL.len(), "every interaction is audited");
    }
}
