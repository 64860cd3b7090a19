//! The evaluator: walks the syntax tree over the input JSON, with `$this`, `$index` and `$total` in
//! scope and external constants from the [`Environment`].

use std::collections::BTreeMap;

use serde_json::Value;

use crate::ast::{BinaryOp, Expr, ExprKind, TypeFunction};
use crate::compare;
use crate::error::{EvalError, EvalErrorKind};
use crate::functions;
use crate::model::TypeModel;
use crate::operators;
use crate::types::{self, choice_type};
use crate::value::{Collection, Item, NO_VALUE, Node};

/// External constants (`%name`) for an evaluation.
///
/// `%resource`, `%rootResource` and `%context` default to the focus the expression is evaluated on;
/// `%ucum`, `%sct`, `%loinc`, `%"vs-name"` and `%"ext-name"` are the FHIR-defined URLs. Constants set
/// here take precedence over those defaults. JSON constants are borrowed for `'a`, like the focus,
/// so results can refer to them; the environment itself may be a temporary.
///
/// A [`TypeModel`] given with [`Environment::with_model`] types every node reached from a
/// resource, so that type tests are decided (see the `model` module).
#[derive(Clone, Default)]
pub struct Environment<'a> {
    constants: BTreeMap<String, Collection<'a>>,
    model: Option<&'a dyn TypeModel>,
    focus_type: Option<&'a str>,
}

impl std::fmt::Debug for Environment<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Environment")
            .field("constants", &self.constants)
            .field("model", &self.model.map(|_| "(set)"))
            .field("focus_type", &self.focus_type)
            .finish()
    }
}

impl<'a> Environment<'a> {
    /// An environment with only the built-in constants.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `%name` to a piece of JSON: an array is a collection of its elements and `null` is the
    /// empty collection; any other value is one item (a JSON string behaves as a FHIR string, an
    /// object as a FHIR element or resource).
    pub fn with_json(mut self, name: impl Into<String>, value: &'a Value) -> Self {
        self.constants.insert(name.into(), json_items(value, None));
        self
    }

    /// Sets `%name` to a String, e.g. a TestScript variable's value.
    pub fn with_string(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.with_items(name, vec![Item::String(value.into())])
    }

    /// Sets `%name` to any collection, e.g. the result of another evaluation.
    pub fn with_items(mut self, name: impl Into<String>, items: Collection<'a>) -> Self {
        self.constants.insert(name.into(), items);
        self
    }

    /// The value set for `%name`, if the caller set one.
    pub fn constant(&self, name: &str) -> Option<&[Item<'a>]> {
        self.constants.get(name).map(Vec::as_slice)
    }

    /// Types nodes with `model` (the FHIR structure of the release the data is in).
    pub fn with_model(mut self, model: &'a dyn TypeModel) -> Self {
        self.model = Some(model);
        self
    }

    /// The model given, if any.
    pub fn model(&self) -> Option<&'a dyn TypeModel> {
        self.model
    }

    /// Says the FHIR type of the focus when it is an element, not a resource (a `Period`, an
    /// `Observation.component`): with a model, the nodes below it are typed too, as invariants on
    /// elements need (`start <= end` compares two dateTimes).
    pub fn with_focus_type(mut self, type_name: &'a str) -> Self {
        self.focus_type = Some(type_name);
        self
    }
}

/// The iteration variables visible to an expression.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope<'s, 'a> {
    /// `$this`: where paths without a target start, and what arguments are evaluated against.
    pub this: &'s [Item<'a>],
    /// `$index` inside `where`, `select`, `all`, `exists`, `repeat`, `aggregate`.
    pub index: Option<usize>,
    /// `$total` inside `aggregate`.
    pub total: Option<&'s [Item<'a>]>,
}

impl<'s, 'a> Scope<'s, 'a> {
    /// The scope of one iteration over `item`.
    pub(crate) fn iteration(item: &'s [Item<'a>], index: usize) -> Self {
        Self { this: item, index: Some(index), total: None }
    }
}

/// State shared by one evaluation of an expression.
pub(crate) struct Evaluator<'e, 'a> {
    focus: &'a Value,
    env: &'e Environment<'a>,
    /// Captured once so `now()` is the same everywhere in one evaluation, as the spec requires.
    pub now: chrono::DateTime<chrono::Local>,
}

impl<'e, 'a> Evaluator<'e, 'a> {
    pub(crate) fn new(focus: &'a Value, env: &'e Environment<'a>) -> Self {
        Self { focus, env, now: chrono::Local::now() }
    }

    /// The caller's FHIR model, if any.
    pub(crate) fn model(&self) -> Option<&'a dyn TypeModel> {
        self.env.model()
    }

    /// Evaluates the whole expression with the focus as `$this`.
    pub(crate) fn evaluate(&self, expr: &Expr) -> Result<Collection<'a>, EvalError> {
        let root = json_items(self.focus, self.env.focus_type);
        self.eval(expr, Scope { this: &root, index: None, total: None })
    }

    /// Evaluates `expr`; failures are tagged with the offset of the innermost failing node.
    pub(crate) fn eval(&self, expr: &Expr, scope: Scope<'_, 'a>) -> Result<Collection<'a>, EvalError> {
        self.eval_kind(expr, scope).map_err(|error| error.at(expr.offset))
    }

    fn eval_kind(&self, expr: &Expr, scope: Scope<'_, 'a>) -> Result<Collection<'a>, EvalError> {
        match &expr.kind {
            ExprKind::Empty => Ok(Vec::new()),
            ExprKind::Literal(item) => Ok(vec![item.clone()]),
            ExprKind::Identifier(name) => Ok(start_of_path(scope.this, name, self.model())),
            ExprKind::This => Ok(scope.this.to_vec()),
            ExprKind::Index => match scope.index {
                Some(index) => Ok(vec![Item::Integer(i64::try_from(index).unwrap_or(i64::MAX))]),
                None => Err(EvalError::type_error("$index", "only defined inside functions that iterate")),
            },
            ExprKind::Total => Ok(scope.total.map(<[Item]>::to_vec).unwrap_or_default()),
            ExprKind::External(name) => self.external(name),
            ExprKind::Member { target, name } => {
                let input = self.eval(target, scope)?;
                let mut output = Vec::new();
                for item in &input {
                    members(item, name, self.model(), &mut output);
                }
                Ok(output)
            }
            ExprKind::Call { target, name, args } => {
                let input = match target {
                    Some(target) => self.eval(target, scope)?,
                    None => scope.this.to_vec(),
                };
                functions::call(self, name, input, args, scope)
            }
            ExprKind::TypeCall { target, function, type_name } => {
                let input = match target {
                    Some(target) => self.eval(target, scope)?,
                    None => scope.this.to_vec(),
                };
                match function {
                    // `as()` on several items filters them as `ofType()` does: the reading of the
                    // engine the qualification scripts were written for, which they rely on
                    // (`Bundle.entry.resource.as(Immunization).identifier`). On one item the two
                    // readings agree.
                    TypeFunction::OfType | TypeFunction::As => {
                        let mut output = Vec::new();
                        for item in input {
                            if types::is_type(&item, type_name, self.model())? {
                                output.push(item);
                            }
                        }
                        Ok(output)
                    }
                    TypeFunction::Is => self.type_operator(true, input, type_name, "is()"),
                }
            }
            ExprKind::TypeOperator { is, operand, type_name } => {
                let input = self.eval(operand, scope)?;
                self.type_operator(*is, input, type_name, if *is { "is" } else { "as" })
            }
            ExprKind::Indexer { target, index } => {
                let input = self.eval(target, scope)?;
                let index = self.eval(index, scope)?;
                let Some(index) = operators::integer_singleton(&index, "[]")? else {
                    return Ok(Vec::new());
                };
                let item = usize::try_from(index).ok().and_then(|i| input.into_iter().nth(i));
                Ok(item.into_iter().collect())
            }
            ExprKind::Unary { negate, operand } => {
                let operand = self.eval(operand, scope)?;
                operators::polarity(*negate, &operand)
            }
            ExprKind::Binary { op, left, right } => self.binary(*op, left, right, scope),
        }
    }

    fn type_operator(
        &self,
        is: bool,
        input: Collection<'a>,
        type_name: &crate::ast::TypeSpecifier,
        operation: &str,
    ) -> Result<Collection<'a>, EvalError> {
        let Some(item) = operators::singleton(&input, operation)? else {
            return Ok(Vec::new());
        };
        let matches = types::is_type(item, type_name, self.model())?;
        Ok(match (is, matches) {
            (true, matches) => vec![Item::Boolean(matches)],
            (false, true) => vec![item.clone()],
            (false, false) => Vec::new(),
        })
    }

    fn binary(
        &self,
        op: BinaryOp,
        left: &Expr,
        right: &Expr,
        scope: Scope<'_, 'a>,
    ) -> Result<Collection<'a>, EvalError> {
        let operator = op.symbol();
        let left = self.eval(left, scope)?;
        // Boolean operators short-circuit where the left side alone decides the answer.
        let left_truth = match op {
            BinaryOp::And | BinaryOp::Or | BinaryOp::Xor | BinaryOp::Implies => {
                let truth = operators::to_boolean(&left, operator)?;
                match (op, truth) {
                    (BinaryOp::And, Some(false)) => return Ok(vec![Item::Boolean(false)]),
                    (BinaryOp::Or, Some(true)) => return Ok(vec![Item::Boolean(true)]),
                    (BinaryOp::Implies, Some(false)) => return Ok(vec![Item::Boolean(true)]),
                    _ => truth,
                }
            }
            _ => None,
        };
        let right = self.eval(right, scope)?;
        let boolean = |value: Option<bool>| Ok(value.map(Item::Boolean).into_iter().collect());
        match op {
            BinaryOp::And | BinaryOp::Or | BinaryOp::Xor | BinaryOp::Implies => {
                let right_truth = operators::to_boolean(&right, operator)?;
                boolean(operators::logic(op, left_truth, right_truth))
            }
            BinaryOp::Equal => boolean(compare::collections_equal(&left, &right)?),
            BinaryOp::NotEqual => boolean(compare::collections_equal(&left, &right)?.map(|equal| !equal)),
            BinaryOp::Equivalent => boolean(Some(compare::collections_equivalent(&left, &right)?)),
            BinaryOp::NotEquivalent => boolean(Some(!compare::collections_equivalent(&left, &right)?)),
            BinaryOp::Less | BinaryOp::Greater | BinaryOp::LessOrEqual | BinaryOp::GreaterOrEqual => {
                boolean(operators::ordering(op, &left, &right)?)
            }
            BinaryOp::In => boolean(operators::membership(&left, &right, operator)?),
            BinaryOp::Contains => boolean(operators::membership(&right, &left, operator)?),
            BinaryOp::Union => operators::union(left, right),
            BinaryOp::Concatenate => operators::concatenate(&left, &right),
            BinaryOp::Add
            | BinaryOp::Subtract
            | BinaryOp::Multiply
            | BinaryOp::Divide
            | BinaryOp::IntegerDivide
            | BinaryOp::Modulo => operators::arithmetic(op, &left, &right),
        }
    }

    fn external(&self, name: &str) -> Result<Collection<'a>, EvalError> {
        if let Some(items) = self.env.constant(name) {
            return Ok(items.to_vec());
        }
        let url = |text: String| Ok(vec![Item::String(text)]);
        match name {
            "resource" | "rootResource" | "context" => Ok(json_items(self.focus, None)),
            "ucum" => url("http://unitsofmeasure.org".into()),
            "sct" => url("http://snomed.info/sct".into()),
            "loinc" => url("http://loinc.org".into()),
            _ => match (name.strip_prefix("vs-"), name.strip_prefix("ext-")) {
                (Some(value_set), _) => url(format!("http://hl7.org/fhir/ValueSet/{value_set}")),
                (_, Some(extension)) => url(format!("http://hl7.org/fhir/StructureDefinition/{extension}")),
                _ => Err(EvalErrorKind::UndefinedConstant { name: name.to_owned() }.into()),
            },
        }
    }
}

/// JSON as collection items: an array is flattened, `null` is nothing.
pub(crate) fn json_items<'a>(value: &'a Value, fhir_type: Option<&'a str>) -> Collection<'a> {
    let mut items = Vec::new();
    push_json(value, fhir_type, &mut items);
    items
}

fn push_json<'a>(value: &'a Value, fhir_type: Option<&'a str>, output: &mut Collection<'a>) {
    push_member(Some(value), None, fhir_type, output);
}

/// A member's values with their `_name` companions (matched by position in arrays): a value
/// without companion, a value with one, or a companion alone (a primitive given by extensions).
fn push_member<'a>(
    value: Option<&'a Value>,
    companion: Option<&'a Value>,
    fhir_type: Option<&'a str>,
    output: &mut Collection<'a>,
) {
    let mut push = |value: Option<&'a Value>, companion: Option<&'a Value>| {
        let companion = companion.filter(|companion| companion.is_object());
        match (value.filter(|value| !value.is_null()), companion) {
            (Some(value), companion) => output.push(Item::Node(Node::with(value, fhir_type, companion))),
            (None, Some(companion)) => output.push(Item::Node(Node::with(&NO_VALUE, fhir_type, Some(companion)))),
            (None, None) => {}
        }
    };
    match (value, companion) {
        (Some(Value::Array(values)), companions) => {
            let companions = companions.and_then(Value::as_array);
            for (index, value) in values.iter().enumerate() {
                push(Some(value), companions.and_then(|companions| companions.get(index)));
            }
        }
        (None, Some(Value::Array(companions))) => companions.iter().for_each(|companion| push(None, Some(companion))),
        (value, companion) => push(value, companion),
    }
}

/// The first identifier of a path: the focus itself when it names the focus's resource type
/// (`Patient.name` on a Patient), otherwise a member of `$this`.
fn start_of_path<'a>(this: &[Item<'a>], name: &str, model: Option<&'a dyn TypeModel>) -> Collection<'a> {
    let mut output = Vec::new();
    for item in this {
        let is_resource_type = matches!(item, Item::Node(node) if node.resource_type() == Some(name));
        if is_resource_type {
            output.push(item.clone());
        } else {
            members(item, name, model, &mut output);
        }
    }
    output
}

/// A JSON object node with what the model says of its members' types.
struct TypedObject<'a> {
    object: &'a serde_json::Map<String, Value>,
    parent: Option<&'a str>,
    model: Option<&'a dyn TypeModel>,
}

impl<'a> TypedObject<'a> {
    /// A JSON object, or a primitive's companion (whose members are the primitive's `id` and
    /// `extension`, typed as an `Element`'s).
    fn of(item: &Item<'a>, model: Option<&'a dyn TypeModel>) -> Option<TypedObject<'a>> {
        let Item::Node(node) = item else {
            return None;
        };
        match (node.value().as_object(), node.companion().and_then(Value::as_object)) {
            (Some(object), _) => Some(TypedObject { object, parent: node.type_name(), model }),
            (None, Some(companion)) => Some(TypedObject { object: companion, parent: Some("Element"), model }),
            (None, None) => None,
        }
    }

    /// The type of member `key`, when the model knows the object's type and the member.
    fn element_type(&self, key: &str) -> Option<&'a str> {
        self.model.zip(self.parent).and_then(|(model, parent)| model.element_type(parent, key))
    }
}

/// The values of member `name` of a JSON object, typed by `model` when it knows the object's
/// type. A choice element (`value[x]`) is found by its base name: `value` yields
/// `valueQuantity`, typed as `Quantity` (by the model, else by the name). A primitive comes with
/// its `_name` companion, so its `extension`s and `id` are members of it.
pub(crate) fn members<'a>(item: &Item<'a>, name: &str, model: Option<&'a dyn TypeModel>, output: &mut Collection<'a>) {
    let Some(typed) = TypedObject::of(item, model) else {
        return;
    };
    let companion = |key: &str| typed.object.get(&format!("_{key}"));
    if typed.object.contains_key(name) || companion(name).is_some() {
        push_member(typed.object.get(name), companion(name), typed.element_type(name), output);
        return;
    }
    for (key, value) in typed.object {
        let choice = key.strip_prefix(name).filter(|suffix| suffix.starts_with(|c: char| c.is_ascii_uppercase()));
        if let Some(fhir_type) = choice.and_then(|suffix| typed.element_type(key).or_else(|| choice_type(suffix))) {
            push_member(Some(value), companion(key), Some(fhir_type), output);
        }
    }
}

/// Every member value of a JSON object, in document order (without `resourceType` and `_name`),
/// typed by `model` when it knows the object's type.
pub(crate) fn children<'a>(item: &Item<'a>, model: Option<&'a dyn TypeModel>, output: &mut Collection<'a>) {
    let Some(typed) = TypedObject::of(item, model) else {
        return;
    };
    for (key, value) in typed.object {
        if key == "resourceType" {
            continue;
        }
        match key.strip_prefix('_') {
            // A companion alone: the primitive has extensions and no value.
            Some(base) if !typed.object.contains_key(base) => {
                push_member(None, Some(value), typed.element_type(base), output);
            }
            Some(_) => {}
            None => push_member(Some(value), typed.object.get(&format!("_{key}")), typed.element_type(key), output),
        }
    }
}
