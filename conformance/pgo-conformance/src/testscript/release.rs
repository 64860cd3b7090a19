//! Which FHIR release a script is written for. STU3 and R4 TestScripts share the FHIR namespace
//! and most elements, so the release is decided by evidence, strongest first:
//!
//! 1. XML that only one release's structure reads (STU3 `rule`/`ruleset`, R4 `operation.method`),
//!    unless its markers (below) say otherwise;
//! 2. markers in the script: the operation code system (`http://hl7.org/fhir/testscript-operation-codes`
//!    is STU3, `http://terminology.hl7.org/CodeSystem/...` R4), `rule`/`ruleset` (STU3) or
//!    `method` (R4) in JSON; only without those, `accept`/`contentType` as the STU3 codes
//!    `xml`/`json` or as R4 MIME types (the published R4 scripts write `json` and `xml` too);
//! 3. a folder or file name with a release token: `stu3`, `dstu3`, `fhir3`, `r3` or `r4`, `fhir4`
//!    (the published material is sorted that way, e.g. `FHIR3-0-2-...`);
//! 4. otherwise STU3, the release of most MedMij data services.
//!
//! A script neither release reads as it is (the dialect's `stopTestOnFail` element, a profile
//! with a `value`) is fitted to each release first (`dialect`), and the release whose fitted
//! reading its markers name is taken, with the warnings of what was left out.
//!
//! The release only decides how XML (fixtures, responses) becomes JSON; and because a wrong
//! guess would make valid XML unreadable, [`read_xml`] falls back to the other release.

use super::dialect;
use fhir_core::Release;
use serde_json::Value;
use std::path::Path;

/// A release and why it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    /// The release.
    pub release: Release,
    /// The evidence, in words (shown in reports).
    pub why: String,
}

/// A script as JSON, its release, and what was read past to read it.
pub(crate) type ReadScript = (Value, Detected, Vec<String>);

/// The release a script read from XML is for, the script as JSON, and the warnings.
pub(crate) fn of_xml(bytes: &[u8], path: &Path) -> Result<ReadScript, String> {
    let read = |release| fhir_xml::from_xml(release, bytes, fhir_xml::ReadLimits::default());
    let (stu3, r4) = (read(Release::Stu3), read(Release::R4));
    let strictly = match (&stu3, &r4) {
        (Ok(json), Ok(_)) => {
            let detected = of_json(json, path);
            return Ok((json.clone(), detected, Vec::new()));
        }
        (Ok(json), Err(_)) => Some((Release::Stu3, json)),
        (Err(_), Ok(json)) => Some((Release::R4, json)),
        (Err(_), Err(_)) => None,
    };
    // One release reads it as it is: taken, unless the script's own markers name the other.
    if let Some((release, json)) = strictly {
        let named = marker(json).map(|(named, _)| named);
        if named.is_none_or(|named| named == release) {
            let why = format!("only {} reads it", release.as_str().to_uppercase());
            return Ok((json.clone(), Detected { release, why }, Vec::new()));
        }
    }
    type Fitted = Result<(Value, Vec<String>), String>;
    let fitted = |release: Release| -> Fitted {
        let (xml, warnings) = dialect::fit_xml(bytes, release)?;
        let json =
            fhir_xml::from_xml(release, &xml, fhir_xml::ReadLimits::default()).map_err(|error| error.to_string())?;
        Ok((json, warnings))
    };
    let candidates: Vec<(Release, Fitted)> =
        [Release::Stu3, Release::R4].into_iter().map(|release| (release, fitted(release))).collect();
    let readable: Vec<(Release, &(Value, Vec<String>))> =
        candidates.iter().filter_map(|(release, read)| read.as_ref().ok().map(|read| (*release, read))).collect();
    let chosen = readable
        .iter()
        .find(|(release, (json, _))| marker(json).is_some_and(|(named, _)| named == *release))
        .or_else(|| readable.iter().find(|(release, _)| strictly.is_some_and(|(strict, _)| strict == *release)))
        .or_else(|| readable.first());
    match chosen {
        Some((release, (json, warnings))) => {
            let why = match marker(json) {
                Some((named, why)) if named == *release => why.to_owned(),
                _ => format!("read as {} with the dialect", release.as_str().to_uppercase()),
            };
            Ok((json.clone(), Detected { release: *release, why }, warnings.clone()))
        }
        None => {
            let why = |release: Release| match candidates.iter().find(|(candidate, _)| *candidate == release) {
                Some((_, Err(why))) => why.clone(),
                _ => String::new(),
            };
            Err(format!("not a FHIR TestScript (as STU3: {}; as R4: {})", why(Release::Stu3), why(Release::R4)))
        }
    }
}

/// The release a script in JSON form is for.
pub(crate) fn of_json(script: &Value, path: &Path) -> Detected {
    if let Some((release, why)) = marker(script) {
        return Detected { release, why: why.to_owned() };
    }
    if let Some(release) = from_path(path) {
        return Detected { release, why: "its folder or file name says so".into() };
    }
    Detected { release: Release::Stu3, why: "nothing in it tells; STU3 assumed".into() }
}

/// Reads FHIR XML as `release`, else as the other release (see the module comment); the first
/// error when neither reads it.
pub(crate) fn read_xml(bytes: &[u8], release: Release) -> Result<Value, String> {
    let other = if release == Release::Stu3 { Release::R4 } else { Release::Stu3 };
    fhir_xml::from_xml(release, bytes, fhir_xml::ReadLimits::default()).or_else(|first| {
        fhir_xml::from_xml(other, bytes, fhir_xml::ReadLimits::default()).map_err(|_| format!("not FHIR XML: {first}"))
    })
}

/// Evidence inside the script: the operation code system, `rule`/`ruleset` or `method` first;
/// only without those the format codes (published R4 load scripts still write `xml`).
fn marker(script: &Value) -> Option<(Release, &'static str)> {
    let mut strong = None;
    let mut weak = None;
    visit(script, &mut |key, value| {
        let found = match (key, value.as_str()) {
            ("system", Some("http://hl7.org/fhir/testscript-operation-codes")) => {
                Some((true, Release::Stu3, "its operation codes are STU3's"))
            }
            ("system", Some(system)) if system.starts_with("http://terminology.hl7.org/CodeSystem/testscript-") => {
                Some((true, Release::R4, "its operation codes are R4's"))
            }
            ("rule" | "ruleset", None) => Some((true, Release::Stu3, "it has rules (STU3 only)")),
            ("method", Some(_)) => Some((true, Release::R4, "an operation has a method (R4 only)")),
            ("accept" | "contentType", Some("xml" | "json" | "ttl" | "none")) => {
                Some((false, Release::Stu3, "it names formats by STU3 code"))
            }
            ("accept" | "contentType", Some(mime)) if mime.contains('/') => {
                Some((false, Release::R4, "it names formats by MIME type (R4)"))
            }
            _ => None,
        };
        match found {
            Some((true, release, why)) if strong.is_none() => strong = Some((release, why)),
            Some((false, release, why)) if weak.is_none() => weak = Some((release, why)),
            _ => {}
        }
    });
    strong.or(weak)
}

/// Calls `seen` with every key and value in `value`, depth first.
fn visit(value: &Value, seen: &mut dyn FnMut(&str, &Value)) {
    match value {
        Value::Object(members) => {
            for (key, member) in members {
                seen(key, member);
                visit(member, seen);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| visit(item, seen)),
        _ => {}
    }
}

/// A release token in the path, the nearest component first.
pub(crate) fn from_path(path: &Path) -> Option<Release> {
    path.components().rev().find_map(|component| {
        let name = component.as_os_str().to_string_lossy().to_ascii_lowercase();
        name.split(|c: char| !c.is_ascii_alphanumeric()).find_map(|token| match token {
            "stu3" | "dstu3" | "fhir3" | "r3" => Some(Release::Stu3),
            "r4" | "fhir4" => Some(Release::R4),
            _ => None,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operation_code_systems_tell_the_release() {
        let stu3 = json!({"test": [{"action": [{"operation": {"type": {"system": "http://hl7.org/fhir/testscript-operation-codes", "code": "search"}}}]}]});
        let r4 = json!({"test": [{"action": [{"operation": {"type": {"system": "http://terminology.hl7.org/CodeSystem/testscript-operation-codes", "code": "search"}}}]}]});
        assert_eq!(of_json(&stu3, Path::new("x/r4/a.json")).release, Release::Stu3);
        assert_eq!(of_json(&r4, Path::new("x/stu3/a.json")).release, Release::R4);
    }

    #[test]
    fn operation_codes_outweigh_format_codes() {
        let r4_load = json!({"setup": {"action": [{"operation": {"accept": "xml", "type": {"system": "http://touchstone.com/fhir/extended-operation-codes", "code": "purge"}}}]},
            "test": [{"action": [{"operation": {"type": {"system": "http://terminology.hl7.org/CodeSystem/testscript-operation-codes", "code": "updateCreate"}, "contentType": "xml"}}]}]});
        assert_eq!(of_json(&r4_load, Path::new("a.json")).release, Release::R4);
    }

    #[test]
    fn formats_tell_the_release_when_codes_do_not() {
        let stu3 = json!({"setup": {"action": [{"operation": {"accept": "json"}}]}});
        let r4 = json!({"setup": {"action": [{"operation": {"accept": "application/fhir+xml"}}]}});
        assert_eq!(of_json(&stu3, Path::new("a.json")).release, Release::Stu3);
        assert_eq!(of_json(&r4, Path::new("a.json")).release, Release::R4);
    }

    #[test]
    fn the_folder_name_is_the_last_resort_before_the_default() {
        let bare = json!({"resourceType": "TestScript"});
        assert_eq!(of_json(&bare, Path::new("q/FHIR4-0-1-Test/a.json")).release, Release::R4);
        assert_eq!(of_json(&bare, Path::new("q/FHIR3-0-2-Test/a.json")).release, Release::Stu3);
        assert_eq!(of_json(&bare, Path::new("q/error4/a.json")).release, Release::Stu3);
        assert!(of_json(&bare, Path::new("a.json")).why.contains("assumed"));
    }

    #[test]
    fn xml_only_one_release_reads_decides() {
        let stu3_only = br#"<TestScript xmlns="http://hl7.org/fhir"><url value="http://x/TestScript/a"/><name value="a"/><status value="active"/><rule><resource><reference value="r"/></resource></rule></TestScript>"#;
        let r4_only = br#"<TestScript xmlns="http://hl7.org/fhir"><url value="http://x/TestScript/a"/><name value="a"/><status value="active"/><test><action><operation><encodeRequestUrl value="true"/><method value="get"/></operation></action></test></TestScript>"#;
        assert_eq!(of_xml(stu3_only, Path::new("a.xml")).map(|(_, d, _)| d.release), Ok(Release::Stu3));
        assert_eq!(of_xml(r4_only, Path::new("a.xml")).map(|(_, d, _)| d.release), Ok(Release::R4));
        assert!(of_xml(b"<Patient xmlns=\"urn:other\"/>", Path::new("a.xml")).is_err());
    }
}
