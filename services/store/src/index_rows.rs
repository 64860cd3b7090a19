//! The search index's rows of the kinds: each resource's [`IndexEntry`]s written to their kind's
//! table (`rid`, `param`, then the kind's columns), and a resource's rows cleared from every
//! kind's table. Which tables and columns there are is the kinds' (`fhir_search::kinds`); the
//! store only moves rows.

use crate::StoreError;
use crate::db::Tx;
use crate::sql::Sql;
use fhir_search::IndexEntry;
use fhir_search::kinds::INDEX_TABLES;

/// Rows per multi-row INSERT or per `IN` list: well under SQLite's and PostgreSQL's limits on
/// bound values.
pub(crate) const ROWS_PER_STATEMENT: usize = 200;

/// Removes every kind's index rows of the resources in rows `rids`.
pub(crate) async fn clear(tx: &mut Tx, rids: &[i64]) -> Result<(), StoreError> {
    for chunk in rids.chunks(ROWS_PER_STATEMENT) {
        for table in INDEX_TABLES {
            let mut sql = Sql::new(&format!("DELETE FROM {} WHERE rid IN ", table.name));
            sql.bind_list(chunk.iter().copied());
            tx.execute(sql.once()).await?;
        }
    }
    Ok(())
}

/// Writes `entries` (each with the row of the resource it indexes) to their kinds' tables.
///
/// A collected list, not any iterator: an iterator built of closures over borrowed entries would
/// be held in the future and keep it from being `Send` for every lifetime (a spawned write).
pub(crate) async fn insert(tx: &mut Tx, entries: Vec<(i64, &IndexEntry)>) -> Result<(), StoreError> {
    let mut by_table: Vec<Vec<(i64, &IndexEntry)>> = INDEX_TABLES.iter().map(|_| Vec::new()).collect();
    for (rid, entry) in entries {
        let table = entry.value.table();
        if let Some(position) = INDEX_TABLES.iter().position(|known| known.name == table.name)
            && let Some(rows) = by_table.get_mut(position)
        {
            rows.push((rid, entry));
        }
    }
    for (table, rows) in INDEX_TABLES.iter().zip(by_table) {
        let columns = format!("rid, param, {}", table.columns.join(", "));
        insert_rows(tx, table.name, &columns, &rows, ROWS_PER_STATEMENT, |sql, (rid, entry)| {
            sql.bind(*rid).push(", ").bind(entry.param.clone());
            for cell in entry.value.cells() {
                sql.push(", ").bind(cell);
            }
        })
        .await?;
    }
    Ok(())
}

/// Inserts rows of `columns` into `table`, `per_statement` at a time.
pub(crate) async fn insert_rows<R>(
    tx: &mut Tx,
    table: &str,
    columns: &str,
    rows: &[R],
    per_statement: usize,
    mut bind_row: impl FnMut(&mut Sql, &R),
) -> Result<(), StoreError> {
    for chunk in rows.chunks(per_statement) {
        let mut sql = Sql::new(&format!("INSERT INTO {table} ({columns}) VALUES "));
        for (position, row) in chunk.iter().enumerate() {
            sql.push(if position == 0 { "(" } else { ", (" });
            bind_row(&mut sql, row);
            sql.push(")");
        }
        tx.execute(sql.once()).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use crate::Store;
    use crate::sql::Sql;
    use fhir_search::kinds::{CellType, INDEX_TABLES};
    use test_support::on_both_backends;

    // What a kind says its columns hold is what the migrations made them: the collection's read
    // from PostgreSQL puts each cell into a column of that type.
    on_both_backends!(every_index_column_holds_what_its_kind_says, |database| {
        let store = Store::connect(&database.url, 2).await.expect("connects");
        store.migrate().await.expect("migrates");
        for table in INDEX_TABLES {
            assert_eq!(table.columns.len(), table.cells.len(), "{}", table.name);
            for (column, cell) in table.columns.iter().zip(table.cells) {
                let sql = match store.backend() {
                    crate::Backend::Sqlite => Sql::with(
                        "SELECT lower(type) FROM pragma_table_info($1) WHERE name = $2",
                        [table.name.into(), (*column).into()],
                    ),
                    crate::Backend::Postgres => Sql::with(
                        "SELECT data_type::text FROM information_schema.columns WHERE table_name = $1 AND column_name = $2",
                        [table.name.into(), (*column).into()],
                    ),
                };
                let mut row = store.db.fetch_optional(sql).await.expect("reads").expect("the column exists");
                let declared: String = row.take(0).expect("a type");
                let expected: &[&str] = match cell {
                    CellType::Text => &["text"],
                    CellType::Integer => &["bigint"],
                    CellType::Real => &["real", "double precision"],
                };
                assert!(expected.contains(&declared.as_str()), "{}.{column} is {declared}, not {cell:?}", table.name);
            }
        }
    });
}
