//! A search's criteria as SQL: each occurrence of a parameter becomes a condition on the rows of
//! its kind's index table (or on the resource row, for the built-ins), written from the
//! backend-neutral [`Condition`] its kind states (`fhir-search/src/kinds/`). The text is the same
//! on SQLite and PostgreSQL; nothing here knows a kind.

use crate::sql::Sql;
use fhir_search::{Condition, Criterion, Rows};

/// One occurrence of a parameter: an index row of `r` for it matches one of its values.
pub(crate) fn push_criterion(sql: &mut Sql, criterion: &Criterion) {
    match criterion.rows() {
        Rows::Index(table) => {
            let alias = table.alias;
            sql.push(&format!(
                "EXISTS (SELECT 1 FROM {} {alias} WHERE {alias}.rid = r.rid AND {alias}.param = ",
                table.name
            ))
            .bind(criterion.param.clone())
            .push(" AND ");
            push_condition(sql, alias, &criterion.condition());
            sql.push(")");
        }
        Rows::Resource => push_condition(sql, "r", &criterion.condition()),
    }
}

/// A parameter given several times (its occurrences are AND-ed): each occurrence must be met by
/// some index row of `r`. One correlated subquery tests them all, with an aggregate per
/// occurrence. Written as an `EXISTS` per occurrence instead, PostgreSQL turns each into a
/// semi-join and plans the joins of all of them together: planning took a second at 100
/// repetitions and grew faster than their number, holding gigabytes at 1,000. An aggregate
/// subquery is not turned into a join, so the plan grows with the text, and so does the work:
/// one pass over the resource's rows of the parameter.
pub(crate) fn push_repeated(sql: &mut Sql, occurrences: &[&Criterion]) {
    let Some(first) = occurrences.first() else { return };
    let Rows::Index(table) = first.rows() else {
        for (position, criterion) in occurrences.iter().enumerate() {
            if position > 0 {
                sql.push(" AND ");
            }
            push_condition(sql, "r", &criterion.condition());
        }
        return;
    };
    let alias = table.alias;
    // The aggregate in the select list makes it an aggregate query for SQLite, which refuses a
    // HAVING clause otherwise.
    sql.push(&format!(
        "EXISTS (SELECT COUNT(*) FROM {} {alias} WHERE {alias}.rid = r.rid AND {alias}.param = ",
        table.name
    ))
    .bind(first.param.clone())
    .push(" HAVING ");
    for (position, criterion) in occurrences.iter().enumerate() {
        if position > 0 {
            sql.push(" AND ");
        }
        sql.push("MAX(CASE WHEN ");
        push_condition(sql, alias, &criterion.condition());
        sql.push(" THEN 1 ELSE 0 END) = 1");
    }
    sql.push(")");
}

/// `condition` on the columns of the row `alias` names.
pub(crate) fn push_condition(sql: &mut Sql, alias: &str, condition: &Condition) {
    match condition {
        Condition::True => {
            sql.push("1 = 1");
        }
        Condition::False => {
            sql.push("1 = 0");
        }
        Condition::Compare(column, comparison, value) => {
            sql.push(&format!("{alias}.{column} {} ", comparison.operator())).bind(value.clone());
        }
        Condition::IsNull(column) => {
            sql.push(&format!("{alias}.{column} IS NULL"));
        }
        Condition::Like(column, pattern) => {
            sql.push(&format!("{alias}.{column} LIKE ")).bind(pattern.clone()).push(" ESCAPE '\\'");
        }
        Condition::StartsWith(column, text) => {
            // Characters on both backends; no pattern, so no wildcard and no folded case.
            sql.push(&format!("substr({alias}.{column}, 1, length("))
                .bind(text.clone())
                .push(")) = ")
                .bind(text.clone());
        }
        Condition::All(parts) => push_joined(sql, alias, parts, " AND ", "1 = 1"),
        Condition::Any(parts) => push_joined(sql, alias, parts, " OR ", "1 = 0"),
    }
}

fn push_joined(sql: &mut Sql, alias: &str, parts: &[Condition], joint: &str, empty: &str) {
    if parts.is_empty() {
        sql.push(empty);
        return;
    }
    sql.push("(");
    for (position, part) in parts.iter().enumerate() {
        if position > 0 {
            sql.push(joint);
        }
        push_condition(sql, alias, part);
    }
    sql.push(")");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::Arg;
    use fhir_search::Comparison;

    #[test]
    fn conditions_are_written_with_their_alias_and_bound_values() {
        let condition = Condition::Any(vec![
            Condition::All(vec![
                Condition::compare("value", Comparison::Ge, 5.35),
                Condition::compare("value", Comparison::Lt, 5.45),
            ]),
            Condition::Like("normalized", "m\\_%".into()),
            Condition::IsNull("system"),
            Condition::StartsWith("value", "http://a/".into()),
            Condition::All(Vec::new()),
        ]);
        let mut sql = Sql::default();
        push_condition(&mut sql, "q", &condition);
        assert_eq!(
            sql.text(),
            "((q.value >= $1 AND q.value < $2) OR q.normalized LIKE $3 ESCAPE '\\' OR q.system IS NULL \
             OR substr(q.value, 1, length($4)) = $5 OR 1 = 1)"
        );
        assert_eq!(
            sql.args(),
            [
                Arg::Real(5.35),
                Arg::Real(5.45),
                Arg::Text("m\\_%".into()),
                Arg::Text("http://a/".into()),
                Arg::Text("http://a/".into())
            ]
        );
    }
}
