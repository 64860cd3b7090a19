//! Syntax tree of a parsed expression, and printing it back as FHIRPath text.
//!
//! Printing puts parentheses around every operand that is itself an operator expression, so the
//! printed text parses back to the same tree whatever the precedence.

use std::fmt;

use crate::lexer::is_plain_identifier;
use crate::value::{Item, quote};

/// A node of the syntax tree with the character offset where its text starts (for error messages).
#[derive(Debug, Clone)]
pub(crate) struct Expr {
    pub kind: ExprKind,
    pub offset: usize,
}

/// Two expressions are equal when their trees are, wherever their text placed them.
impl PartialEq for Expr {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ExprKind {
    /// `{}`
    Empty,
    /// A literal value: boolean, string, number, date/time or quantity (never a JSON node).
    Literal(Item<'static>),
    /// An identifier that starts a path: a member of `$this`, or the resource type of `$this`.
    Identifier(String),
    /// `$this`
    This,
    /// `$index`
    Index,
    /// `$total`
    Total,
    /// `%name`
    External(String),
    /// `target.name`
    Member { target: Box<Expr>, name: String },
    /// `name(args)` on `$this`, or `target.name(args)`. Arguments stay unevaluated: functions such as
    /// `where` evaluate them per item.
    Call { target: Option<Box<Expr>>, name: String, args: Vec<Expr> },
    /// `is(T)`, `as(T)`, `ofType(T)`: functions whose argument is a type, not an expression.
    TypeCall { target: Option<Box<Expr>>, function: TypeFunction, type_name: TypeSpecifier },
    /// `target[index]`
    Indexer { target: Box<Expr>, index: Box<Expr> },
    /// `-operand` or `+operand`
    Unary { negate: bool, operand: Box<Expr> },
    /// `left op right`
    Binary { op: BinaryOp, left: Box<Expr>, right: Box<Expr> },
    /// `operand is T` or `operand as T`
    TypeOperator { is: bool, operand: Box<Expr>, type_name: TypeSpecifier },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeFunction {
    Is,
    As,
    OfType,
}

/// A possibly qualified type name such as `Patient`, `FHIR.Patient` or `System.String`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TypeSpecifier {
    pub namespace: Option<String>,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinaryOp {
    Multiply,
    Divide,
    IntegerDivide,
    Modulo,
    Add,
    Subtract,
    Concatenate,
    Union,
    Less,
    Greater,
    LessOrEqual,
    GreaterOrEqual,
    Equal,
    NotEqual,
    Equivalent,
    NotEquivalent,
    In,
    Contains,
    And,
    Or,
    Xor,
    Implies,
}

impl BinaryOp {
    /// The operator as written.
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            Self::Multiply => "*",
            Self::Divide => "/",
            Self::IntegerDivide => "div",
            Self::Modulo => "mod",
            Self::Add => "+",
            Self::Subtract => "-",
            Self::Concatenate => "&",
            Self::Union => "|",
            Self::Less => "<",
            Self::Greater => ">",
            Self::LessOrEqual => "<=",
            Self::GreaterOrEqual => ">=",
            Self::Equal => "=",
            Self::NotEqual => "!=",
            Self::Equivalent => "~",
            Self::NotEquivalent => "!~",
            Self::In => "in",
            Self::Contains => "contains",
            Self::And => "and",
            Self::Or => "or",
            Self::Xor => "xor",
            Self::Implies => "implies",
        }
    }
}

impl TypeFunction {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Is => "is",
            Self::As => "as",
            Self::OfType => "ofType",
        }
    }
}

/// Words that cannot be a plain identifier where a term starts.
const RESERVED: [&str; 12] =
    ["and", "or", "xor", "implies", "div", "mod", "in", "contains", "is", "as", "true", "false"];

/// An identifier as it must be written at the start of a term (backticks when needed).
fn term_identifier(name: &str) -> String {
    if is_plain_identifier(name) && !RESERVED.contains(&name) { name.to_owned() } else { quote(name, '`') }
}

/// An identifier after a `.` or as a type name, where keywords are allowed.
fn member_identifier(name: &str) -> String {
    if is_plain_identifier(name) { name.to_owned() } else { quote(name, '`') }
}

impl Expr {
    /// Operator expressions need parentheses when they appear as an operand or a call target.
    fn needs_parentheses(&self) -> bool {
        matches!(self.kind, ExprKind::Binary { .. } | ExprKind::TypeOperator { .. } | ExprKind::Unary { .. })
    }

    fn write_operand(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.needs_parentheses() { write!(f, "({self})") } else { write!(f, "{self}") }
    }
}

impl fmt::Display for TypeSpecifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(namespace) = &self.namespace {
            write!(f, "{}.", member_identifier(namespace))?;
        }
        write!(f, "{}", member_identifier(&self.name))
    }
}

fn write_call_target(f: &mut fmt::Formatter<'_>, target: Option<&Expr>, name: &str) -> fmt::Result {
    match target {
        Some(target) => {
            target.write_operand(f)?;
            write!(f, ".{}", member_identifier(name))
        }
        None => write!(
            f,
            "{}",
            if matches!(name, "is" | "as" | "contains" | "in") { name.to_owned() } else { term_identifier(name) }
        ),
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Empty => write!(f, "{{}}"),
            ExprKind::Literal(item) => write!(f, "{item}"),
            ExprKind::Identifier(name) => write!(f, "{}", term_identifier(name)),
            ExprKind::This => write!(f, "$this"),
            ExprKind::Index => write!(f, "$index"),
            ExprKind::Total => write!(f, "$total"),
            ExprKind::External(name) if is_plain_identifier(name) => write!(f, "%{name}"),
            ExprKind::External(name) => write!(f, "%{}", quote(name, '`')),
            ExprKind::Member { target, name } => {
                target.write_operand(f)?;
                write!(f, ".{}", member_identifier(name))
            }
            ExprKind::Call { target, name, args } => {
                write_call_target(f, target.as_deref(), name)?;
                write!(f, "(")?;
                for (index, arg) in args.iter().enumerate() {
                    if index > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{arg}")?;
                }
                write!(f, ")")
            }
            ExprKind::TypeCall { target, function, type_name } => {
                write_call_target(f, target.as_deref(), function.name())?;
                write!(f, "({type_name})")
            }
            ExprKind::Indexer { target, index } => {
                target.write_operand(f)?;
                write!(f, "[{index}]")
            }
            ExprKind::Unary { negate, operand } => {
                write!(f, "{}", if *negate { "-" } else { "+" })?;
                operand.write_operand(f)
            }
            ExprKind::Binary { op, left, right } => {
                left.write_operand(f)?;
                write!(f, " {} ", op.symbol())?;
                right.write_operand(f)
            }
            ExprKind::TypeOperator { is, operand, type_name } => {
                operand.write_operand(f)?;
                write!(f, " {} {type_name}", if *is { "is" } else { "as" })
            }
        }
    }
}
