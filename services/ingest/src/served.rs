//! What a PGO receives of a resource: the resource as stored, without a BSN anywhere. MedMij
//! allows no BSN in anything a PGO receives, the person's own Patient included; the published
//! reference data shows how: the identifier keeps its `system`, and its value is replaced by the
//! `data-absent-reason` extension with code `masked` (JSON `_value`, XML `<value><extension>`).
//!
//! Masked here, once, when a resource is stored (`ResourceWrite::served`), so that an answer is
//! still a join of stored text:
//! - every identifier of the BSN system, wherever it is (a Patient's, a RelatedPerson's, a
//!   contained resource's, a Reference's `identifier`, an extension's `valueIdentifier`);
//! - a conditional reference naming a BSN (`Patient?identifier=<BSN system>|<BSN>`): replaced by
//!   the literal reference to the Patient ingest found for it, or, when it found none there, the
//!   BSN in it masked;
//! - the narrative (`text.div`, also of contained resources): every number there that is a BSN of
//!   the resource's identifiers, and every nine-digit number passing the 11-test, in the forms a
//!   BSN is written (`999911120`, `9999.11.120`, `999 911 120`), replaced by asterisks. A code in
//!   a narrative that happens to pass the 11-test is masked too: a narrative is for reading, and a
//!   BSN read there is the harm this prevents.

use fhir_core::BSN_SYSTEM;
use serde_json::{Map, Value, json};

/// The extension that says a value is withheld.
const DATA_ABSENT_REASON: &str = "http://hl7.org/fhir/StructureDefinition/data-absent-reason";

/// What a masked digit shows.
const MASK: char = '*';

/// The `_value` of a withheld value.
fn masked() -> Value {
    json!({"extension": [{"url": DATA_ABSENT_REASON, "valueCode": "masked"}]})
}

/// The resource as a PGO may receive it, or `None` when it holds no BSN (it is served as
/// stored). `owner` is the Patient a conditional reference by BSN was found to be, if one was.
pub fn without_bsn(resource: &Value, owner: Option<&str>) -> Option<Value> {
    let mut bsns = Vec::new();
    collect_bsns(resource, &mut bsns);
    let mut served = resource.clone();
    let changed = mask(&mut served, &bsns, owner);
    changed.then_some(served)
}

/// Every BSN value of the resource's identifiers.
fn collect_bsns(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(members) => {
            if is_bsn_identifier(members)
                && let Some(Value::String(bsn)) = members.get("value")
            {
                into.push(bsn.trim().to_owned());
            }
            members.values().for_each(|member| collect_bsns(member, into));
        }
        Value::Array(items) => items.iter().for_each(|item| collect_bsns(item, into)),
        _ => {}
    }
}

fn is_bsn_identifier(members: &Map<String, Value>) -> bool {
    members.get("system").and_then(Value::as_str) == Some(BSN_SYSTEM)
}

/// Masks what `value` holds of BSNs; says whether anything changed.
fn mask(value: &mut Value, bsns: &[String], owner: Option<&str>) -> bool {
    match value {
        Value::Object(members) => {
            let mut changed = false;
            if is_bsn_identifier(members) && members.get("value").is_some() {
                // In the value's place, so that the identifier reads as it did.
                *members = std::mem::take(members)
                    .into_iter()
                    .filter(|(name, _)| name != "_value")
                    .map(|(name, member)| match name.as_str() {
                        "value" => ("_value".to_owned(), masked()),
                        _ => (name, member),
                    })
                    .collect();
                changed = true;
            }
            if let Some(Value::String(reference)) = members.get_mut("reference")
                && let Some(rewritten) = conditional_by_bsn(reference, owner)
            {
                *reference = rewritten;
                changed = true;
            }
            if let Some(Value::String(div)) = members.get_mut("div")
                && let Some(masked) = narrative_without_bsn(div, bsns)
            {
                *div = masked;
                changed = true;
            }
            for member in members.values_mut() {
                changed |= mask(member, bsns, owner);
            }
            changed
        }
        Value::Array(items) => items.iter_mut().fold(false, |changed, item| mask(item, bsns, owner) | changed),
        _ => false,
    }
}

/// A reference `Patient?identifier=<BSN system>|<BSN>` as served: the literal reference to
/// `owner`, or the conditional one with its BSN masked; `None` for any other reference.
fn conditional_by_bsn(reference: &str, owner: Option<&str>) -> Option<String> {
    let (resource_type, query) = reference.split_once('?')?;
    let decoded = percent_encoding::percent_decode_str(query).decode_utf8_lossy();
    if !decoded.contains(BSN_SYSTEM) {
        return None;
    }
    match owner {
        Some(id) if resource_type == "Patient" => Some(format!("Patient/{id}")),
        _ => Some(format!("{resource_type}?identifier={BSN_SYSTEM}%7Cmasked")),
    }
}

/// `text` (a finding's message that quotes a value) with every number that may be a BSN masked.
pub(crate) fn text_without_bsn(text: &str) -> String {
    narrative_without_bsn(text, &[]).unwrap_or_else(|| text.to_owned())
}

/// The narrative with every BSN written in it masked, or `None` when it shows none.
fn narrative_without_bsn(div: &str, bsns: &[String]) -> Option<String> {
    let chars: Vec<char> = div.chars().collect();
    let mut out = String::with_capacity(div.len());
    let mut changed = false;
    let mut index = 0;
    while index < chars.len() {
        let preceded_by_digit = index > 0 && chars[index - 1].is_ascii_digit();
        match (!preceded_by_digit).then(|| bsn_at(&chars[index..], bsns)).flatten() {
            Some(length) => {
                out.extend(chars[index..index + length].iter().map(|c| if c.is_ascii_digit() { MASK } else { *c }));
                index += length;
                changed = true;
            }
            None => {
                out.push(chars[index]);
                index += 1;
            }
        }
    }
    changed.then_some(out)
}

/// The length of a BSN written at the start of `text` (and not followed by another digit).
fn bsn_at(text: &[char], bsns: &[String]) -> Option<usize> {
    // As written: nine digits, or 4.2.3 with dots, or 3-3-3 with spaces.
    for groups in [&[9][..], &[4, 2, 3], &[3, 3, 3]] {
        let separator = match groups.len() {
            1 => None,
            _ if groups[0] == 4 => Some('.'),
            _ => Some(' '),
        };
        let mut digits = String::new();
        let mut at = 0;
        let mut fits = true;
        for (position, group) in groups.iter().enumerate() {
            if position > 0 {
                if text.get(at) != separator.as_ref() {
                    fits = false;
                    break;
                }
                at += 1;
            }
            for _ in 0..*group {
                match text.get(at) {
                    Some(c) if c.is_ascii_digit() => digits.push(*c),
                    _ => {
                        fits = false;
                        break;
                    }
                }
                at += 1;
            }
            if !fits {
                break;
            }
        }
        let ends = !text.get(at).is_some_and(char::is_ascii_digit);
        if fits && ends && (identity::is_valid_bsn(&digits) || bsns.contains(&digits)) {
            return Some(at);
        }
    }
    None
}

/// The name of the work that gives resources stored before the `served` column their served body.
const BACKFILL: &str = "served-bodies";
/// Resources read per statement by that work.
const BACKFILL_BATCH: i64 = 1_000;

/// Gives every stored resource without a served body that holds a BSN one, once (a migration asks for it,
/// for the resources stored before served bodies were made at ingest); returns how many got
/// one. Running it twice, or on two instances at once, sets the same values.
pub async fn backfill(store: &store::Store) -> Result<usize, store::StoreError> {
    if !store.pending_work(BACKFILL).await? {
        return Ok(0);
    }
    let (mut after, mut masked) = (0, 0);
    loop {
        let batch = store.bodies_after(after, BACKFILL_BATCH).await?;
        let Some(last) = batch.last() else { break };
        after = last.rid;
        for stored in &batch {
            let Ok(body) = serde_json::from_str::<Value>(&stored.body) else { continue };
            let owner = stored.owner.as_deref().filter(|_| body.get("resourceType") != Some(&json!("Patient")));
            if let Some(served) = without_bsn(&body, owner) {
                store.set_served(stored.rid, &served.to_string()).await?;
                masked += 1;
            }
        }
    }
    store.work_done(BACKFILL).await?;
    Ok(masked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked_value() -> Value {
        masked()
    }

    #[test]
    fn bsn_identifiers_keep_their_system_and_lose_their_value_wherever_they_are() {
        let patient = json!({"resourceType": "Patient", "id": "p",
            "identifier": [{"system": BSN_SYSTEM, "value": "999911120"}, {"system": "urn:oid:1.2.3", "value": "7"}],
            "contained": [{"resourceType": "RelatedPerson", "identifier": [{"use": "official", "system": BSN_SYSTEM, "value": "999911284"}]}],
            "generalPractitioner": [{"identifier": {"system": BSN_SYSTEM, "value": "123456782"}, "display": "x"}]});
        let served = without_bsn(&patient, None).expect("masked");
        assert_eq!(served["identifier"][0], json!({"system": BSN_SYSTEM, "_value": masked_value()}));
        assert_eq!(served["identifier"][1], json!({"system": "urn:oid:1.2.3", "value": "7"}));
        assert_eq!(
            served["contained"][0]["identifier"][0],
            json!({"use": "official", "system": BSN_SYSTEM, "_value": masked_value()})
        );
        assert_eq!(served["generalPractitioner"][0]["identifier"]["_value"], masked_value());
        for bsn in ["999911120", "999911284", "123456782"] {
            assert!(!served.to_string().contains(bsn), "{bsn}");
        }
    }

    #[test]
    fn the_narrative_shows_no_bsn_in_any_written_form() {
        let patient = json!({"resourceType": "Patient", "id": "p", "identifier": [{"system": BSN_SYSTEM, "value": "012345672"}],
            "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Id 999911120, BSN: 1234.56.782 en 999 911 284; bsn 012345672; tel 0612345678; code 1234567890; 2019-03-12</div>"}});
        let served = without_bsn(&patient, None).expect("masked");
        let div = served["text"]["div"].as_str().expect("div");
        assert!(div.contains("Id *********, BSN: ****.**.*** en *** *** ***; bsn *********;"), "{div}");
        // Numbers that are no BSN stay: ten digits, a date.
        assert!(div.contains("tel 0612345678; code 1234567890; 2019-03-12"), "{div}");
    }

    #[test]
    fn a_conditional_reference_by_bsn_becomes_the_patient_it_named() {
        let observation = json!({"resourceType": "Observation",
            "subject": {"reference": "Patient?identifier=http://fhir.nl/fhir/NamingSystem/bsn%7C999911120"},
            "performer": [{"reference": "Patient?identifier=http://fhir.nl/fhir/NamingSystem/bsn|999911284"}]});
        let served = without_bsn(&observation, Some("p1")).expect("rewritten");
        assert_eq!(served["subject"]["reference"], "Patient/p1");
        let unowned = without_bsn(&observation, None).expect("masked");
        assert!(!unowned.to_string().contains("999911120") && !unowned.to_string().contains("999911284"));
    }

    #[test]
    fn a_resource_without_a_bsn_is_served_as_stored() {
        let observation = json!({"resourceType": "Observation", "code": {"coding": [{"system": "http://snomed.info/sct", "code": "271649006"}]},
            "subject": {"reference": "Patient/p1"}, "text": {"div": "<div>Bloeddruk 120/80</div>"}});
        assert_eq!(without_bsn(&observation, Some("p1")), None);
    }
}
