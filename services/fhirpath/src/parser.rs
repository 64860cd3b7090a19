//! Precedence-climbing parser from tokens to the syntax tree, following the FHIRPath grammar and
//! its operator precedence table (§ Operator precedence, from `implies` up to `.`).

use crate::ast::{BinaryOp, Expr, ExprKind, TypeFunction, TypeSpecifier};
use crate::decimal::Decimal;
use crate::error::ParseError;
use crate::functions;
use crate::lexer::{Token, TokenKind, tokenize};
use crate::temporal::{Date, DateTime, Time};
use crate::value::{CALENDAR_UNITS, Item, Quantity};

/// Nesting deeper than this is rejected, so hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 128;

/// Parses a whole expression.
pub(crate) fn parse(text: &str) -> Result<Expr, ParseError> {
    let tokens = tokenize(text)?;
    let mut parser = Parser { tokens, pos: 0, depth: 0 };
    let expr = parser.expression(0)?;
    match parser.peek() {
        TokenKind::Eof => Ok(expr),
        other => Err(parser.error(format!("unexpected {} after a complete expression", describe(other)))),
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

/// A binary operator as it appears between operands; `is`/`as` take a type on the right.
enum Infix {
    Binary(BinaryOp),
    Type { is: bool },
}

/// Binding strength, higher binds tighter (the spec's table, read bottom-up).
fn infix_operator(token: &TokenKind) -> Option<(Infix, u8)> {
    use BinaryOp as B;
    let binary = |op, precedence| Some((Infix::Binary(op), precedence));
    match token {
        TokenKind::Star => binary(B::Multiply, 10),
        TokenKind::Slash => binary(B::Divide, 10),
        TokenKind::Plus => binary(B::Add, 9),
        TokenKind::Minus => binary(B::Subtract, 9),
        TokenKind::Ampersand => binary(B::Concatenate, 9),
        TokenKind::Pipe => binary(B::Union, 7),
        TokenKind::Less => binary(B::Less, 6),
        TokenKind::Greater => binary(B::Greater, 6),
        TokenKind::LessOrEqual => binary(B::LessOrEqual, 6),
        TokenKind::GreaterOrEqual => binary(B::GreaterOrEqual, 6),
        TokenKind::Equal => binary(B::Equal, 5),
        TokenKind::NotEqual => binary(B::NotEqual, 5),
        TokenKind::Tilde => binary(B::Equivalent, 5),
        TokenKind::NotTilde => binary(B::NotEquivalent, 5),
        TokenKind::Identifier(word) => match word.as_str() {
            "div" => binary(B::IntegerDivide, 10),
            "mod" => binary(B::Modulo, 10),
            "is" => Some((Infix::Type { is: true }, 8)),
            "as" => Some((Infix::Type { is: false }, 8)),
            "in" => binary(B::In, 4),
            "contains" => binary(B::Contains, 4),
            "and" => binary(B::And, 3),
            "or" => binary(B::Or, 2),
            "xor" => binary(B::Xor, 2),
            "implies" => binary(B::Implies, 1),
            _ => None,
        },
        _ => None,
    }
}

fn describe(token: &TokenKind) -> String {
    match token {
        TokenKind::Eof => "end of expression".into(),
        TokenKind::Identifier(name) | TokenKind::DelimitedIdentifier(name) => format!("identifier '{name}'"),
        TokenKind::String(_) => "string".into(),
        TokenKind::Number(text) => format!("number {text}"),
        other => format!("{other:?}"),
    }
}

impl Parser {
    fn peek(&self) -> &TokenKind {
        self.peek_at(0)
    }

    fn peek_at(&self, ahead: usize) -> &TokenKind {
        // The token list always ends with Eof, and positions never pass it.
        let index = (self.pos + ahead).min(self.tokens.len().saturating_sub(1));
        self.tokens.get(index).map_or(&TokenKind::Eof, |t| &t.kind)
    }

    fn offset(&self) -> usize {
        self.tokens.get(self.pos).or(self.tokens.last()).map_or(0, |t| t.offset)
    }

    fn advance(&mut self) -> TokenKind {
        let kind = self.peek().clone();
        if kind != TokenKind::Eof {
            self.pos += 1;
        }
        kind
    }

    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError::new(self.offset(), message)
    }

    fn expect(&mut self, expected: &TokenKind, what: &str) -> Result<(), ParseError> {
        if self.peek() == expected {
            self.advance();
            Ok(())
        } else {
            Err(self.error(format!("expected {what}, found {}", describe(self.peek()))))
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!("expression nested deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    /// Operators binding at least as tight as `min_precedence`, all left-associative.
    fn expression(&mut self, min_precedence: u8) -> Result<Expr, ParseError> {
        self.enter()?;
        let mut left = self.unary()?;
        while let Some((operator, precedence)) = infix_operator(self.peek()) {
            if precedence < min_precedence {
                break;
            }
            let offset = left.offset;
            self.advance();
            left = match operator {
                Infix::Binary(op) => {
                    let right = self.expression(precedence + 1)?;
                    Expr { kind: ExprKind::Binary { op, left: Box::new(left), right: Box::new(right) }, offset }
                }
                Infix::Type { is } => {
                    let type_name = self.type_specifier()?;
                    Expr { kind: ExprKind::TypeOperator { is, operand: Box::new(left), type_name }, offset }
                }
            };
        }
        self.depth -= 1;
        Ok(left)
    }

    /// Polarity binds looser than `.` and `[]`: `-a.b` is `-(a.b)`.
    fn unary(&mut self) -> Result<Expr, ParseError> {
        let offset = self.offset();
        let negate = match self.peek() {
            TokenKind::Minus => true,
            TokenKind::Plus => false,
            _ => return self.postfix(),
        };
        self.advance();
        self.enter()?;
        let operand = self.unary()?;
        self.depth -= 1;
        Ok(Expr { kind: ExprKind::Unary { negate, operand: Box::new(operand) }, offset })
    }

    /// A term followed by any number of `.member`, `.function(...)` and `[index]`.
    fn postfix(&mut self) -> Result<Expr, ParseError> {
        let mut expr = self.term()?;
        loop {
            match self.peek() {
                TokenKind::Dot => {
                    self.advance();
                    let offset = self.offset();
                    let name = match self.advance() {
                        TokenKind::Identifier(name) | TokenKind::DelimitedIdentifier(name) => name,
                        other => {
                            return Err(ParseError::new(
                                offset,
                                format!("expected a name after '.', found {}", describe(&other)),
                            ));
                        }
                    };
                    expr = if self.peek() == &TokenKind::LParen {
                        self.call(Some(expr), name, offset)?
                    } else {
                        Expr { offset: expr.offset, kind: ExprKind::Member { target: Box::new(expr), name } }
                    };
                }
                TokenKind::LBracket => {
                    self.advance();
                    let index = self.expression(0)?;
                    self.expect(&TokenKind::RBracket, "']'")?;
                    expr = Expr {
                        offset: expr.offset,
                        kind: ExprKind::Indexer { target: Box::new(expr), index: Box::new(index) },
                    };
                }
                _ => return Ok(expr),
            }
        }
    }

    fn term(&mut self) -> Result<Expr, ParseError> {
        let offset = self.offset();
        let kind = match self.advance() {
            TokenKind::LParen => {
                let inner = self.expression(0)?;
                self.expect(&TokenKind::RParen, "')'")?;
                return Ok(inner);
            }
            TokenKind::LBrace => {
                self.expect(&TokenKind::RBrace, "'}' (only the empty collection {} can be written)")?;
                ExprKind::Empty
            }
            TokenKind::String(text) => ExprKind::Literal(Item::String(text)),
            TokenKind::Number(text) => self.number(&text, offset)?,
            TokenKind::DateTime(text) => temporal_literal(&text, offset)?,
            TokenKind::Time(text) => match Time::parse(&text) {
                Some(time) => ExprKind::Literal(Item::Time(time)),
                None => return Err(ParseError::new(offset, format!("invalid time literal @T{text}"))),
            },
            TokenKind::Dollar(name) => match name.as_str() {
                "this" => ExprKind::This,
                "index" => ExprKind::Index,
                "total" => ExprKind::Total,
                _ => return Err(ParseError::new(offset, format!("unknown variable ${name}"))),
            },
            TokenKind::External(name) => ExprKind::External(name),
            TokenKind::Identifier(word) => match word.as_str() {
                "true" => ExprKind::Literal(Item::Boolean(true)),
                "false" => ExprKind::Literal(Item::Boolean(false)),
                // These keywords may name a function at the start of a term: `is(Patient)`.
                "is" | "as" | "contains" | "in" if self.peek() == &TokenKind::LParen => {
                    return self.call(None, word, offset);
                }
                "and" | "or" | "xor" | "implies" | "div" | "mod" | "in" | "contains" | "is" | "as" => {
                    return Err(ParseError::new(offset, format!("keyword '{word}' where an operand was expected")));
                }
                _ if self.peek() == &TokenKind::LParen => return self.call(None, word, offset),
                _ => ExprKind::Identifier(word),
            },
            TokenKind::DelimitedIdentifier(name) if self.peek() == &TokenKind::LParen => {
                return self.call(None, name, offset);
            }
            TokenKind::DelimitedIdentifier(name) => ExprKind::Identifier(name),
            other => return Err(ParseError::new(offset, format!("unexpected {}", describe(&other)))),
        };
        Ok(Expr { kind, offset })
    }

    /// An integer, a decimal, or a quantity when a unit string or calendar keyword follows.
    fn number(&mut self, text: &str, offset: usize) -> Result<ExprKind, ParseError> {
        let unit = match self.peek() {
            TokenKind::String(unit) => Some(unit.clone()),
            TokenKind::Identifier(word) if CALENDAR_UNITS.contains(&word.as_str()) => Some(word.clone()),
            _ => None,
        };
        if let Some(unit) = unit {
            self.advance();
            let value = Decimal::parse(text).ok_or_else(|| ParseError::new(offset, "number out of range"))?;
            return Ok(ExprKind::Literal(Item::Quantity(Quantity { value, unit })));
        }
        let item = if text.contains('.') {
            Decimal::parse(text).map(Item::Decimal)
        } else {
            text.parse::<i64>().ok().map(Item::Integer)
        };
        item.map(ExprKind::Literal).ok_or_else(|| ParseError::new(offset, format!("number {text} out of range")))
    }

    /// Arguments of a call; the name has been consumed and `(` is next.
    fn call(&mut self, target: Option<Expr>, name: String, offset: usize) -> Result<Expr, ParseError> {
        self.expect(&TokenKind::LParen, "'('")?;
        let mut args = Vec::new();
        if self.peek() != &TokenKind::RParen {
            loop {
                args.push(self.expression(0)?);
                if self.peek() != &TokenKind::Comma {
                    break;
                }
                self.advance();
            }
        }
        self.expect(&TokenKind::RParen, "')' or ',' in argument list")?;
        let start = target.as_ref().map_or(offset, |t| t.offset);
        let target = target.map(Box::new);
        let function = match name.as_str() {
            "is" => Some(TypeFunction::Is),
            "as" => Some(TypeFunction::As),
            "ofType" => Some(TypeFunction::OfType),
            _ => None,
        };
        if let Some(function) = function {
            let [arg] = args.as_slice() else {
                return Err(ParseError::new(offset, format!("{name}() takes exactly one type name")));
            };
            let type_name = type_specifier_of(arg)
                .ok_or_else(|| ParseError::new(arg.offset, format!("{name}() expects a type name such as Patient")))?;
            return Ok(Expr { kind: ExprKind::TypeCall { target, function, type_name }, offset: start });
        }
        if let Some((min, max)) = functions::arity(&name)
            && !(min..=max).contains(&args.len())
        {
            let expected = if min == max { format!("{min}") } else { format!("{min} to {max}") };
            return Err(ParseError::new(offset, format!("{name}() takes {expected} argument(s), got {}", args.len())));
        }
        Ok(Expr { kind: ExprKind::Call { target, name, args }, offset: start })
    }

    /// `Name` or `Namespace.Name` after `is` / `as`.
    fn type_specifier(&mut self) -> Result<TypeSpecifier, ParseError> {
        let mut parts = vec![self.type_name_part()?];
        while self.peek() == &TokenKind::Dot
            && matches!(self.peek_at(1), TokenKind::Identifier(_) | TokenKind::DelimitedIdentifier(_))
        {
            if parts.len() == 2 {
                return Err(self.error("a type name has at most a namespace and a name"));
            }
            self.advance();
            parts.push(self.type_name_part()?);
        }
        let name = parts.pop().unwrap_or_default();
        Ok(TypeSpecifier { namespace: parts.pop(), name })
    }

    fn type_name_part(&mut self) -> Result<String, ParseError> {
        match self.peek().clone() {
            TokenKind::Identifier(name) | TokenKind::DelimitedIdentifier(name) => {
                self.advance();
                Ok(name)
            }
            other => Err(self.error(format!("expected a type name, found {}", describe(&other)))),
        }
    }
}

/// `Patient` or `FHIR.Patient` written as a function argument.
fn type_specifier_of(arg: &Expr) -> Option<TypeSpecifier> {
    match &arg.kind {
        ExprKind::Identifier(name) => Some(TypeSpecifier { namespace: None, name: name.clone() }),
        ExprKind::Member { target, name } => match &target.kind {
            ExprKind::Identifier(namespace) => {
                Some(TypeSpecifier { namespace: Some(namespace.clone()), name: name.clone() })
            }
            _ => None,
        },
        _ => None,
    }
}

fn temporal_literal(text: &str, offset: usize) -> Result<ExprKind, ParseError> {
    // `@2020-01-01` is a Date; any `T` (even `@2015T`) makes it a DateTime.
    let item =
        if text.contains('T') { DateTime::parse(text).map(Item::DateTime) } else { Date::parse(text).map(Item::Date) };
    item.map(ExprKind::Literal).ok_or_else(|| ParseError::new(offset, format!("invalid date/time literal @{text}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn printed(text: &str) -> String {
        parse(text).unwrap().to_string()
    }

    #[test]
    fn precedence_follows_the_specification() {
        assert_eq!(printed("1 + 2 * 3"), "1 + (2 * 3)");
        assert_eq!(printed("a or b and c"), "a or (b and c)");
        assert_eq!(printed("a implies b or c"), "a implies (b or c)");
        assert_eq!(printed("a = b | c"), "a = (b | c)");
        assert_eq!(printed("-a.b"), "-a.b");
        assert_eq!(printed("x is Patient and y"), "(x is Patient) and y");
        assert_eq!(printed("a - b - c"), "(a - b) - c");
        assert_eq!(printed("name.contains('a') contains 'b'"), "name.contains('a') contains 'b'");
    }

    #[test]
    fn literals_and_type_arguments() {
        assert_eq!(printed("4 'mg' + 2 days"), "4 'mg' + 2 days");
        assert_eq!(printed("@2015T.is(FHIR.Patient)"), "@2015T.is(FHIR.Patient)");
        assert_eq!(printed("`given name`.`div`"), "`given name`.div");
        assert!(parse("ofType(1 + 1)").is_err());
    }

    #[test]
    fn errors_carry_offsets() {
        assert_eq!(parse("name.where(").unwrap_err().offset, 11);
        assert_eq!(parse("a + ").unwrap_err().offset, 4);
        assert_eq!(parse("where()").unwrap_err().offset, 0);
        assert_eq!(parse("a b").unwrap_err().offset, 2);
        assert!(parse(&"(".repeat(500)).is_err());
    }
}
