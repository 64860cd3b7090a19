//! A person's records read from PostgreSQL by runs of consecutive `rid`s: their compartment found
//! once, as runs, and each run read as one range of the resources' primary key, every record
//! with the copy of its token, date and reference index rows it holds (`collection_index.rs`).
//! (The shared resources the records refer to are kept apart, `shared.rs`.)
//!
//! Why one statement: a collection's first query read as five statements took five of the pool's
//! connections and waited for the slowest of five turns at them, behind the other connections'
//! fills (BENCHMARKS.md, "Collection cache"); its p99 was 57 ms. One statement takes one
//! connection for one round trip. Why the index rows from the records' own column rather than
//! from their tables (as this read them before, as arrays aggregated per kind in the same
//! statement): three index walks and their aggregates were about 40% of the statement's time, and
//! decoding their arrays most of the service's work on it (BENCHMARKS.md).
//!
//! Why runs: a person's resources arrive together (a provider's bundle, a day's sync), so their
//! `rid`s lie in few runs, and the statement reads a run as one range of the table's key instead
//! of seeking every `rid` from the root: in the benchmark's data one run per person, and half
//! again as many fills per second (BENCHMARKS.md). Each `rid` of a run is in the compartment by
//! construction, so a range holds no one else's rows; a person whose `rid`s are scattered gets
//! one run per `rid`, as many seeks as before. The records are read in a subquery of their own
//! (`LATERAL ... OFFSET 0`), which the planner cannot merge into a join: the ranges' bounds are
//! parameters of an index scan, never a filter on a scan of the whole table.

use super::fill::{Owner, RecordRow, record_rows};
use crate::StoreError;
use crate::db::Db;
use crate::sql::Sql;

/// The statement: the person's compartment as runs of consecutive `rid`s (`runs`), then their
/// records as [`Owner::push_records`] gives them, run by run.
fn statement(owner: Owner<'_>) -> Sql {
    let in_run = |sql: &mut Sql, column: &str| {
        sql.push(&format!("{column} BETWEEN runs.lo AND runs.hi"));
    };
    let mut sql = Sql::new(
        "WITH runs AS MATERIALIZED (SELECT min(rid) AS lo, max(rid) AS hi FROM (\
         SELECT rid, rid - row_number() OVER (ORDER BY rid) AS run FROM (SELECT DISTINCT c.rid FROM (",
    );
    owner.push_compartment_rids(&mut sql);
    sql.push(") c) compartment) numbered GROUP BY run)");
    sql.push(" SELECT records.* FROM runs CROSS JOIN LATERAL (");
    owner.push_records(&mut sql, &in_run);
    sql.push(" OFFSET 0) records");
    sql
}

/// The records of `owner`, in the order stored.
pub(super) async fn records(db: &Db, owner: Owner<'_>) -> Result<Vec<RecordRow>, StoreError> {
    let mut records = record_rows(db.fetch_all(statement(owner)).await?)?;
    // Runs come in no particular order.
    records.sort_unstable_by_key(|(record, _)| record.rid);
    Ok(records)
}
