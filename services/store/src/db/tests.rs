//! The seam's promises, on both backends: a transaction is all or nothing and leaves its
//! connection usable, rows decode to the same cells, and a statement's text written once runs on
//! either.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::Row;
use super::row::Cell;
use crate::Store;
use crate::sql::{Arg, Sql};
use test_support::on_both_backends;

async fn migrated(database: &test_support::TestDatabase) -> Store {
    let store = Store::connect(&database.url, 2).await.expect("connects");
    store.migrate().await.expect("migrates");
    // The migrations leave work for the service's first start; these tests use the table alone.
    store.db.execute(Sql::new("DELETE FROM pending_work")).await.expect("emptied");
    store
}

fn pending(name: &str) -> Sql {
    Sql::with("INSERT INTO pending_work (name) VALUES ($1)", [name.into()])
}

async fn names(store: &Store) -> Vec<String> {
    let rows = store.db.fetch_all(Sql::new("SELECT name FROM pending_work ORDER BY name")).await.expect("reads");
    rows.into_iter().map(|mut row| row.take(0).expect("text")).collect()
}

on_both_backends!(a_transaction_dropped_or_failed_leaves_nothing_and_the_next_one_runs, |database| {
    let store = migrated(&database).await;
    let mut tx = store.db.begin().await.expect("begins");
    tx.execute(pending("dropped")).await.expect("inserts");
    drop(tx);
    let mut tx = store.db.begin().await.expect("begins after a drop");
    tx.execute(pending("failed")).await.expect("inserts");
    // The same name again breaks the primary key: the transaction's first write goes too.
    tx.execute(pending("failed")).await.expect_err("a duplicate name");
    drop(tx);
    let mut tx = store.db.begin().await.expect("begins after a failure");
    tx.execute(pending("kept")).await.expect("inserts");
    tx.commit().await.expect("commits");
    assert_eq!(names(&store).await, ["kept"]);
    assert_eq!(
        store.db.execute(Sql::with("DELETE FROM pending_work WHERE name = $1", ["kept".into()])).await.unwrap(),
        1
    );
    assert!(names(&store).await.is_empty());
});

on_both_backends!(rows_decode_to_the_same_cells_on_both_backends, |database| {
    let store = migrated(&database).await;
    let sql = Sql::with(
        "SELECT CAST($1 AS BIGINT), CAST($2 AS TEXT), CAST(NULL AS TEXT), CAST(2.5 AS DOUBLE PRECISION), $3",
        [Arg::Int(-7), "é\t\n".into(), Arg::Blob(vec![0, 1, 255])],
    );
    let mut row = store.db.fetch_optional(sql).await.expect("reads").expect("a row");
    assert_eq!(
        row,
        Row::new(vec![
            Cell::Int(-7),
            Cell::Text("é\t\n".into()),
            Cell::Null,
            Cell::Real(2.5),
            Cell::Blob(vec![0, 1, 255]),
        ])
    );
    assert_eq!(row.take::<Option<i64>>(2).unwrap(), None);
    let count = store.db.count(Sql::new("SELECT COUNT(*) FROM providers")).await.expect("counts");
    assert_eq!(count, 0);
});

on_both_backends!(writers_take_turns_and_none_is_lost, |database| {
    let store = migrated(&database).await;
    let writers = (0..8).map(|writer| {
        let store = store.clone();
        tokio::spawn(async move {
            for step in 0..10 {
                let mut tx = store.db.begin().await.expect("begins");
                tx.execute(pending(&format!("w{writer}-{step}"))).await.expect("inserts");
                tokio::task::yield_now().await;
                tx.commit().await.expect("commits");
            }
        })
    });
    for writer in writers.collect::<Vec<_>>() {
        writer.await.expect("the writer finished");
    }
    assert_eq!(names(&store).await.len(), 80);
});

test_support::postgres_test! {
    async fn every_connection_of_the_pool_plans_once_and_never_compiles() {
        // A fill's generic plan carries the table's default guesses for a person's ranges
        // (`collection/by_runs.rs`): with JIT on, PostgreSQL compiled it at every execution.
        let database = test_support::TestDatabase::create(test_support::Backend::Postgres).await;
        let store = Store::connect(&database.url, 3).await.expect("connects");
        let settings = || async {
            let sql = Sql::new("SELECT current_setting('jit'), current_setting('plan_cache_mode')");
            let mut row = store.db.fetch_all(sql).await.expect("reads").pop().expect("a row");
            (row.take::<String>(0).expect("jit"), row.take::<String>(1).expect("plans"))
        };
        // At once, so that more than one connection answers.
        let all = futures::future::join_all((0..6).map(|_| settings())).await;
        for (jit, plans) in all {
            assert_eq!((jit.as_str(), plans.as_str()), ("off", "force_generic_plan"));
        }
    }
}
