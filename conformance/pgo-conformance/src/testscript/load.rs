//! Finding and reading TestScripts: every `.xml` and `.json` file under a folder whose root is a
//! `TestScript` (other FHIR files there are taken to be fixtures and skipped), with its release
//! and its fixtures read as JSON. A script that cannot be read is kept with its problem, so the
//! run reports it instead of losing it.

use super::builtins::Clock;
use super::dialect;
use super::model::TestScript;
use super::release::{self, Detected};
use super::state::{Problem, State};
use super::variables;
use anyhow::Context;
use fhir_core::Release;
use quick_xml::events::Event;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One TestScript file, read or not.
#[derive(Debug, Clone)]
pub struct LoadedScript {
    /// The file.
    pub path: PathBuf,
    /// The script, or why it could not be read.
    pub script: Result<Script, String>,
}

/// A TestScript ready to run.
#[derive(Debug, Clone)]
pub struct Script {
    /// `TestScript.id`, else the file stem.
    pub id: String,
    /// The release, and why.
    pub release: Detected,
    /// The resource.
    pub definition: TestScript,
    /// The fixtures by id, as JSON (built-ins and variables in them substituted).
    pub fixtures: BTreeMap<String, Value>,
    /// The clock its built-ins are worked out from.
    pub clock: Clock,
    /// The script's own UUID (`${UUID-ST}`).
    pub uuid: uuid::Uuid,
    /// Static variables' values worked out while reading it (fixtures used them).
    pub statics: BTreeMap<String, String>,
    /// What in the script the runner read past: elements it does not know, and why.
    pub warnings: Vec<String>,
}

impl Script {
    /// A script without fixtures, read at the system clock's now.
    pub(crate) fn new(id: impl Into<String>, release: Detected, definition: TestScript) -> Script {
        Script {
            id: id.into(),
            release,
            definition,
            fixtures: BTreeMap::new(),
            clock: Clock::system(),
            uuid: uuid::Uuid::new_v4(),
            statics: BTreeMap::new(),
            warnings: Vec::new(),
        }
    }
}

impl LoadedScript {
    /// The script's id, or the file stem when it could not be read.
    pub fn id(&self) -> String {
        match &self.script {
            Ok(script) => script.id.clone(),
            Err(_) => stem(&self.path),
        }
    }
}

/// Every TestScript under `dir` (recursively, hidden entries and symlinked folders left out), in
/// path order, read now. Only a folder that cannot be read is an error; a file that cannot be
/// read is a [`LoadedScript`] with its problem.
pub fn load_dir(dir: &Path) -> anyhow::Result<Vec<LoadedScript>> {
    load_dir_at(dir, &Clock::system())
}

/// As [`load_dir`], with built-ins worked out from `clock`.
pub fn load_dir_at(dir: &Path, clock: &Clock) -> anyhow::Result<Vec<LoadedScript>> {
    let mut files = Vec::new();
    collect(dir, &mut files).with_context(|| format!("reading the folder {}", dir.display()))?;
    files.sort();
    Ok(files.iter().filter_map(|path| load_file_at(path, clock)).collect())
}

/// The script in `path`; `None` when the file is FHIR but not a TestScript (a fixture).
pub fn load_file(path: &Path) -> Option<LoadedScript> {
    load_file_at(path, &Clock::system())
}

/// As [`load_file`], with built-ins worked out from `clock`.
pub fn load_file_at(path: &Path, clock: &Clock) -> Option<LoadedScript> {
    let script = match std::fs::read(path) {
        Ok(bytes) => parse(path, &bytes, clock)?,
        Err(error) => Err(format!("cannot read the file: {error}")),
    };
    Some(LoadedScript { path: path.to_owned(), script })
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let hidden = path.file_name().is_some_and(|name| name.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        // The entry's own type: a symlinked folder is not followed, so a link loop cannot recurse.
        if entry.file_type()?.is_dir() {
            collect(&path, files)?;
        } else if matches!(extension(&path).as_str(), "xml" | "json") {
            files.push(path);
        }
    }
    Ok(())
}

/// The script in `bytes`: `None` when it is not a TestScript.
fn parse(path: &Path, bytes: &[u8], clock: &Clock) -> Option<Result<Script, String>> {
    let read = if extension(path) == "xml" {
        match root_element(bytes) {
            Ok(root) if root != "TestScript" => return None,
            Ok(_) => release::of_xml(bytes, path),
            Err(why) => Err(why),
        }
    } else {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(json) if json["resourceType"] != "TestScript" => return None,
            Ok(json) => {
                let detected = release::of_json(&json, path);
                let warnings = dialect::json_warnings(&json, detected.release);
                Ok((json, detected, warnings))
            }
            Err(error) => Err(format!("not JSON: {error}")),
        }
    };
    Some(read.and_then(|(json, detected, warnings)| script(path, json, detected, warnings, clock)))
}

fn script(path: &Path, json: Value, release: Detected, warnings: Vec<String>, clock: &Clock) -> Result<Script, String> {
    let mut warnings = warnings;
    warnings.extend(dialect::extensions::unknown(&json));
    let definition: TestScript =
        serde_json::from_value(json).map_err(|error| format!("not a TestScript this runner reads: {error}"))?;
    let id = definition.id.clone().unwrap_or_else(|| stem(path));
    let mut script = Script { clock: *clock, warnings, ..Script::new(id, release, definition) };
    // Fixtures may hold built-ins and the script's static variables (`${DATE, T, Y, -17}`): they
    // are substituted in the fixture's text, before it is read, by a state that has no fixtures
    // yet. The values it worked out are the run's, so `T` is one date in fixtures and tests.
    let (fixtures, statics) = {
        let state = State::new(&script);
        (fixtures(path, &script.definition, script.release.release, &state)?, state.statics())
    };
    script.fixtures = fixtures;
    script.statics = statics;
    Ok(script)
}

/// The fixtures of `definition`: files relative to the script, or `#id` contained resources.
fn fixtures(
    path: &Path,
    definition: &TestScript,
    release: Release,
    state: &State<'_>,
) -> Result<BTreeMap<String, Value>, String> {
    let folder = path.parent().unwrap_or(Path::new("."));
    let mut fixtures = BTreeMap::new();
    for fixture in &definition.fixture {
        let id = fixture.id.clone().ok_or("a fixture has no id")?;
        let reference = fixture.resource.as_ref().and_then(|resource| resource.reference.as_deref());
        let reference = reference.ok_or_else(|| format!("fixture {id} has no resource reference"))?;
        let resource = if let Some(local) = reference.strip_prefix('#') {
            definition
                .contained
                .iter()
                .find(|resource| resource["id"] == local)
                .cloned()
                .ok_or_else(|| format!("fixture {id}: no contained resource {reference}"))?
        } else if reference.contains("://") {
            // Fetching would make a run depend on a third server; published material ships files.
            return Err(format!("fixture {id}: {reference} is remote; only files next to the script are read"));
        } else {
            read_fixture(&folder.join(reference), release, state)
                .map_err(|why| format!("fixture {id} ({reference}): {why}"))?
        };
        fixtures.insert(id, resource);
    }
    Ok(fixtures)
}

/// A fixture file, its `${...}` substituted (escaped for its format), as JSON.
pub(crate) fn read_fixture(path: &Path, release: Release, state: &State<'_>) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let xml = extension(path) == "xml";
    let text = if text.contains("${") {
        let escape: &dyn Fn(&str) -> String = if xml { &escape_xml } else { &escape_json };
        variables::substitute_escaped(&text, state, 0, escape).map_err(|problem| match problem {
            Problem::NotRun(why) | Problem::Failed(why) => format!("its variables: {why}"),
        })?
    } else {
        text
    };
    if xml {
        release::read_xml(text.as_bytes(), release)
    } else {
        serde_json::from_str(&text).map_err(|error| format!("not JSON: {error}"))
    }
}

fn escape_xml(value: &str) -> String {
    quick_xml::escape::escape(value).into_owned()
}

fn escape_json(value: &str) -> String {
    let quoted = serde_json::Value::String(value.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

/// The local name of the document's root element.
fn root_element(bytes: &[u8]) -> Result<String, String> {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    loop {
        match reader.read_event() {
            Ok(Event::Start(start) | Event::Empty(start)) => {
                return Ok(start.local_name().as_ref().to_owned());
            }
            Ok(Event::Eof) => return Err("an XML file without a root element".into()),
            Ok(_) => {}
            Err(error) => return Err(format!("malformed XML: {error}")),
        }
    }
}

fn extension(path: &Path) -> String {
    path.extension().map(|extension| extension.to_string_lossy().to_ascii_lowercase()).unwrap_or_default()
}

fn stem(path: &Path) -> String {
    path.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATIENT: &str = r#"<Patient xmlns="http://hl7.org/fhir"><id value="p1"/><gender value="female"/></Patient>"#;

    fn script_xml(fixtures: &str) -> String {
        format!(
            r#"<TestScript xmlns="http://hl7.org/fhir"><id value="demo"/><url value="http://x/TestScript/demo"/><name value="demo"/><status value="active"/>{fixtures}<test><action><operation><type><system value="http://hl7.org/fhir/testscript-operation-codes"/><code value="search"/></type><resource value="Patient"/></operation></action></test></TestScript>"#
        )
    }

    #[test]
    fn scripts_are_found_recursively_and_fixtures_are_not_scripts() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("sub/fixtures")).unwrap();
        std::fs::write(dir.path().join("sub/fixtures/patient.xml"), PATIENT).unwrap();
        let fixture = r#"<fixture id="f1"><autocreate value="false"/><autodelete value="false"/><resource><reference value="fixtures/patient.xml"/></resource></fixture>"#;
        std::fs::write(dir.path().join("sub/script.xml"), script_xml(fixture)).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a script").unwrap();
        let loaded = load_dir(dir.path()).unwrap();
        assert_eq!(loaded.len(), 1);
        let script = loaded[0].script.as_ref().unwrap();
        assert_eq!(script.id, "demo");
        assert_eq!(script.release.release, Release::Stu3);
        assert_eq!(script.fixtures["f1"]["gender"], "female");
    }

    #[test]
    fn a_missing_fixture_or_broken_file_is_a_problem_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let fixture = r#"<fixture id="f1"><resource><reference value="gone.json"/></resource></fixture>"#;
        std::fs::write(dir.path().join("a.xml"), script_xml(fixture)).unwrap();
        std::fs::write(dir.path().join("b.xml"), "<TestScript xmlns=\"http://hl7.org/fhir\"><oops").unwrap();
        let loaded = load_dir(dir.path()).unwrap();
        assert_eq!(loaded.len(), 2);
        assert!(loaded[0].script.as_ref().unwrap_err().contains("fixture f1 (gone.json)"));
        assert!(loaded[1].script.as_ref().unwrap_err().contains("XML"));
        assert_eq!(loaded[1].id(), "b");
    }

    #[test]
    fn contained_fixtures_are_found_by_id() {
        let dir = tempfile::tempdir().unwrap();
        let json = serde_json::json!({
            "resourceType": "TestScript", "name": "c", "status": "active", "url": "http://x/TestScript/c",
            "contained": [{"resourceType": "Patient", "id": "p"}],
            "fixture": [{"id": "f", "resource": {"reference": "#p"}}],
        });
        std::fs::write(dir.path().join("c.json"), json.to_string()).unwrap();
        let loaded = load_dir(dir.path()).unwrap();
        let script = loaded[0].script.as_ref().unwrap();
        assert_eq!(script.id, "c");
        assert_eq!(script.fixtures["f"]["resourceType"], "Patient");
    }

    #[test]
    fn fixtures_get_built_ins_and_static_variables_escaped_for_their_format() {
        let dir = tempfile::tempdir().unwrap();
        let patient = r#"<Patient xmlns="http://hl7.org/fhir"><id value="p1"/><name><text value="${label}"/></name><birthDate value="${DATE, T, Y, -17}"/></Patient>"#;
        std::fs::write(dir.path().join("patient.xml"), patient).unwrap();
        let observation = r#"{"resourceType": "Observation", "id": "o1", "status": "final", "code": {"text": "${label}"}, "effectiveDateTime": "${DATE, T, D, -3}T10:00:00+01:00"}"#;
        std::fs::write(dir.path().join("observation.json"), observation).unwrap();
        let fixtures = r#"<fixture id="p"><resource><reference value="patient.xml"/></resource></fixture><fixture id="o"><resource><reference value="observation.json"/></resource></fixture><variable><name value="T"/><defaultValue value="${CURRENTDATE}"/></variable><variable><name value="label"/><defaultValue value="a &lt;b&gt; &quot;c&quot; &amp; d"/></variable>"#;
        std::fs::write(dir.path().join("script.xml"), script_xml(fixtures)).unwrap();
        let clock = Clock::fixed(chrono::DateTime::parse_from_rfc3339("2026-03-31T10:15:30+02:00").unwrap());
        let loaded = load_dir_at(dir.path(), &clock).unwrap();
        let script = loaded[0].script.as_ref().unwrap();
        assert_eq!(script.fixtures["p"]["birthDate"], "2009-03-31");
        assert_eq!(script.fixtures["p"]["name"][0]["text"], r#"a <b> "c" & d"#);
        assert_eq!(script.fixtures["o"]["effectiveDateTime"], "2026-03-28T10:00:00+01:00");
        assert_eq!(script.fixtures["o"]["code"]["text"], r#"a <b> "c" & d"#);
        assert_eq!(script.statics["T"], "2026-03-31", "the run sees the same T");
    }

    #[test]
    fn a_fixture_whose_variables_cannot_be_worked_out_is_a_problem() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.xml"), PATIENT.replace("female", "${nobody}")).unwrap();
        let fixture = r#"<fixture id="f"><resource><reference value="p.xml"/></resource></fixture>"#;
        std::fs::write(dir.path().join("script.xml"), script_xml(fixture)).unwrap();
        let loaded = load_dir(dir.path()).unwrap();
        assert!(loaded[0].script.as_ref().unwrap_err().contains("nobody"));
    }

    #[test]
    fn a_folder_that_is_not_there_is_an_error() {
        assert!(load_dir(Path::new("/no/such/folder/here")).is_err());
    }
}
