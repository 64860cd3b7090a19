//! Type tests (`is`, `as`, `ofType`): from the caller's FHIR model when it typed the node, else
//! from JSON alone.
//!
//! With a [`TypeModel`], a node's type is known wherever navigation reached it from a resource,
//! and the test follows FHIR's type hierarchy: a resource is a `Resource` (and, but for `Bundle`,
//! `Binary` and `Parameters`, a `DomainResource`); a backbone element a `BackboneElement`; `Age` a
//! `Quantity`; `code` a `string`; everything an `Element`, or `Base`. The type name is resolved
//! by the model (which may accept other spellings).
//!
//! Without one, what can be decided: a resource's type from `resourceType`; a choice element's
//! type from its name (`valueQuantity`); System types of literals and computed values; FHIR
//! `boolean` and `decimal` from the JSON kind. What cannot: the FHIR type of a plain JSON object
//! (`HumanName` or `Address`?), of a JSON string (`string`, `code` or `uri`?) or of an integral JSON
//! number (`integer` or `decimal`?). Those report
//! [`EvalErrorKind::Unsupported`](crate::EvalErrorKind) rather than guess.
//!
//! System type names on JSON primitives go by the JSON kind: a JSON string is a `String`, an
//! integral number an `Integer`, a fractional one a `Decimal`, `true`/`false` a `Boolean`, unless a
//! choice name says more (`valueDate` is a `Date`).

use serde_json::Value;

use crate::ast::TypeSpecifier;
use crate::error::EvalError;
use crate::model::{TypeKind, TypeModel};
use crate::value::{Item, Node};

const SYSTEM_TYPES: [&str; 8] = ["Boolean", "String", "Integer", "Decimal", "Date", "DateTime", "Time", "Quantity"];

/// FHIR primitive types whose JSON form is a string.
const STRING_PRIMITIVES: [&str; 16] = [
    "string",
    "code",
    "id",
    "markdown",
    "uri",
    "url",
    "canonical",
    "oid",
    "uuid",
    "base64Binary",
    "date",
    "dateTime",
    "instant",
    "time",
    "xhtml",
    "integer64",
];

/// FHIR primitive types whose JSON form is a number.
const NUMBER_PRIMITIVES: [&str; 4] = ["integer", "positiveInt", "unsignedInt", "decimal"];

/// Resources that are not DomainResources.
const NON_DOMAIN_RESOURCES: [&str; 3] = ["Bundle", "Binary", "Parameters"];

/// Resource type names of FHIR STU3, R4 and R4B (enough to know a name is not a datatype).
const RESOURCE_TYPES: &[&str] = &[
    "Account",
    "ActivityDefinition",
    "AdverseEvent",
    "AllergyIntolerance",
    "Appointment",
    "AppointmentResponse",
    "AuditEvent",
    "Basic",
    "Binary",
    "BiologicallyDerivedProduct",
    "BodySite",
    "BodyStructure",
    "Bundle",
    "CapabilityStatement",
    "CarePlan",
    "CareTeam",
    "CatalogEntry",
    "ChargeItem",
    "ChargeItemDefinition",
    "Citation",
    "Claim",
    "ClaimResponse",
    "ClinicalImpression",
    "ClinicalUseDefinition",
    "CodeSystem",
    "Communication",
    "CommunicationRequest",
    "CompartmentDefinition",
    "Composition",
    "ConceptMap",
    "Condition",
    "Consent",
    "Contract",
    "Coverage",
    "CoverageEligibilityRequest",
    "CoverageEligibilityResponse",
    "DataElement",
    "DetectedIssue",
    "Device",
    "DeviceComponent",
    "DeviceDefinition",
    "DeviceMetric",
    "DeviceRequest",
    "DeviceUseStatement",
    "DiagnosticReport",
    "DocumentManifest",
    "DocumentReference",
    "DomainResource",
    "EffectEvidenceSynthesis",
    "EligibilityRequest",
    "EligibilityResponse",
    "Encounter",
    "Endpoint",
    "EnrollmentRequest",
    "EnrollmentResponse",
    "EpisodeOfCare",
    "EventDefinition",
    "Evidence",
    "EvidenceReport",
    "EvidenceVariable",
    "ExampleScenario",
    "ExpansionProfile",
    "ExplanationOfBenefit",
    "FamilyMemberHistory",
    "Flag",
    "Goal",
    "GraphDefinition",
    "Group",
    "GuidanceResponse",
    "HealthcareService",
    "ImagingManifest",
    "ImagingStudy",
    "Immunization",
    "ImmunizationEvaluation",
    "ImmunizationRecommendation",
    "ImplementationGuide",
    "Ingredient",
    "InsurancePlan",
    "Invoice",
    "Library",
    "Linkage",
    "List",
    "Location",
    "ManufacturedItemDefinition",
    "Measure",
    "MeasureReport",
    "Media",
    "Medication",
    "MedicationAdministration",
    "MedicationDispense",
    "MedicationKnowledge",
    "MedicationRequest",
    "MedicationStatement",
    "MedicinalProduct",
    "MedicinalProductAuthorization",
    "MedicinalProductContraindication",
    "MedicinalProductDefinition",
    "MedicinalProductIndication",
    "MedicinalProductIngredient",
    "MedicinalProductInteraction",
    "MedicinalProductManufactured",
    "MedicinalProductPackaged",
    "MedicinalProductPharmaceutical",
    "MedicinalProductUndesirableEffect",
    "MessageDefinition",
    "MessageHeader",
    "MolecularSequence",
    "NamingSystem",
    "NutritionOrder",
    "NutritionProduct",
    "Observation",
    "ObservationDefinition",
    "OperationDefinition",
    "OperationOutcome",
    "Organization",
    "OrganizationAffiliation",
    "PackagedProductDefinition",
    "Parameters",
    "Patient",
    "PaymentNotice",
    "PaymentReconciliation",
    "Person",
    "PlanDefinition",
    "Practitioner",
    "PractitionerRole",
    "Procedure",
    "ProcedureRequest",
    "ProcessRequest",
    "ProcessResponse",
    "Provenance",
    "Questionnaire",
    "QuestionnaireResponse",
    "ReferralRequest",
    "RegulatedAuthorization",
    "RelatedPerson",
    "RequestGroup",
    "ResearchDefinition",
    "ResearchElementDefinition",
    "ResearchStudy",
    "ResearchSubject",
    "Resource",
    "RiskAssessment",
    "RiskEvidenceSynthesis",
    "Schedule",
    "SearchParameter",
    "Sequence",
    "ServiceDefinition",
    "ServiceRequest",
    "Slot",
    "Specimen",
    "SpecimenDefinition",
    "StructureDefinition",
    "StructureMap",
    "Subscription",
    "SubscriptionStatus",
    "SubscriptionTopic",
    "Substance",
    "SubstanceDefinition",
    "SubstanceNucleicAcid",
    "SubstancePolymer",
    "SubstanceProtein",
    "SubstanceReferenceInformation",
    "SubstanceSourceMaterial",
    "SubstanceSpecification",
    "SupplyDelivery",
    "SupplyRequest",
    "Task",
    "TerminologyCapabilities",
    "TestReport",
    "TestScript",
    "ValueSet",
    "VerificationResult",
    "VisionPrescription",
];

/// Choice-element suffixes (`value[x]` → `valueQuantity`) and the FHIR type each names.
const CHOICE_SUFFIXES: &[(&str, &str)] = &[
    ("Base64Binary", "base64Binary"),
    ("Boolean", "boolean"),
    ("Canonical", "canonical"),
    ("Code", "code"),
    ("Date", "date"),
    ("DateTime", "dateTime"),
    ("Decimal", "decimal"),
    ("Id", "id"),
    ("Instant", "instant"),
    ("Integer", "integer"),
    ("Integer64", "integer64"),
    ("Markdown", "markdown"),
    ("Oid", "oid"),
    ("PositiveInt", "positiveInt"),
    ("String", "string"),
    ("Time", "time"),
    ("UnsignedInt", "unsignedInt"),
    ("Uri", "uri"),
    ("Url", "url"),
    ("Uuid", "uuid"),
    ("Address", "Address"),
    ("Age", "Age"),
    ("Annotation", "Annotation"),
    ("Attachment", "Attachment"),
    ("Availability", "Availability"),
    ("CodeableConcept", "CodeableConcept"),
    ("CodeableReference", "CodeableReference"),
    ("Coding", "Coding"),
    ("ContactDetail", "ContactDetail"),
    ("ContactPoint", "ContactPoint"),
    ("Contributor", "Contributor"),
    ("Count", "Count"),
    ("DataRequirement", "DataRequirement"),
    ("Distance", "Distance"),
    ("Dosage", "Dosage"),
    ("Duration", "Duration"),
    ("Expression", "Expression"),
    ("ExtendedContactDetail", "ExtendedContactDetail"),
    ("HumanName", "HumanName"),
    ("Identifier", "Identifier"),
    ("Meta", "Meta"),
    ("Money", "Money"),
    ("ParameterDefinition", "ParameterDefinition"),
    ("Period", "Period"),
    ("Quantity", "Quantity"),
    ("Range", "Range"),
    ("Ratio", "Ratio"),
    ("RatioRange", "RatioRange"),
    ("Reference", "Reference"),
    ("RelatedArtifact", "RelatedArtifact"),
    ("SampledData", "SampledData"),
    ("Signature", "Signature"),
    ("Timing", "Timing"),
    ("TriggerDefinition", "TriggerDefinition"),
    ("UsageContext", "UsageContext"),
];

/// The FHIR type named by the part of a JSON key after a choice element's name, e.g. `Quantity`.
pub(crate) fn choice_type(suffix: &str) -> Option<&'static str> {
    CHOICE_SUFFIXES.iter().find(|(s, _)| *s == suffix).map(|(_, fhir_type)| *fhir_type)
}

/// The direct supertype of a FHIR datatype, for `is` on subtypes (`Age` is a `Quantity`).
fn fhir_parent(fhir_type: &str) -> Option<&'static str> {
    Some(match fhir_type {
        "code" | "id" | "markdown" => "string",
        "url" | "canonical" | "oid" | "uuid" => "uri",
        "positiveInt" | "unsignedInt" => "integer",
        "Age" | "Count" | "Distance" | "Duration" | "MoneyQuantity" | "SimpleQuantity" => "Quantity",
        "Element" => "Base",
        "Resource" => "Base",
        "DomainResource" => "Resource",
        _ => "Element",
    })
}

fn fhir_is_a(actual: &str, wanted: &str) -> bool {
    let mut current = Some(actual);
    while let Some(fhir_type) = current {
        if fhir_type == wanted {
            return true;
        }
        current = if fhir_type == "Base" { None } else { fhir_parent(fhir_type) };
    }
    false
}

/// The System type a FHIR primitive type maps to.
fn system_type_of_fhir(fhir_type: &str) -> Option<&'static str> {
    Some(match fhir_type {
        "boolean" => "Boolean",
        "integer" | "positiveInt" | "unsignedInt" => "Integer",
        "decimal" => "Decimal",
        "date" => "Date",
        "dateTime" | "instant" => "DateTime",
        "time" => "Time",
        t if STRING_PRIMITIVES.contains(&t) => "String",
        _ => return None,
    })
}

/// `item is T`: true, false, or unsupported when neither the model nor the JSON can tell.
pub(crate) fn is_type(
    item: &Item,
    type_name: &TypeSpecifier,
    model: Option<&dyn TypeModel>,
) -> Result<bool, EvalError> {
    let namespace = type_name.namespace.as_deref();
    let name = type_name.name.as_str();
    let system_name = match namespace {
        Some("System") => true,
        Some("FHIR") => false,
        Some(other) => return Err(EvalError::unsupported(format!("type namespace '{other}' in {type_name}"))),
        // Unqualified names resolve in the FHIR model first; `Quantity` is FHIR's for FHIR data.
        None => SYSTEM_TYPES.contains(&name) && !(name == "Quantity" && matches!(item, Item::Node(_))),
    };
    if system_name && !SYSTEM_TYPES.contains(&name) {
        return Err(EvalError::type_error("is", format!("unknown System type {name}")));
    }
    match item {
        Item::Node(node) if system_name => Ok(node_system_type(node) == Some(name)),
        Item::Node(node) => match (model, node.type_name()) {
            (Some(model), Some(actual)) => Ok(model_is_a(model, actual, name)),
            _ => node_is_fhir_type(node, name, type_name),
        },
        // System values are no FHIR types.
        _ if !system_name => Ok(false),
        Item::Boolean(_) => Ok(name == "Boolean"),
        Item::Integer(_) => Ok(name == "Integer"),
        Item::Decimal(_) => Ok(name == "Decimal"),
        Item::String(_) => Ok(name == "String"),
        Item::Date(_) => Ok(name == "Date"),
        Item::DateTime(_) => Ok(name == "DateTime"),
        Item::Time(_) => Ok(name == "Time"),
        Item::Quantity(_) => Ok(name == "Quantity"),
    }
}

/// The System type of a JSON node: from its choice type when known, else from the JSON kind.
fn node_system_type(node: &Node) -> Option<&'static str> {
    if let Some(fhir_type) = node.fhir_type() {
        return system_type_of_fhir(fhir_type);
    }
    match node.value() {
        Value::Bool(_) => Some("Boolean"),
        Value::String(_) => Some("String"),
        Value::Number(n) if n.to_string().contains(['.', 'e', 'E']) => Some("Decimal"),
        Value::Number(_) => Some("Integer"),
        _ => None,
    }
}

/// Whether a value of FHIR type `actual` is a `written` (as a type specifier names it), by the
/// model's kinds and FHIR's hierarchy.
fn model_is_a(model: &dyn TypeModel, actual: &str, written: &str) -> bool {
    let wanted = model.type_named(written).unwrap_or(written);
    if actual == wanted || wanted == "Base" {
        return true;
    }
    match model.kind(actual) {
        Some(TypeKind::Resource) => {
            wanted == "Resource" || (wanted == "DomainResource" && !NON_DOMAIN_RESOURCES.contains(&actual))
        }
        Some(TypeKind::Backbone) => matches!(wanted, "BackboneElement" | "Element"),
        Some(TypeKind::Complex | TypeKind::Primitive) | None => fhir_is_a(actual, wanted),
    }
}

fn node_is_fhir_type(node: &Node, name: &str, type_name: &TypeSpecifier) -> Result<bool, EvalError> {
    if let Some(resource_type) = node.resource_type() {
        return Ok(name == resource_type
            || name == "Resource"
            || name == "Base"
            || (name == "DomainResource" && !NON_DOMAIN_RESOURCES.contains(&resource_type)));
    }
    if let Some(fhir_type) = node.fhir_type() {
        return Ok(fhir_is_a(fhir_type, name));
    }
    let undecidable = |kind: &str| {
        Err(EvalError::unsupported(format!(
            "type test '{type_name}' on a {kind}: JSON without a FHIR model does not say which FHIR type it is"
        )))
    };
    let is_resource_name = RESOURCE_TYPES.contains(&name);
    match node.value() {
        _ if name == "Element" || name == "Base" => Ok(true),
        Value::Bool(_) => Ok(name == "boolean"),
        Value::Number(n) if n.to_string().contains(['.', 'e', 'E']) => Ok(name == "decimal"),
        Value::Number(_) if NUMBER_PRIMITIVES.contains(&name) => undecidable("JSON number"),
        Value::Number(_) => Ok(false),
        Value::String(_) if STRING_PRIMITIVES.contains(&name) => undecidable("JSON string"),
        Value::String(_) => Ok(false),
        // An object without resourceType is an element, so never a resource, and never a primitive.
        Value::Object(_) if is_resource_name || NUMBER_PRIMITIVES.contains(&name) || name == "boolean" => Ok(false),
        Value::Object(_) if STRING_PRIMITIVES.contains(&name) => Ok(false),
        Value::Object(_) => undecidable("JSON object that is not a resource"),
        _ => Ok(false),
    }
}
