//! A collection read from PostgreSQL in one statement: the person's compartment found once (as
//! runs of consecutive `rid`s), then a row per record and a row of arrays per kind's index part,
//! told apart by their last column. (The shared resources the records refer to are kept apart,
//! `shared.rs`.)
//!
//! Why one statement: read as five, a collection's first query took five of the pool's
//! connections and waited for the slowest of five turns at them, behind the other connections'
//! fills (BENCHMARKS.md, "Collection cache"); its p99 was 57 ms. One statement takes one
//! connection for one round trip, and the compartment is looked up once instead of five times.
//! Why rows rather than one JSON column per part (as this was first written): PostgreSQL then
//! escaped every body into JSON text and the service unescaped it again. That was not where a
//! fill's time went (no change measured, docs/benchmarks/vacuum-and-access-log.md), but rows are
//! the plainer form. An index part's cells travel as typed arrays (as many text, integer and real
//! columns as the kind that needs most), not as JSON built per row: building that JSON was an
//! eighth of the statement's execution time, and parsing it a step of the service's own.

use super::IndexRows;
use super::fill::{Owner, READ_WITH_RECORDS, Read};
use crate::StoreError;
use crate::db::{Db, stored_resource};
use crate::sql::Sql;
use fhir_search::Scalar;
use fhir_search::kinds::{CellType, IndexTable};
use smallvec::SmallVec;

/// What a row of the statement is, by its last column.
const RECORD: i64 = 0;
/// An index row of `READ_WITH_RECORDS[part - FIRST_INDEX]`.
const FIRST_INDEX: i64 = 1;

/// After the resource's six columns, an index part's `rid`s and `param`s.
const RIDS: usize = 6;
const PARAMS: usize = 7;
/// Then the cell columns.
const FIRST_CELL: usize = 8;

/// The cell columns' types, in their order, with PostgreSQL's names.
const CELL_TYPES: [(CellType, &str); 3] =
    [(CellType::Text, "text"), (CellType::Integer, "bigint"), (CellType::Real, "double precision")];

/// How many cell columns of type `cell` there are: as many as the kind read with the records
/// that has most.
fn slots(cell: CellType) -> usize {
    READ_WITH_RECORDS.iter().map(|table| table.cells.iter().filter(|kind| **kind == cell).count()).max().unwrap_or(0)
}

/// The column of the row that holds `table`'s cell number `position`.
fn cell_column(table: &IndexTable, position: usize) -> usize {
    let cell = table.cells[position];
    let before: usize = CELL_TYPES.iter().take_while(|(kind, _)| *kind != cell).map(|(kind, _)| slots(*kind)).sum();
    let of_its_type_before = table.cells[..position].iter().filter(|kind| **kind == cell).count();
    FIRST_CELL + before + of_its_type_before
}

/// The cell columns of one part, each an array of the part's rows' cells: `table`'s own columns
/// in the slots of their types, `NULL` of the slot's array type in the rest (`None`: all `NULL`,
/// for the resources' part).
fn cell_columns(table: Option<&IndexTable>) -> String {
    let mut columns = Vec::new();
    for (cell, name) in CELL_TYPES {
        let own: Vec<&str> = table.map_or_else(Vec::new, |table| {
            table
                .columns
                .iter()
                .zip(table.cells)
                .filter(|(_, kind)| **kind == cell)
                .map(|(column, _)| *column)
                .collect()
        });
        for slot in 0..slots(cell) {
            columns.push(match own.get(slot) {
                Some(column) => format!("array_agg({column})"),
                None => format!("NULL::{name}[]"),
            });
        }
    }
    columns.join(", ")
}

/// The statement: the person's compartment as runs of consecutive `rid`s (`runs`), then a row per
/// record as `rid, resource_type, id, version_id, last_updated, body` (as every read of resources
/// gives them), and one row per index part with its rows' columns as arrays, `rids, params,
/// cells...`; the last column tells which part a row is of.
///
/// Why arrays: read as rows, the index parts were five of six rows of a fill, and each row cost
/// its own message, its own decoding of twelve columns in the service and its own allocations;
/// an array is one column of one row, decoded in one loop.
///
/// Why runs: a person's resources arrive together (a provider's bundle, a day's sync), so their
/// `rid`s lie in few runs, and each part reads a run as one range of its index instead of seeking
/// every `rid` from the root: in the benchmark's data one run per person, 43 buffer visits per fill
/// instead of 640, and half again as many fills per second (BENCHMARKS.md). Each `rid` of a run is in
/// the compartment by construction, so a range holds no one else's rows; a person whose `rid`s
/// are scattered gets one run per `rid`, as many seeks as before. Each part reads its ranges in a
/// subquery of its own (`LATERAL ... OFFSET 0`), which the planner cannot merge into a join: the
/// ranges' bounds are parameters of an index scan, never a filter on a scan of the whole table.
fn statement(owner: Owner<'_>) -> Sql {
    let in_run = |sql: &mut Sql, column: &str| {
        sql.push(&format!("{column} BETWEEN runs.lo AND runs.hi"));
    };
    let no_cells = cell_columns(None);
    let mut sql = Sql::new(
        "WITH runs AS MATERIALIZED (SELECT min(rid) AS lo, max(rid) AS hi FROM (\
         SELECT rid, rid - row_number() OVER (ORDER BY rid) AS run FROM (SELECT DISTINCT c.rid FROM (",
    );
    owner.push_compartment_rids(&mut sql);
    sql.push(") c) compartment) numbered GROUP BY run)");
    sql.push(&format!(
        " SELECT rid, resource_type, id, version_id, last_updated, body, NULL::bigint[] AS rids, \
         NULL::text[] AS params, {no_cells}, {RECORD} AS part FROM runs CROSS JOIN LATERAL ("
    ));
    owner.push_records(&mut sql, &in_run);
    sql.push(" OFFSET 0) records");
    for (position, table) in (FIRST_INDEX..).zip(READ_WITH_RECORDS) {
        sql.push(&format!(
            " UNION ALL SELECT NULL::bigint, NULL::text, NULL::text, NULL::bigint, NULL::bigint, NULL::text, \
             array_agg(rid), array_agg(param), {}, {position} FROM runs CROSS JOIN LATERAL (",
            cell_columns(Some(table))
        ));
        owner.push_index_rows(&mut sql, table, &in_run);
        // No row for a part without rows (an aggregate's one row would hold NULLs).
        sql.push(" OFFSET 0) rows HAVING count(*) > 0");
    }
    sql
}

/// Reads the collection of `owner`.
pub(super) async fn read(db: &Db, owner: Owner<'_>) -> Result<Read, StoreError> {
    let mut records = Vec::new();
    let mut index: [Vec<_>; READ_WITH_RECORDS.len()] = Default::default();
    let part_column = FIRST_CELL + CELL_TYPES.iter().map(|(cell, _)| slots(*cell)).sum::<usize>();
    for mut row in db.fetch_all(statement(owner)).await? {
        match row.take::<i64>(part_column)? {
            RECORD => records.push(stored_resource(&mut row)?),
            part => {
                let position = usize::try_from(part - FIRST_INDEX)
                    .ok()
                    .filter(|position| *position < READ_WITH_RECORDS.len())
                    .ok_or_else(|| malformed(format!("a row of part {part}")))?;
                let table = READ_WITH_RECORDS[position];
                let rids: Vec<i64> = row.take_list(RIDS)?;
                let params: Vec<Option<String>> = row.take_list(PARAMS)?;
                let mut cells = (0..table.cells.len())
                    .map(|cell| row.take_list(cell_column(table, cell)).map(Vec::into_iter))
                    .collect::<Result<Vec<_>, _>>()?;
                if params.len() != rids.len() || cells.iter().any(|cells| cells.len() != rids.len()) {
                    return Err(malformed(format!("part {part}'s arrays of unequal lengths")));
                }
                for (rid, param) in rids.into_iter().zip(params) {
                    let cells: SmallVec<[Scalar; 2]> = cells.iter_mut().filter_map(Iterator::next).collect();
                    index[position].push((rid, param, cells));
                }
            }
        }
    }
    // In the order stored, as every other read gives them.
    records.sort_unstable_by_key(|record| record.rid);
    Ok(Read { records, index: index.map(IndexRows::from_rows) })
}

fn malformed(error: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("a collection as PostgreSQL read it: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fhir_search::kinds::{date, reference, token};

    #[test]
    fn each_cell_has_a_column_of_its_type_of_its_own() {
        // text, text, bigint, bigint: token and reference use the two text columns, date the two
        // bigint ones.
        assert_eq!((slots(CellType::Text), slots(CellType::Integer), slots(CellType::Real)), (2, 2, 0));
        assert_eq!([cell_column(&token::TABLE, 0), cell_column(&token::TABLE, 1)], [8, 9]);
        assert_eq!([cell_column(&reference::TABLE, 0), cell_column(&reference::TABLE, 1)], [8, 9]);
        assert_eq!([cell_column(&date::TABLE, 0), cell_column(&date::TABLE, 1)], [10, 11]);
        assert_eq!(cell_columns(Some(&date::TABLE)), "NULL::text[], NULL::text[], array_agg(low), array_agg(high)");
        assert_eq!(cell_columns(None), "NULL::text[], NULL::text[], NULL::bigint[], NULL::bigint[]");
    }
}
