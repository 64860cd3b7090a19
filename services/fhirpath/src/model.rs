//! What a FHIR model can tell the evaluator, supplied by the caller: the type of each element
//! (so that navigation knows that `Observation.code.coding` holds Codings) and the kind of each
//! type. This crate holds no model itself; a caller that has the FHIR structure definitions of a
//! release implements [`TypeModel`] over them and passes it with
//! [`Environment::with_model`](crate::Environment::with_model).
//!
//! With a model, every node reached from a resource by navigation, `children()` or
//! `descendants()` carries its FHIR type, and `is`, `as` and `ofType` are decided for complex
//! types (`Coding`, `Reference`), backbone elements and primitives (`code` or `uri`) alike. What
//! the model does not know (an element that is not in the definitions, JSON that is not a
//! resource) stays untyped, and a type test on it is still unsupported.

/// What kind of type a FHIR type is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeKind {
    /// A primitive (`string`, `code`, `dateTime`).
    Primitive,
    /// A complex data type (`Coding`, `Quantity`).
    Complex,
    /// A backbone element of a resource (`Observation.component`): a `BackboneElement`.
    Backbone,
    /// A resource type.
    Resource,
}

/// The FHIR structure of one release, as the evaluator asks about it.
pub trait TypeModel {
    /// The FHIR type of element `element` of a value of type `parent`. `element` is the JSON
    /// member name, so a choice element comes with its type (`valueQuantity`). Backbone elements
    /// are named by their path (`Observation.component`). `None` when `parent` has no such
    /// element.
    fn element_type(&self, parent: &str, element: &str) -> Option<&str>;

    /// The kind of the type called `type_name`, `None` when the model does not know it.
    fn kind(&self, type_name: &str) -> Option<TypeKind>;

    /// The type a type specifier names (`Coding` in `is(Coding)`), as the model spells it;
    /// `None` when it names no type of the model. A model may accept other spellings than the
    /// exact name.
    fn type_named(&self, written: &str) -> Option<&str>;
}
