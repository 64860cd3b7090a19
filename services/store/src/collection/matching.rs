//! A kind's [`Condition`] decided in memory, on the cells of an index row or of the resource row,
//! exactly as `criterion.rs` has the database decide it. Where memory could answer differently
//! from the database (text ordered by a collation), it does not answer: the search then runs in
//! the database.

use fhir_search::{Comparison, Condition, Scalar};
use std::cmp::Ordering;

/// Whether the row whose column `column` holds `cell(column)` meets `condition`; `None` when
/// memory cannot say as the database would.
///
/// SQL compares with NULL as unknown. The conditions have no NOT, so an unknown part is as
/// good as false for the whole: false is what it yields here.
pub(crate) fn meets<'r>(condition: &Condition, cell: &impl Fn(&str) -> Option<&'r Scalar>) -> Option<bool> {
    match condition {
        Condition::True => Some(true),
        Condition::False => Some(false),
        Condition::Compare(column, comparison, value) => compare(cell(column)?, *comparison, value),
        Condition::IsNull(column) => Some(matches!(cell(column)?, Scalar::Null)),
        Condition::Like(column, pattern) => match cell(column)? {
            Scalar::Text(text) => Some(like(text, pattern)),
            _ => Some(false),
        },
        Condition::StartsWith(column, prefix) => match cell(column)? {
            Scalar::Text(text) => Some(text.starts_with(prefix.as_str())),
            _ => Some(false),
        },
        Condition::All(parts) => {
            let mut all = true;
            for part in parts {
                all &= meets(part, cell)?;
            }
            Some(all)
        }
        Condition::Any(parts) => {
            let mut any = false;
            for part in parts {
                any |= meets(part, cell)?;
            }
            Some(any)
        }
    }
}

/// `cell <comparison> value`. Numbers compare by value whatever their type, as in SQL. Text is
/// decided only for equality: both databases order text by their collation, not by bytes.
fn compare(cell: &Scalar, comparison: Comparison, value: &Scalar) -> Option<bool> {
    let order = match (cell, value) {
        (Scalar::Null, _) | (_, Scalar::Null) => return Some(false),
        (Scalar::Int(a), Scalar::Int(b)) => a.cmp(b),
        (Scalar::Int(a), Scalar::Real(b)) => (*a as f64).partial_cmp(b)?,
        (Scalar::Real(a), Scalar::Int(b)) => a.partial_cmp(&(*b as f64))?,
        (Scalar::Real(a), Scalar::Real(b)) => a.partial_cmp(b)?,
        (Scalar::Text(a), Scalar::Text(b)) if comparison == Comparison::Eq => return Some(a == b),
        // Text against text by order, or text against a number: the database's rules differ.
        _ => return None,
    };
    Some(match comparison {
        Comparison::Eq => order == Ordering::Equal,
        Comparison::Lt => order == Ordering::Less,
        Comparison::Le => order != Ordering::Greater,
        Comparison::Gt => order == Ordering::Greater,
        Comparison::Ge => order != Ordering::Less,
    })
}

/// SQL `text LIKE pattern ESCAPE '\'`: `%` any run of characters, `_` one character, `\` makes
/// the next character literal. Letter case counts (the columns LIKE is used on hold lowercase
/// text, where SQLite's ASCII folding and PostgreSQL's exact match agree).
pub(crate) fn like(text: &str, pattern: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let pattern = tokens(pattern);
    // The classic two-pointer match with backtracking to the last `%`.
    let (mut t, mut p) = (0, 0);
    let mut resume: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(Token::AnyRun) => {
                resume = Some((p, t));
                p += 1;
            }
            Some(Token::AnyOne) => {
                t += 1;
                p += 1;
            }
            Some(Token::Literal(expected)) if *expected == text[t] => {
                t += 1;
                p += 1;
            }
            _ => match resume {
                Some((star, from)) => {
                    p = star + 1;
                    t = from + 1;
                    resume = Some((star, from + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|token| *token == Token::AnyRun)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    AnyRun,
    AnyOne,
    Literal(char),
}

fn tokens(pattern: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut characters = pattern.chars();
    while let Some(character) = characters.next() {
        tokens.push(match character {
            '%' => Token::AnyRun,
            '_' => Token::AnyOne,
            // A trailing `\` escapes nothing; it stands for itself.
            '\\' => Token::Literal(characters.next().unwrap_or('\\')),
            other => Token::Literal(other),
        });
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'r>(cells: &'r [(&'static str, Scalar)]) -> impl Fn(&str) -> Option<&'r Scalar> {
        move |column| cells.iter().find(|(name, _)| *name == column).map(|(_, value)| value)
    }

    #[test]
    fn like_follows_sql_wildcards_and_escapes() {
        assert!(like("anna", "an%"));
        assert!(like("anna", "%nn%"));
        assert!(like("anna", "a__a"));
        assert!(!like("anna", "a_a"));
        assert!(like("", "%"));
        assert!(!like("", "_"));
        assert!(like("50%", "50\\%"));
        assert!(!like("500", "50\\%"));
        assert!(like("a_b", "a\\_b"));
        assert!(!like("axb", "a\\_b"));
        assert!(like("mississippi", "%iss%ppi"));
        assert!(!like("mississippi", "%iss%ppx"));
        assert!(like("straße", "stra_e"));
        assert!(!like("Anna", "an%"), "letter case counts");
    }

    #[test]
    fn comparisons_are_decided_as_sql_decides_them() {
        let cells = [("low", Scalar::Int(10)), ("high", Scalar::Null), ("value", Scalar::Real(5.4))];
        let cell = row(&cells);
        assert_eq!(meets(&Condition::compare("low", Comparison::Ge, 10_i64), &cell), Some(true));
        assert_eq!(meets(&Condition::compare("low", Comparison::Lt, 10.5), &cell), Some(true));
        assert_eq!(meets(&Condition::compare("value", Comparison::Gt, 5_i64), &cell), Some(true));
        // NULL compared is unknown: false, and so is its OR with false.
        assert_eq!(meets(&Condition::compare("high", Comparison::Le, 3_i64), &cell), Some(false));
        assert_eq!(meets(&Condition::IsNull("high"), &cell), Some(true));
        let either = Condition::Any(vec![Condition::compare("high", Comparison::Eq, 1_i64), Condition::True]);
        assert_eq!(meets(&either, &cell), Some(true));
        assert_eq!(meets(&Condition::All(Vec::new()), &cell), Some(true));
        assert_eq!(meets(&Condition::Any(Vec::new()), &cell), Some(false));
    }

    #[test]
    fn what_memory_cannot_decide_as_the_database_would_is_left_to_it() {
        let cells = [("id", Scalar::Text("b".into()))];
        let cell = row(&cells);
        assert_eq!(meets(&Condition::equals("id", "b".to_owned()), &cell), Some(true));
        assert_eq!(meets(&Condition::compare("id", Comparison::Lt, "c".to_owned()), &cell), None);
        assert_eq!(meets(&Condition::equals("missing", 1_i64), &cell), None);
    }
}
