//! Synthetic patients with realistic BgZ records: every record of the demo patient (Anna), given
//! new ids, references and a BSN per patient; the shared resources (GP practice, insurer,
//! practitioner, medications) once for all. The same for her R4 vaccinations (Vaccinaties, data
//! service 63): her Patient and two Immunizations per synthetic patient, the location,
//! practitioner role, practitioner and hospital they point to once.

use fhir_core::Release;
use serde_json::Value;
use std::collections::HashSet;

/// The demo patient whose records are the templates.
const TEMPLATE_PATIENT: &str = "demo-patient-anna";

/// The templates: the patient's own records, and the shared resources.
pub(crate) struct Templates {
    own: Vec<Value>,
    own_ids: HashSet<String>,
    /// Resources in no patient's compartment, loaded once.
    pub(crate) shared: Vec<Value>,
}

impl Templates {
    pub(crate) fn from_demo() -> anyhow::Result<Templates> {
        Templates::from_fixtures(Release::Stu3, |_| true)
    }

    /// The R4 templates of Vaccinaties: the demo patient's Patient and her two Immunizations
    /// (her vaccination recommendation left out), and the resources those point to.
    pub(crate) fn vaccinations() -> anyhow::Result<Templates> {
        Templates::from_fixtures(Release::R4, |resource| {
            matches!(resource["resourceType"].as_str(), Some("Patient" | "Immunization"))
        })
    }

    /// The demo patient's records of `release` that `keep` keeps, and the resources of no
    /// demo patient.
    fn from_fixtures(release: Release, keep: impl Fn(&Value) -> bool) -> anyhow::Result<Templates> {
        let mut own = Vec::new();
        let mut shared = Vec::new();
        for (_, text) in demo::fixtures(release) {
            let resource: Value = serde_json::from_str(text)?;
            if text.contains(TEMPLATE_PATIENT) {
                if keep(&resource) {
                    own.push(resource);
                }
            } else if !text.contains("demo-patient-") {
                shared.push(resource);
            }
        }
        let own_ids = own.iter().filter_map(|resource| resource["id"].as_str().map(str::to_owned)).collect();
        Ok(Templates { own, own_ids, shared })
    }

    /// Resources per patient.
    pub(crate) fn per_patient(&self) -> usize {
        self.own.len()
    }

    /// The records of synthetic patient `index`, with its BSN.
    pub(crate) fn patient(&self, index: usize) -> (String, Vec<Value>) {
        let bsn = bsn(index);
        let suffix = format!("-{index}");
        let resources = self
            .own
            .iter()
            .map(|template| {
                let mut resource = template.clone();
                if let Some(id) = resource["id"].as_str().map(|id| format!("{id}{suffix}")) {
                    resource["id"] = Value::String(id);
                }
                self.rewrite(&mut resource, &suffix, &bsn);
                resource
            })
            .collect();
        (bsn, resources)
    }

    /// Points references to the patient's own records at its copies, and gives it its BSN.
    fn rewrite(&self, value: &mut Value, suffix: &str, bsn: &str) {
        match value {
            Value::Object(members) => {
                if members.get("system").and_then(Value::as_str) == Some(fhir_core::BSN_SYSTEM) {
                    members.insert("value".into(), Value::String(bsn.to_owned()));
                }
                if let Some(Value::String(reference)) = members.get_mut("reference")
                    && let Some((resource_type, id)) = reference.split_once('/')
                    && self.own_ids.contains(id)
                {
                    *reference = format!("{resource_type}/{id}{suffix}");
                }
                for member in members.values_mut() {
                    self.rewrite(member, suffix, bsn);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.rewrite(item, suffix, bsn)),
            _ => {}
        }
    }
}

/// A nine-digit number passing the 11-test, different for every `index`.
pub(crate) fn bsn(index: usize) -> String {
    // Eight free digits, the ninth chosen so that the weighted sum is a multiple of 11. Each
    // index has two prefixes of its own: when the first cannot be completed (its check digit
    // would be 10, or the sum 0), the next one can.
    let mut prefix = 10_000_000 + (index as u64) * 2;
    loop {
        let digits: Vec<u64> = format!("{prefix:08}").bytes().map(|b| u64::from(b - b'0')).collect();
        let sum: u64 = digits.iter().zip([9, 8, 7, 6, 5, 4, 3, 2]).map(|(digit, weight)| digit * weight).sum();
        let candidate = format!("{prefix:08}{}", sum % 11);
        if sum % 11 < 10 && identity::is_valid_bsn(&candidate) {
            return candidate;
        }
        prefix += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bsns_pass_the_eleven_test_and_differ() {
        let bsns: HashSet<String> = (0..5000).map(bsn).collect();
        assert_eq!(bsns.len(), 5000);
        assert!(bsns.iter().all(|bsn| identity::is_valid_bsn(bsn)));
    }

    #[test]
    fn a_synthetic_patient_points_only_at_its_own_copies() {
        let templates = Templates::from_demo().expect("templates");
        let (bsn, resources) = templates.patient(7);
        assert_eq!(resources.len(), templates.per_patient());
        let text = serde_json::to_string(&resources).unwrap_or_default();
        assert!(text.contains("\"Patient/demo-patient-anna-7\""));
        assert!(!text.contains("\"Patient/demo-patient-anna\""));
        assert!(text.contains(&bsn));
    }

    #[test]
    fn a_synthetic_vaccination_patient_has_a_patient_and_two_immunizations() {
        let templates = Templates::vaccinations().expect("templates");
        let (_, resources) = templates.patient(3);
        let types: Vec<&str> = resources.iter().filter_map(|resource| resource["resourceType"].as_str()).collect();
        assert_eq!(types.iter().filter(|kind| **kind == "Immunization").count(), 2);
        assert_eq!(types.iter().filter(|kind| **kind == "Patient").count(), 1);
        let text = serde_json::to_string(&resources).unwrap_or_default();
        assert!(text.contains("\"Patient/demo-patient-anna-r4-3\""));
        assert!(templates.shared.iter().all(|resource| resource["resourceType"] != "Patient"));
    }
}
