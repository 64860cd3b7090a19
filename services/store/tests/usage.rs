//! Metering rows and the access log written in bulk: batches larger than one statement (so split
//! over several, differently on each backend) arrive whole and in order, each test on SQLite and
//! on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use store::{AccessEntry, FirstExchange, Store};
use test_support::{TestDatabase, on_both_backends};

async fn open(database: &TestDatabase) -> Store {
    let store = Store::connect(&database.url, 4).await.expect("connects");
    store.migrate().await.expect("migrates");
    store
}

fn entry(index: i64) -> AccessEntry {
    AccessEntry {
        at: 1_000_000 + index,
        client_id: (index % 7 != 0).then(|| format!("pgo-{}.example.nl", index % 3)),
        pseudonym: (index % 7 != 0).then(|| format!("person-{}", index % 50)),
        provider: "umcx".into(),
        data_service: "48".into(),
        // Every interaction and outcome is written and read back as itself.
        interaction: store::Interaction::ALL[usize::try_from(index).unwrap() % store::Interaction::ALL.len()],
        resource_type: "Condition".into(),
        returned: (0..index % 4).map(|n| format!("Condition/c{index}-{n}")).collect(),
        status: if index % 7 == 0 {
            401
        } else if index % 11 == 0 {
            500
        } else {
            200
        },
        outcome: store::AccessOutcome::of_status(if index % 7 == 0 {
            401
        } else if index % 11 == 0 {
            500
        } else {
            200
        }),
        request_id: format!("request-{index}"),
        correlation_id: (index % 2 == 0).then(|| format!("correlation-{index}")),
        peer: Some("127.0.0.1".into()),
    }
}

on_both_backends!(a_large_access_log_batch_is_written_whole_and_in_order, |database| {
    let store = open(&database).await;
    let entries: Vec<AccessEntry> = (0..1_001).map(entry).collect();
    store.usage().append_access_log(&entries).await.unwrap();

    let mut read = Vec::new();
    let mut after = 0;
    loop {
        let page = store.usage().access_log_between(0, i64::MAX, None, after, 300).await.unwrap();
        let Some((last, _)) = page.last() else { break };
        after = *last;
        read.extend(page.into_iter().map(|(_, entry)| entry));
    }
    assert_eq!(read, entries);

    let of_one = store.usage().access_log_of("person-7", 1_000).await.unwrap();
    let expected: Vec<&AccessEntry> =
        entries.iter().rev().filter(|entry| entry.pseudonym.as_deref() == Some("person-7")).collect();
    assert_eq!(of_one.iter().collect::<Vec<_>>(), expected);
});

on_both_backends!(access_log_text_is_stored_exactly_whatever_it_holds, |database| {
    let store = open(&database).await;
    // What a request's path and headers may bring: the characters that separate COPY's columns
    // and rows, its escapes and its marks for none and for the end of the data, and text that
    // only looks like them.
    let awkward =
        ["tab\there", "new\nline", "carriage\rreturn", "back\\slash", "\\N", "\\.", "", " ", "é ✓ 😀", "a\\tb"];
    let entries: Vec<AccessEntry> = awkward
        .iter()
        .enumerate()
        .map(|(index, text)| AccessEntry {
            client_id: Some((*text).to_owned()),
            pseudonym: Some(format!("{text}-person")),
            provider: (*text).to_owned(),
            resource_type: format!("T{text}"),
            // Ids never hold a space: the returned list is stored space-separated.
            returned: vec![format!("Type/{}x", text.replace(' ', ""))],
            request_id: (*text).to_owned(),
            correlation_id: Some((*text).to_owned()),
            peer: None,
            ..entry(i64::try_from(index).unwrap())
        })
        .collect();
    store.usage().append_access_log(&entries).await.unwrap();
    let read: Vec<AccessEntry> = store
        .usage()
        .access_log_between(0, i64::MAX, None, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, entry)| entry)
        .collect();
    assert_eq!(read, entries);
    if store.backend() == store::Backend::Postgres {
        // An entry PostgreSQL refuses (text with a NUL; SQLite takes it) takes its whole batch
        // with it, and the writer goes on after it.
        let refused = AccessEntry { request_id: "nul\0byte".into(), ..entry(100) };
        assert!(store.usage().append_access_log(&[entry(99), refused]).await.is_err());
        store.usage().append_access_log(&[entry(101)]).await.unwrap();
        let after = store.usage().access_log_between(0, i64::MAX, None, 0, 100).await.unwrap();
        assert_eq!(after.len(), awkward.len() + 1, "nothing of the refused batch was kept");
        assert_eq!(after.last().map(|(_, entry)| entry.at), Some(entry(101).at));
    }
});

on_both_backends!(purging_a_backlog_larger_than_one_batch_removes_exactly_the_old_entries, |database| {
    let store = open(&database).await;
    let entries: Vec<AccessEntry> = (0..25_000).map(entry).collect();
    store.usage().append_access_log(&entries).await.unwrap();
    // Everything before the 24,000th entry goes: several batches, the last one partial.
    let purged = store.usage().purge_access_log(1_000_000 + 24_000).await.unwrap();
    assert_eq!(purged, 24_000);
    let left = store.usage().access_log_between(0, i64::MAX, None, 0, 5_000).await.unwrap();
    assert_eq!(left.len(), 1_000);
    assert_eq!(left.first().map(|(_, entry)| entry.at), Some(1_000_000 + 24_000));
    assert_eq!(store.usage().purge_access_log(1_000_000 + 24_000).await.unwrap(), 0);
});

fn first(client: usize, person: usize, first_at: i64) -> FirstExchange {
    FirstExchange {
        client_id: format!("pgo-{client}.example.nl"),
        year: 2026,
        pseudonym: format!("person-{person:04}"),
        first_at,
        request_id: format!("request-{client}-{person}-{first_at}"),
        provider: "umcx".into(),
        data_service: "48".into(),
        kind: "collect".into(),
    }
}

on_both_backends!(first_exchanges_in_bulk_keep_the_earliest_and_read_back_in_order, |database| {
    let store = open(&database).await;
    // 3 PGOs x 400 people, recorded late first, then again earlier for every other person and
    // later for the rest: within one call and across calls the earliest must win.
    let late: Vec<FirstExchange> =
        (0..3).flat_map(|client| (0..400).map(move |person| first(client, person, 5_000 + person as i64))).collect();
    store.usage().record_first_exchanges(&late).await.unwrap();
    let again: Vec<FirstExchange> = (0..3)
        .flat_map(|client| {
            (0..400).map(move |person| {
                let shift = if person % 2 == 0 { -1_000 } else { 1_000 };
                first(client, person, 5_000 + person as i64 + shift)
            })
        })
        .collect();
    store.usage().record_first_exchanges(&again).await.unwrap();

    let read = store.usage().first_exchanges(2026, 0, i64::MAX, None).await.unwrap();
    let mut expected: Vec<FirstExchange> = (0..3)
        .flat_map(|client| {
            (0..400).map(move |person| {
                let shift = if person % 2 == 0 { -1_000 } else { 0 };
                first(client, person, 5_000 + person as i64 + shift)
            })
        })
        .collect();
    expected.sort_by(|a, b| (&a.client_id, a.first_at, &a.pseudonym).cmp(&(&b.client_id, b.first_at, &b.pseudonym)));
    assert_eq!(read, expected);

    let one = store.usage().first_exchanges(2026, 4_000, 4_100, Some("pgo-1.example.nl")).await.unwrap();
    assert_eq!(one.len(), 50, "people 0, 2, ..., 98 of one PGO moved to 4,000..4,100");
    assert!(one.iter().all(|first| first.client_id == "pgo-1.example.nl"));
    assert_eq!(
        store.usage().first_exchange_counts(2026, 0, i64::MAX).await.unwrap(),
        (0..3).map(|client| (format!("pgo-{client}.example.nl"), 400)).collect::<Vec<_>>()
    );
});
