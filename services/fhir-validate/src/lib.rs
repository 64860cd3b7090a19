//! Structural validation of FHIR resources: every resource is parsed into fhir-sdk's typed model
//! of its release, and every element that does not fit is reported with its path.
//!
//! This is the only crate that instantiates fhir-sdk's models. Their serde code is generated
//! where it is used and costs minutes to compile, so it lives here, behind a tiny API that takes
//! plain JSON, and nothing in this crate depends on the rest of the workspace.
//!
//! What is checked:
//! - FHIR JSON rules: no `null` as a property value, no empty objects, arrays or strings;
//! - the typed model: element types (object vs array, string vs number), primitive formats
//!   (dates, instants, ids), required elements and required-binding codes, as fhir-sdk models them;
//! - unknown elements: anything the typed model does not know, found by comparing the input with
//!   the typed model serialised again (fhir-sdk itself silently ignores unknown fields). These are
//!   reported apart from the errors, because refusing them or not is a server's policy.
//!
//! R4 (4.0.1) is checked with fhir-sdk's R4B (4.3) models; see docs/decisions.md for why that is
//! sound for the resource types the service serves and where it is not.

mod json_rules;
mod unknown_elements;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The FHIR release a resource is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Release {
    /// FHIR STU3 (3.0.2).
    Stu3,
    /// FHIR R4 (4.0.1), checked against the R4B models.
    R4,
}

/// One thing wrong with a resource: where (a FHIRPath-like location) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Location of the fault, starting with the resource type, e.g. `Observation.basedOn`.
    pub path: String,
    /// What is wrong there, in plain words.
    pub message: String,
}

/// The outcome of checking one resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Faults that make the resource invalid: wrong types or formats, FHIR JSON rule breaches.
    pub errors: Vec<Finding>,
    /// Elements the typed model does not know. Whether they are refused is the caller's policy:
    /// STU3 servers declare it in `CapabilityStatement.acceptUnknown`.
    pub unknown_elements: Vec<Finding>,
}

impl Report {
    /// Whether the resource has no errors (unknown elements aside).
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Checks one resource (a JSON object with `resourceType`) against the typed model of `release`.
pub fn check(release: Release, resource: &Value) -> Report {
    let Some(resource_type) = resource.get("resourceType").and_then(Value::as_str) else {
        return Report {
            errors: vec![Finding {
                path: "(root)".to_owned(),
                message: "a resource must be a JSON object with a string property 'resourceType'".to_owned(),
            }],
            unknown_elements: Vec::new(),
        };
    };
    let typed = match release {
        Release::Stu3 => check_stu3(resource_type, resource),
        Release::R4 => check_r4(resource_type, resource),
    };
    let Some(mut report) = typed else {
        return Report {
            errors: vec![Finding {
                path: resource_type.to_owned(),
                message: format!("'{resource_type}' is not a resource type of this FHIR release"),
            }],
            unknown_elements: Vec::new(),
        };
    };
    // Unknown elements are opaque: the JSON rules are only applied to what the model knows.
    let unknown_paths: Vec<&str> = report.unknown_elements.iter().map(|finding| finding.path.as_str()).collect();
    let rule_breaches = json_rules::check(resource_type, resource, &unknown_paths);
    report.errors.extend(rule_breaches);
    report
}

/// Whether `name` is a resource type of `release`.
pub fn is_resource_type(release: Release, name: &str) -> bool {
    match release {
        Release::Stu3 => STU3_TYPES.contains(&name),
        Release::R4 => R4_TYPES.contains(&name),
    }
}

/// Parses `resource` as `T`, then reports what did not fit.
fn check_typed<T: DeserializeOwned + Serialize>(resource_type: &str, resource: &Value) -> Report {
    // serde_json keeps numbers exactly as written (the `arbitrary_precision` feature, which the
    // service needs so that `72.50` stays `72.50`). With it, a decimal whose text is not the
    // canonical form of its f64 (`108.50`) reaches serde's buffered paths as a private map, and
    // fhir-sdk then silently drops the element (a choice such as `valueQuantity`). The typed
    // parse needs values, not their spelling, so it runs on a copy with canonical decimals.
    let canonical = parse_copy(resource);
    let typed: T = match serde_path_to_error::deserialize(&canonical) {
        Ok(typed) => typed,
        Err(error) => {
            let path = error.path().to_string();
            return Report {
                errors: vec![Finding {
                    path: join_path(resource_type, &path),
                    message: clean_serde_message(&error.into_inner().to_string()),
                }],
                unknown_elements: Vec::new(),
            };
        }
    };
    match serde_json::to_value(&typed) {
        Ok(understood) => Report {
            errors: Vec::new(),
            unknown_elements: unknown_elements::find(resource_type, resource, &understood),
        },
        Err(error) => Report {
            errors: vec![Finding { path: resource_type.to_owned(), message: clean_serde_message(&error.to_string()) }],
            unknown_elements: Vec::new(),
        },
    }
}

/// The copy the typed parse reads: every non-integer number rewritten in the canonical form of
/// its f64, and every choice primitive given by its extension alone holding a stand-in value.
///
/// FHIR lets a primitive carry extensions and no value (`"_occurrenceDateTime": {"extension":
/// [data-absent-reason]}`, as the published Vaccination-Immunization examples do). fhir-sdk models
/// a required choice (`Immunization.occurrence[x]`) as an enum of values, so such a resource fails
/// to parse ("no variant of enum ... found"). The stand-in, of the type the name ends in, is only
/// seen by the typed parse; the extension itself is still checked, and nothing is stored from here.
fn parse_copy(value: &Value) -> Value {
    match value {
        Value::Number(number) if !number.is_i64() && !number.is_u64() => {
            number.as_f64().and_then(serde_json::Number::from_f64).map_or_else(|| value.clone(), Value::Number)
        }
        Value::Array(items) => Value::Array(items.iter().map(parse_copy).collect()),
        Value::Object(members) => {
            let mut copy: serde_json::Map<String, Value> =
                members.iter().map(|(name, member)| (name.clone(), parse_copy(member))).collect();
            for (name, member) in members {
                let Some(element) = name.strip_prefix('_') else { continue };
                if member.is_object()
                    && !members.contains_key(element)
                    && let Some(stand_in) = choice_stand_in(element)
                {
                    copy.insert(element.to_owned(), stand_in);
                }
            }
            Value::Object(copy)
        }
        other => other.clone(),
    }
}

/// A valid value for element `name`, by the primitive type it is named after: a choice element
/// by the type its name ends in (`occurrenceDateTime`), an element by the type it is named
/// (`NutritionOrder.dateTime`, whose name ends in `Time` too); `None` when its name tells no
/// primitive type.
fn choice_stand_in(name: &str) -> Option<Value> {
    const STAND_INS: &[(&str, &str)] = &[
        ("DateTime", "\"1900-01-01\""),
        ("Date", "\"1900-01-01\""),
        ("Instant", "\"1900-01-01T00:00:00Z\""),
        ("Time", "\"00:00:00\""),
        ("String", "\"-\""),
        ("Markdown", "\"-\""),
        ("Code", "\"-\""),
        ("Id", "\"-\""),
        ("Uri", "\"urn:x\""),
        ("Url", "\"urn:x\""),
        ("Canonical", "\"urn:x\""),
        ("Oid", "\"urn:oid:1.2\""),
        ("Uuid", "\"urn:uuid:00000000-0000-0000-0000-000000000000\""),
        ("Base64Binary", "\"AA==\""),
        ("Boolean", "false"),
        ("Integer", "0"),
        ("UnsignedInt", "0"),
        ("PositiveInt", "1"),
        ("Decimal", "0"),
    ];
    let named_as = |suffix: &str| {
        let (first, rest) = suffix.split_at(1);
        name.len() == suffix.len() && name[..1].eq_ignore_ascii_case(first) && &name[1..] == rest
    };
    STAND_INS.iter().find_map(|(suffix, stand_in)| {
        let ends_in = name.strip_suffix(suffix).is_some_and(|prefix| !prefix.is_empty());
        if named_as(suffix) || ends_in { serde_json::from_str(stand_in).ok() } else { None }
    })
}

/// Joins the resource type and a serde path (`a.b[0].c`, or `.` for the root).
fn join_path(resource_type: &str, path: &str) -> String {
    if path.is_empty() || path == "." { resource_type.to_owned() } else { format!("{resource_type}.{path}") }
}

/// Drops serde's "at line 1 column 345" suffix: the text it counts in is our re-serialised copy,
/// not what the sender wrote, so the numbers would mislead.
fn clean_serde_message(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) if message[at..].contains(" column ") => message[..at].to_owned(),
        _ => message.to_owned(),
    }
}

/// Generates the dispatch from a resource type name to its typed model, and the list of names.
macro_rules! dispatch {
    ($fn_name:ident, $list:ident, $module:path, [$($name:ident),* $(,)?]) => {
        fn $fn_name(resource_type: &str, resource: &Value) -> Option<Report> {
            use $module as models;
            match resource_type {
                $(stringify!($name) => Some(check_typed::<models::$name>(resource_type, resource)),)*
                _ => None,
            }
        }
        const $list: &[&str] = &[$(stringify!($name)),*];
    };
}

dispatch!(
    check_stu3,
    STU3_TYPES,
    fhir_sdk::stu3::resources,
    [
        Account,
        ActivityDefinition,
        AdverseEvent,
        AllergyIntolerance,
        Appointment,
        AppointmentResponse,
        AuditEvent,
        Basic,
        Binary,
        BodySite,
        Bundle,
        CapabilityStatement,
        CarePlan,
        CareTeam,
        ChargeItem,
        Claim,
        ClaimResponse,
        ClinicalImpression,
        CodeSystem,
        Communication,
        CommunicationRequest,
        CompartmentDefinition,
        Composition,
        ConceptMap,
        Condition,
        Consent,
        Contract,
        Coverage,
        DataElement,
        DetectedIssue,
        Device,
        DeviceComponent,
        DeviceMetric,
        DeviceRequest,
        DeviceUseStatement,
        DiagnosticReport,
        DocumentManifest,
        DocumentReference,
        EligibilityRequest,
        EligibilityResponse,
        Encounter,
        Endpoint,
        EnrollmentRequest,
        EnrollmentResponse,
        EpisodeOfCare,
        ExpansionProfile,
        ExplanationOfBenefit,
        FamilyMemberHistory,
        Flag,
        Goal,
        GraphDefinition,
        Group,
        GuidanceResponse,
        HealthcareService,
        ImagingManifest,
        ImagingStudy,
        Immunization,
        ImmunizationRecommendation,
        ImplementationGuide,
        Library,
        Linkage,
        List,
        Location,
        Measure,
        MeasureReport,
        Media,
        Medication,
        MedicationAdministration,
        MedicationDispense,
        MedicationRequest,
        MedicationStatement,
        MessageDefinition,
        MessageHeader,
        NamingSystem,
        NutritionOrder,
        Observation,
        OperationDefinition,
        OperationOutcome,
        Organization,
        Parameters,
        Patient,
        PaymentNotice,
        PaymentReconciliation,
        Person,
        PlanDefinition,
        Practitioner,
        PractitionerRole,
        Procedure,
        ProcedureRequest,
        ProcessRequest,
        ProcessResponse,
        Provenance,
        Questionnaire,
        QuestionnaireResponse,
        ReferralRequest,
        RelatedPerson,
        RequestGroup,
        ResearchStudy,
        ResearchSubject,
        RiskAssessment,
        Schedule,
        SearchParameter,
        Sequence,
        ServiceDefinition,
        Slot,
        Specimen,
        StructureDefinition,
        StructureMap,
        Subscription,
        Substance,
        SupplyDelivery,
        SupplyRequest,
        Task,
        TestReport,
        TestScript,
        ValueSet,
        VisionPrescription,
    ]
);

dispatch!(
    check_r4,
    R4_TYPES,
    fhir_sdk::r4b::resources,
    [
        Account,
        ActivityDefinition,
        AdministrableProductDefinition,
        AdverseEvent,
        AllergyIntolerance,
        Appointment,
        AppointmentResponse,
        AuditEvent,
        Basic,
        Binary,
        BiologicallyDerivedProduct,
        BodyStructure,
        Bundle,
        CapabilityStatement,
        CarePlan,
        CareTeam,
        CatalogEntry,
        ChargeItem,
        ChargeItemDefinition,
        Citation,
        Claim,
        ClaimResponse,
        ClinicalImpression,
        ClinicalUseDefinition,
        CodeSystem,
        Communication,
        CommunicationRequest,
        CompartmentDefinition,
        Composition,
        ConceptMap,
        Condition,
        Consent,
        Contract,
        Coverage,
        CoverageEligibilityRequest,
        CoverageEligibilityResponse,
        DetectedIssue,
        Device,
        DeviceDefinition,
        DeviceMetric,
        DeviceRequest,
        DeviceUseStatement,
        DiagnosticReport,
        DocumentManifest,
        DocumentReference,
        Encounter,
        Endpoint,
        EnrollmentRequest,
        EnrollmentResponse,
        EpisodeOfCare,
        EventDefinition,
        Evidence,
        EvidenceReport,
        EvidenceVariable,
        ExampleScenario,
        ExplanationOfBenefit,
        FamilyMemberHistory,
        Flag,
        Goal,
        GraphDefinition,
        Group,
        GuidanceResponse,
        HealthcareService,
        ImagingStudy,
        Immunization,
        ImmunizationEvaluation,
        ImmunizationRecommendation,
        ImplementationGuide,
        Ingredient,
        InsurancePlan,
        Invoice,
        Library,
        Linkage,
        List,
        Location,
        ManufacturedItemDefinition,
        Measure,
        MeasureReport,
        Media,
        Medication,
        MedicationAdministration,
        MedicationDispense,
        MedicationKnowledge,
        MedicationRequest,
        MedicationStatement,
        MedicinalProductDefinition,
        MessageDefinition,
        MessageHeader,
        MolecularSequence,
        NamingSystem,
        NutritionOrder,
        NutritionProduct,
        Observation,
        ObservationDefinition,
        OperationDefinition,
        OperationOutcome,
        Organization,
        OrganizationAffiliation,
        PackagedProductDefinition,
        Parameters,
        Patient,
        PaymentNotice,
        PaymentReconciliation,
        Person,
        PlanDefinition,
        Practitioner,
        PractitionerRole,
        Procedure,
        Provenance,
        Questionnaire,
        QuestionnaireResponse,
        RegulatedAuthorization,
        RelatedPerson,
        RequestGroup,
        ResearchDefinition,
        ResearchElementDefinition,
        ResearchStudy,
        ResearchSubject,
        RiskAssessment,
        Schedule,
        SearchParameter,
        ServiceRequest,
        Slot,
        Specimen,
        SpecimenDefinition,
        StructureDefinition,
        StructureMap,
        Subscription,
        SubscriptionStatus,
        SubscriptionTopic,
        Substance,
        SubstanceDefinition,
        SupplyDelivery,
        SupplyRequest,
        Task,
        TerminologyCapabilities,
        TestReport,
        TestScript,
        ValueSet,
        VerificationResult,
        VisionPrescription,
    ]
);
