//! A collection read from PostgreSQL in one statement: the person's compartment found once, then
//! the records, the shared resources they refer to and each kind's index rows, as the rows of
//! one `UNION ALL`, told apart by their last column.
//!
//! Why one statement: read as five, a collection's first query took five of the pool's
//! connections and waited for the slowest of five turns at them, behind the other connections'
//! fills (BENCHMARKS.md, "Collection cache"); its p99 was 57 ms. One statement takes one
//! connection for one round trip, and the compartment is looked up once instead of five times.
//! Why rows rather than one JSON column per part (as this was first written): PostgreSQL then
//! escaped every body into JSON text and the service unescaped it again. That was not where a
//! fill's time went (no change measured, BENCHMARKS.md), but rows are the plainer form. An index
//! row's cells still travel as a small JSON array, which keeps a number apart from text whatever
//! the kind.

use super::IndexRow;
use super::fill::{Owner, READ_WITH_RECORDS, Read};
use crate::StoreError;
use crate::db::{Db, stored_resource};
use crate::sql::Sql;
use fhir_search::Scalar;

/// What a row of the statement is, by its last column.
const RECORD: i64 = 0;
const SHARED: i64 = 1;
/// An index row of `READ_WITH_RECORDS[part - FIRST_INDEX]`.
const FIRST_INDEX: i64 = 2;

/// The statement: a materialized compartment `c`, then every part's rows as
/// `rid, resource_type, id, version_id, last_updated, body, param, cells, part` (a resource's
/// six columns first, as every read of resources gives them).
fn statement(owner: Owner<'_>) -> Sql {
    let from_compartment = |sql: &mut Sql| {
        sql.push("SELECT rid FROM c");
    };
    let mut sql = Sql::new("WITH c AS MATERIALIZED (");
    owner.push_compartment_rids(&mut sql);
    sql.push("), records AS (");
    owner.push_records(&mut sql, &from_compartment);
    sql.push("), shared AS (");
    owner.push_shared_referenced(&mut sql, &from_compartment, crate::Backend::Postgres);
    sql.push(&format!(
        ") SELECT rid, resource_type, id, version_id, last_updated, body, NULL::text AS param, \
         NULL::text AS cells, {RECORD} AS part FROM records \
         UNION ALL SELECT rid, resource_type, id, version_id, last_updated, body, NULL::text, NULL::text, {SHARED} \
         FROM shared"
    ));
    for (position, table) in (FIRST_INDEX..).zip(READ_WITH_RECORDS) {
        let columns = table.columns.join(", ");
        sql.push(&format!(
            " UNION ALL SELECT rid, NULL::text, NULL::text, NULL::bigint, NULL::bigint, NULL::text, \
             param, json_build_array({columns})::text, {position} FROM ("
        ));
        owner.push_index_rows(&mut sql, table, &from_compartment);
        sql.push(") rows");
    }
    sql
}

/// Reads the collection of `owner`.
pub(super) async fn read(db: &Db, owner: Owner<'_>) -> Result<Read, StoreError> {
    let mut read = Read { records: Vec::new(), shared: Vec::new(), index: Default::default() };
    for mut row in db.fetch_all(statement(owner)).await? {
        match row.take::<i64>(8)? {
            RECORD => read.records.push(stored_resource(&mut row)?),
            SHARED => read.shared.push(stored_resource(&mut row)?),
            part => {
                let rows = usize::try_from(part - FIRST_INDEX)
                    .ok()
                    .and_then(|position| read.index.get_mut(position))
                    .ok_or_else(|| malformed(format!("a row of part {part}")))?;
                let rid = row.take(0)?;
                let param = row.take(6)?;
                let cells = cells(&row.take::<String>(7)?)?;
                rows.entry(rid).or_default().push(IndexRow { param, cells });
            }
        }
    }
    // In the order stored, as every other read gives them.
    read.records.sort_unstable_by_key(|record| record.rid);
    Ok(read)
}

/// An index row's cells, from their JSON array.
fn cells(json: &str) -> Result<Vec<Scalar>, StoreError> {
    let values: Vec<serde_json::Value> = serde_json::from_str(json).map_err(malformed)?;
    values.into_iter().map(scalar).collect()
}

/// A cell as the database gave it: JSON keeps a column's type apart (a number, a string, null).
fn scalar(value: serde_json::Value) -> Result<Scalar, StoreError> {
    Ok(match value {
        serde_json::Value::Null => Scalar::Null,
        serde_json::Value::String(text) => Scalar::Text(text),
        serde_json::Value::Number(number) => match number.as_i64() {
            Some(whole) => Scalar::Int(whole),
            None => Scalar::Real(number.as_f64().ok_or_else(|| malformed(format!("the number {number}")))?),
        },
        other => return Err(malformed(format!("the cell {other}"))),
    })
}

fn malformed(error: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("a collection as PostgreSQL aggregated it: {error}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn cells_keep_their_types() {
        assert_eq!(cells("[null, \"123\"]").unwrap(), [Scalar::Null, Scalar::Text("123".into())]);
        assert_eq!(cells("[5, 2.5]").unwrap(), [Scalar::Int(5), Scalar::Real(2.5)]);
        assert!(cells("[[1]]").is_err());
        assert!(cells("not json").is_err());
    }
}
