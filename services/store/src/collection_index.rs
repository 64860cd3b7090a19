//! `resources.collection_index`: a second copy of a resource's token, date and reference index
//! rows, kept in its own row as JSON, so that the first query of a collection reads a person's
//! records and these rows as one range of one table (`collection/fill.rs`).
//!
//! Why a copy: read from their three tables, these rows were about 40% of a collection's read on
//! PostgreSQL (three index walks and their aggregates, measured with `pgbench`, BENCHMARKS.md) and
//! most of the service's decoding of it. The tables stay what every search in the database reads.
//! The two agree by construction: both are written from the same [`IndexEntry`]s in the same
//! transaction (a write, `write.rs`; a rebuild of the index, `reindex.rs`), a deletion clears
//! both (a test checks that they agree after each). Migration 0011 asks for a rebuild of the
//! index, which fills the column of every resource stored before, at the service's next start
//! and before it serves. A record whose column is still empty is read the old way, from the
//! tables.
//!
//! The form: `{"search_token": [[param, system, code], ...], "search_date": [[param, low, high],
//! ...], "search_reference": [[param, target_type, target_id], ...]}`, each row its parameter
//! (`null` for a reference no parameter covers) and its kind's cells in the order of the kind's
//! columns.

use crate::StoreError;
use crate::db::Tx;
use crate::index_rows::ROWS_PER_STATEMENT;
use crate::sql::Sql;
use fhir_search::kinds::{CellType, IndexTable, date, reference, token};
use fhir_search::{IndexEntry, Scalar};
use serde_json::{Map, Number, Value};
use smallvec::SmallVec;
use std::collections::HashMap;

/// The kinds whose rows the column holds: those nearly every collection's queries need (codes,
/// `$lastn`'s dates, `_include`s); the others are read from their tables when a query first
/// needs them.
pub(crate) const KINDS: [&IndexTable; 3] = [&token::TABLE, &date::TABLE, &reference::TABLE];

/// One index row as the column gives it back: its parameter and its cells.
pub(crate) type KindRow = (Option<String>, SmallVec<[Scalar; 2]>);

/// The column's value for a resource indexed under `entries` (rows of other kinds left out).
pub(crate) fn encode(entries: &[IndexEntry]) -> String {
    let mut parts: Vec<Vec<Value>> = KINDS.iter().map(|_| Vec::new()).collect();
    for entry in entries {
        let table = entry.value.table();
        let Some(part) = KINDS.iter().position(|kind| kind.name == table.name) else { continue };
        let mut row = Vec::with_capacity(1 + table.cells.len());
        row.push(entry.param.clone().map_or(Value::Null, Value::String));
        row.extend(entry.value.cells().into_iter().map(json_cell));
        parts[part].push(Value::Array(row));
    }
    let object: Map<String, Value> =
        KINDS.iter().zip(parts).map(|(kind, rows)| (kind.name.to_owned(), Value::Array(rows))).collect();
    Value::Object(object).to_string()
}

/// Sets the column of each resource row of `columns` to its value (a rebuild of the index; a
/// write sets it with the rest of the row).
pub(crate) async fn update(tx: &mut Tx, columns: &[(i64, String)]) -> Result<(), StoreError> {
    // Three values bound per row (its `rid` twice, its column once): 300 per statement.
    for chunk in columns.chunks(ROWS_PER_STATEMENT / 2) {
        let mut sql = Sql::new("UPDATE resources SET collection_index = CASE rid");
        for (rid, column) in chunk {
            sql.push(" WHEN ").bind(*rid).push(" THEN ").bind(column.clone());
        }
        sql.push(" END WHERE rid IN ");
        sql.bind_list(chunk.iter().map(|(rid, _)| *rid));
        tx.execute(sql.once()).await?;
    }
    Ok(())
}

fn json_cell(cell: Scalar) -> Value {
    match cell {
        Scalar::Int(value) => Value::Number(value.into()),
        // A non-finite number has no JSON form; no kind indexes one (they come from JSON).
        Scalar::Real(value) => Number::from_f64(value).map_or(Value::Null, Value::Number),
        Scalar::Text(value) => Value::String(value),
        Scalar::Null => Value::Null,
    }
}

/// The rows of `text` per kind, in the order of [`KINDS`]. A kind the text leaves out has none.
pub(crate) fn decode(text: &str) -> Result<[Vec<KindRow>; 3], StoreError> {
    let mut parts: HashMap<String, Vec<Vec<Value>>> =
        serde_json::from_str(text).map_err(|error| corrupt(format!("not an object of rows: {error}")))?;
    let mut decoded: [Vec<KindRow>; 3] = Default::default();
    for (kind, into) in KINDS.iter().zip(decoded.iter_mut()) {
        for row in parts.remove(kind.name).unwrap_or_default() {
            into.push(kind_row(kind, row)?);
        }
    }
    Ok(decoded)
}

fn kind_row(kind: &IndexTable, row: Vec<Value>) -> Result<KindRow, StoreError> {
    if row.len() != 1 + kind.cells.len() {
        return Err(corrupt(format!("a {} row of {} values", kind.name, row.len())));
    }
    let mut values = row.into_iter();
    let param = match values.next() {
        Some(Value::String(param)) => Some(param),
        Some(Value::Null) | None => None,
        Some(other) => return Err(corrupt(format!("a {} row's parameter {other}", kind.name))),
    };
    let cells = kind
        .cells
        .iter()
        .zip(values)
        .map(|(cell, value)| match (cell, value) {
            (_, Value::Null) => Ok(Scalar::Null),
            (CellType::Text, Value::String(text)) => Ok(Scalar::Text(text)),
            (CellType::Integer, Value::Number(number)) if number.is_i64() => {
                Ok(Scalar::Int(number.as_i64().unwrap_or_default()))
            }
            (CellType::Real, Value::Number(number)) => Ok(Scalar::Real(number.as_f64().unwrap_or_default())),
            (cell, value) => Err(corrupt(format!("a {} cell of type {cell:?} holding {value}", kind.name))),
        })
        .collect::<Result<_, _>>()?;
    Ok((param, cells))
}

fn corrupt(what: String) -> StoreError {
    StoreError::Corrupt(format!("a resource's collection_index: {what}"))
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use fhir_search::kinds::{IndexValue, date::DateEntry, reference::ReferenceEntry, token::TokenEntry};

    fn entry(param: Option<&str>, value: IndexValue) -> IndexEntry {
        IndexEntry { param: param.map(str::to_owned), value }
    }

    #[test]
    fn what_is_encoded_decodes_to_the_cells_the_tables_hold() {
        let entries = vec![
            entry(
                Some("code"),
                IndexValue::Token(TokenEntry { system: Some("http://loinc.org".into()), code: "8302-2".into() }),
            ),
            entry(
                Some("identifier"),
                IndexValue::Token(TokenEntry { system: None, code: "a \"quoted\" \\ code".into() }),
            ),
            entry(Some("date"), IndexValue::Date(DateEntry { low: i64::MIN + 1, high: i64::MAX })),
            entry(
                None,
                IndexValue::Reference(ReferenceEntry { target_type: "Practitioner".into(), target_id: "p1".into() }),
            ),
        ];
        let [tokens, dates, references] = decode(&encode(&entries)).expect("decodes");
        let expected =
            |entry: &IndexEntry| -> KindRow { (entry.param.clone(), entry.value.cells().into_iter().collect()) };
        assert_eq!(tokens, vec![expected(&entries[0]), expected(&entries[1])]);
        assert_eq!(dates, vec![expected(&entries[2])]);
        assert_eq!(references, vec![expected(&entries[3])]);
    }

    #[test]
    fn nothing_indexed_is_three_empty_kinds_and_other_kinds_are_left_out() {
        let empty: Value = serde_json::from_str(&encode(&[])).expect("JSON");
        assert_eq!(empty, serde_json::json!({"search_token": [], "search_date": [], "search_reference": []}));
        let [tokens, dates, references] = decode("{}").expect("decodes");
        assert!(tokens.is_empty() && dates.is_empty() && references.is_empty());
    }

    /// A write of `resource` (STU3) with its index as ingest makes it; a record is `p1`'s.
    pub(crate) fn write_of(resource: serde_json::Value) -> crate::Write {
        let catalog = data_services::Catalog::embedded().expect("definitions");
        let resource_type = resource["resourceType"].as_str().expect("type").to_owned();
        let release = catalog.release(fhir_core::Release::Stu3).expect("STU3");
        let definition = release.type_definition(&resource_type).expect("defined");
        let mut index = fhir_search::index::extract(definition, &resource, chrono_tz::Europe::Amsterdam);
        if resource_type != "Patient" {
            index.compartment = vec!["p1".to_owned()];
        }
        crate::Write::Put(Box::new(crate::ResourceWrite {
            release: fhir_core::Release::Stu3,
            id: resource["id"].as_str().expect("id").to_owned(),
            resource_type,
            content_hash: resource.to_string(),
            index,
            person_keys: Vec::new(),
            served: None,
            resource,
        }))
    }

    /// Records of `p1` that data service 48 serves: a Patient, and an Observation with codes, a
    /// date and references.
    pub(crate) fn records(code: &str, when: &str) -> Vec<serde_json::Value> {
        vec![
            serde_json::json!({"resourceType": "Patient", "id": "p1",
                "meta": {"profile": ["http://fhir.nl/fhir/StructureDefinition/nl-core-patient"]}, "identifier": [{"system": "urn:x", "value": "1"}],
                "generalPractitioner": [{"reference": "Practitioner/gp"}]}),
            serde_json::json!({"resourceType": "Observation", "id": "o1", "status": "final",
                "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/zib-BodyWeight"]},
                "code": {"coding": [{"system": "http://loinc.org", "code": code}, {"code": "local"}]},
                "subject": {"reference": "Patient/p1"}, "performer": [{"reference": "Practitioner/gp"}],
                "effectiveDateTime": when}),
        ]
    }

    /// Every disagreement between the column and the tables, per resource row; a deleted
    /// resource must hold no column.
    async fn disagreements(store: &crate::Store) -> Vec<String> {
        let rows = store
            .db
            .fetch_all(Sql::new("SELECT rid, deleted, collection_index FROM resources ORDER BY rid"))
            .await
            .expect("reads");
        let mut found = Vec::new();
        for mut row in rows {
            let (rid, deleted): (i64, i64) = (row.take(0).expect("rid"), row.take(1).expect("deleted"));
            let column: Option<String> = row.take(2).expect("column");
            let column = match (deleted, column) {
                (0, Some(column)) => column,
                (0, None) => {
                    found.push(format!("{rid}: no column"));
                    continue;
                }
                (_, column) => {
                    if column.is_some() {
                        found.push(format!("{rid}: deleted, with a column"));
                    }
                    continue;
                }
            };
            let held = decode(&column).expect("decodes");
            for (kind, held) in KINDS.iter().zip(held) {
                let sql = Sql::with(
                    &format!("SELECT param, {} FROM {} WHERE rid = $1", kind.columns.join(", "), kind.name),
                    [rid.into()],
                );
                let mut tables: Vec<String> = Vec::new();
                for mut row in store.db.fetch_all(sql).await.expect("reads") {
                    let param: Option<String> = row.take(0).expect("param");
                    let cells: Vec<Scalar> = (1..=kind.cells.len()).map(|at| row.take(at).expect("cell")).collect();
                    tables.push(format!("{param:?} {cells:?}"));
                }
                let mut column: Vec<String> =
                    held.iter().map(|(param, cells)| format!("{param:?} {:?}", cells.to_vec())).collect();
                tables.sort();
                column.sort();
                if tables != column {
                    found.push(format!("{rid} {}: tables {tables:?}, column {column:?}", kind.name));
                }
            }
        }
        found
    }

    test_support::on_both_backends!(the_column_and_the_tables_agree_after_every_kind_of_write, |database| {
        let store = crate::Store::connect(&database.url, 2).await.expect("connects");
        store.migrate().await.expect("migrates");
        let new =
            crate::NewProvider { name: "umcx".into(), display_name: "UMCX".into(), data_services: vec!["48".into()] };
        let provider = store.create_provider(&new, None).await.expect("provider").id;
        let writes = |code: &str, when: &str| records(code, when).into_iter().map(write_of).collect::<Vec<_>>();
        let delete = |resource_type: &str, id: &str| crate::Write::Delete {
            release: fhir_core::Release::Stu3,
            resource_type: resource_type.into(),
            id: id.into(),
        };
        // Created; updated with other codes and dates; deleted; brought back.
        store.write(provider, writes("8302-2", "2026-01-02")).await.expect("created");
        store.write(provider, writes("29463-7", "2026-03")).await.expect("updated");
        assert_eq!(disagreements(&store).await, Vec::<String>::new());
        store.write(provider, vec![delete("Observation", "o1")]).await.expect("deleted");
        assert_eq!(disagreements(&store).await, Vec::<String>::new());
        store.write(provider, writes("8867-4", "2026-04-05T10:00:00+02:00")).await.expect("brought back");
        assert_eq!(disagreements(&store).await, Vec::<String>::new());
        // As stored before the column: a rebuild of the index fills it.
        store.db.execute(Sql::new("UPDATE resources SET collection_index = NULL")).await.expect("emptied");
        store.db.execute(Sql::new("DELETE FROM search_index_definitions")).await.expect("forgotten");
        let catalog = data_services::Catalog::embedded().expect("definitions");
        assert_eq!(store.reindex_if_needed(&catalog, chrono_tz::Europe::Amsterdam).await.expect("reindexed"), 2);
        assert_eq!(disagreements(&store).await, Vec::<String>::new());
    });

    #[test]
    fn a_damaged_column_is_refused_with_what_is_wrong() {
        for (text, says) in [
            ("[]", "not an object"),
            (r#"{"search_token": [["code", "s"]]}"#, "search_token row of 2 values"),
            (r#"{"search_date": [["date", "x", 1]]}"#, "search_date cell of type Integer"),
            (r#"{"search_token": [[3, "s", "c"]]}"#, "parameter 3"),
        ] {
            let error = decode(text).expect_err(text).to_string();
            assert!(error.contains(says), "{text}: {error}");
        }
    }
}
