//! A collection read from PostgreSQL in one statement: the person's compartment found once, then
//! the records, the shared resources they refer to and each kind's index rows aggregated as JSON,
//! one column apiece.
//!
//! Why one statement: read as five, a collection's first query took five of the pool's
//! connections and waited for the slowest of five turns at them, behind the other connections'
//! fills (BENCHMARKS.md, "Collection cache"); its p99 was 57 ms. One statement takes one
//! connection for one round trip, and the compartment is looked up once instead of five times.

use super::fill::{Owner, READ_WITH_RECORDS, Read};
use super::{IndexRow, IndexRows};
use crate::StoreError;
use crate::db::Db;
use crate::read::StoredResource;
use crate::sql::Sql;
use fhir_search::Scalar;

/// A resource as the statement aggregates it: `[rid, resource_type, id, version_id,
/// last_updated, body]`.
type ResourceCells = (i64, String, String, i64, i64, String);

/// The statement: a materialized compartment `c`, then one JSON column per part.
fn statement(owner: Owner<'_>) -> Sql {
    let from_compartment = |sql: &mut Sql| {
        sql.push("SELECT rid FROM c");
    };
    let mut sql = Sql::new("WITH c AS MATERIALIZED (");
    owner.push_compartment_rids(&mut sql);
    sql.push("), records AS (");
    owner.push_records(&mut sql, &from_compartment);
    sql.push("), shared AS (");
    owner.push_shared_referenced(&mut sql, &from_compartment);
    sql.push(
        ") SELECT (SELECT json_agg(json_build_array(rid, resource_type, id, version_id, last_updated, body) \
         ORDER BY rid) FROM records)::text AS records, \
         (SELECT json_agg(json_build_array(rid, resource_type, id, version_id, last_updated, body)) \
         FROM shared)::text AS shared",
    );
    for table in READ_WITH_RECORDS {
        let columns = table.columns.join(", ");
        sql.push(&format!(", (SELECT json_agg(json_build_array(rid, param, json_build_array({columns}))) FROM ("));
        owner.push_index_rows(&mut sql, table, &from_compartment);
        sql.push(&format!(") rows)::text AS {}", table.name));
    }
    sql
}

/// Reads the collection of `owner`.
pub(super) async fn read(db: &Db, owner: Owner<'_>) -> Result<Read, StoreError> {
    let mut row = db.fetch_one(statement(owner)).await?;
    let records = resources(row.take(0)?)?;
    let shared = resources(row.take(1)?)?;
    // The index columns follow in the order of READ_WITH_RECORDS.
    let [tokens, dates, references] = [2, 3, 4].map(|column| row.take::<Option<String>>(column));
    Ok(Read { records, shared, index: [index_rows(tokens?)?, index_rows(dates?)?, index_rows(references?)?] })
}

/// The resources of a JSON column (`NULL`: none).
fn resources(json: Option<String>) -> Result<Vec<StoredResource>, StoreError> {
    let Some(json) = json else { return Ok(Vec::new()) };
    let cells: Vec<ResourceCells> = serde_json::from_str(&json).map_err(malformed)?;
    Ok(cells
        .into_iter()
        .map(|(rid, resource_type, id, version_id, last_updated, body)| StoredResource {
            rid,
            resource_type,
            id,
            version_id,
            last_updated,
            body,
        })
        .collect())
}

/// The index rows of a JSON column (`NULL`: none), by resource.
fn index_rows(json: Option<String>) -> Result<IndexRows, StoreError> {
    let mut rows = IndexRows::new();
    let Some(json) = json else { return Ok(rows) };
    let cells: Vec<(i64, Option<String>, Vec<serde_json::Value>)> = serde_json::from_str(&json).map_err(malformed)?;
    for (rid, param, values) in cells {
        let cells = values.into_iter().map(scalar).collect::<Result<_, _>>()?;
        rows.entry(rid).or_default().push(IndexRow { param, cells });
    }
    Ok(rows)
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
        let rows = index_rows(Some(r#"[[7, "code", [null, "123"]], [7, null, [5, 2.5]]]"#.to_owned())).unwrap();
        let cells: Vec<&[Scalar]> = rows[&7].iter().map(|row| row.cells.as_slice()).collect();
        assert_eq!(cells, [&[Scalar::Null, Scalar::Text("123".into())][..], &[Scalar::Int(5), Scalar::Real(2.5)][..]]);
        assert_eq!(rows[&7][1].param, None);
        assert!(index_rows(None).unwrap().is_empty());
        assert!(index_rows(Some("[[7, \"p\", [[1]]]]".to_owned())).is_err());
    }
}
