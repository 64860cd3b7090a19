//! The dialect the published qualification scripts are written in, read rather than refused.
//! Their engine accepts more than the FHIR release a script is written for; so does this runner:
//!
//! - `stopTestOnFail` as an element of an assert (R5 has it; STU3 and R4 do not) is read as the
//!   engine's extension of the same meaning (`testscript-assert-stopTestOnFail`);
//! - `<profile id=".." value=".."/>` (a canonical where the release has a Reference) is read as the
//!   profile's reference;
//! - the engine's extensions are read: `testscript-assert-stopTestOnFail`, `testscript-assert-rule`
//!   (an assert's rule, with `ruleId` and `param`s) and the script-level rule declarations
//!   (`testscript-rule`, `Interoplab-CL-ext-rule`, with `ruleId` and `path`);
//! - elements in the wrong order are put in FHIR's order.
//!
//! What the runner cannot use (elements and attributes the release does not have, elements in
//! another namespace, extensions it does not know) is left out with a warning on the script,
//! never a refusal of the whole script. Code map: `xml` (the XML tree, fitted and written back),
//! `json` (warnings for scripts in JSON), `extensions` (reading the engine's extensions).

pub(crate) mod extensions;
mod json;
mod xml;

pub(crate) use json::warnings as json_warnings;
pub(crate) use xml::fit as fit_xml;

use fhir_core::Release;
use fhir_xml::Structure;
use std::collections::BTreeMap;

/// The XHTML namespace (the narrative).
pub(crate) const XHTML_NAMESPACE: &str = "http://www.w3.org/1999/xhtml";

/// The engine's extension that stops a test when its assert fails.
pub(crate) const STOP_TEST_ON_FAIL: &str =
    "http://touchstone.aegis.net/touchstone/fhir/testing/StructureDefinition/testscript-assert-stopTestOnFail";

/// The type of an assert (every assert of setup, tests and teardown has it).
const ASSERT: &str = "TestScript.setup.action.assert";

/// Where a child element goes.
pub(crate) enum Placement<'s> {
    /// A FHIR element of the parent: its position among the parent's elements, and its type.
    Element { position: usize, type_name: &'s str },
    /// `stopTestOnFail` on an assert: read as the extension, at the extensions' position.
    StopTestOnFail { position: usize },
    /// Left out, and why.
    Ignored(&'static str),
}

/// Fitting a script to a release: the structure, and what was left out.
pub(crate) struct Fitting {
    pub structure: &'static Structure,
    release: Release,
    ignored: BTreeMap<String, (&'static str, usize)>,
}

impl Fitting {
    pub(crate) fn new(release: Release) -> Fitting {
        Fitting { structure: Structure::of(release), release, ignored: BTreeMap::new() }
    }

    /// Where child `name` of a value of type `parent` goes.
    pub(crate) fn place(&self, parent: &str, name: &str, primitive: bool) -> Placement<'static> {
        let structure: &'static Structure = self.structure;
        let Some(definition) = structure.type_def(parent) else {
            return Placement::Ignored("inside an element of unknown type");
        };
        if primitive {
            return match name {
                "extension" => Placement::Element { position: 0, type_name: "Extension" },
                _ => Placement::Ignored("a primitive value holds only extensions"),
            };
        }
        if let Some((position, element, type_index)) = definition.element_at(name) {
            let type_name = element.types.get(type_index).map_or("", String::as_str);
            return Placement::Element { position, type_name };
        }
        if parent == ASSERT && name == "stopTestOnFail" {
            let position = definition.element_at("extension").map_or(0, |(position, _, _)| position);
            return Placement::StopTestOnFail { position };
        }
        Placement::Ignored("not an element of this FHIR release")
    }

    /// Notes that `path` was left out, and why (each path once, with a count).
    pub(crate) fn ignored(&mut self, path: &str, why: &'static str) {
        self.ignored.entry(path.to_owned()).or_insert((why, 0)).1 += 1;
    }

    /// The warnings, one per path left out.
    pub(crate) fn warnings(self) -> Vec<String> {
        let release = self.release.as_str().to_uppercase();
        self.ignored
            .into_iter()
            .map(|(path, (why, count))| {
                let times = if count > 1 { format!(" ({count} times)") } else { String::new() };
                format!("{path} is ignored: {why} (FHIR {release}){times}")
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
