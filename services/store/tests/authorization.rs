//! The authorization server's storage (consents, codes, refresh tokens, sessions, lists), each
//! test on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use store::{CodeExchange, CodeRedemption, HeldList, NewCode, NewConsent, NewProvider, Provider, Rotation, Store};
use test_support::{TestDatabase, on_both_backends};

const HOUR: i64 = 3_600_000;

async fn open(database: &TestDatabase) -> Store {
    let store = Store::connect(&database.url, 4).await.expect("connects");
    store.migrate().await.expect("migrates");
    store
}

async fn provider(store: &Store) -> Provider {
    let new = NewProvider { name: "umcx".into(), display_name: "UMC X".into(), data_services: vec!["48".into()] };
    store.create_provider(&new, None).await.expect("provider")
}

async fn consent_with_code(store: &Store, provider: &Provider, code_hash: &str, now: i64) -> i64 {
    consent_for(store, provider, "a", "umcx~48", code_hash, now).await
}

/// A consent of `person` for `scope`, given with code `code_hash`.
async fn consent_for(store: &Store, provider: &Provider, person: &str, scope: &str, code_hash: &str, now: i64) -> i64 {
    let consent = NewConsent {
        provider: provider.id,
        client_id: "pgo.example.nl".into(),
        person_key: format!("key-{person}"),
        pseudonym: format!("pseudonym-{person}"),
        scope: scope.into(),
        expires_at: now + 1000 * HOUR,
        sharing: false,
    };
    let code = NewCode {
        code_hash: code_hash.into(),
        redirect_uri: "https://pgo.example.nl/cb".into(),
        code_challenge: Some("challenge".into()),
        expires_at: now + 60_000,
    };
    store.grants().grant_consent(&consent, &code, now).await.expect("granted")
}

on_both_backends!(a_code_is_redeemed_once_and_a_replay_revokes_its_consent, |database| {
    let store = open(&database).await;
    let provider = provider(&store).await;
    let now = 1_000 * HOUR;
    let id = consent_with_code(&store, &provider, "code-1", now).await;

    let CodeRedemption::Redeemed(code) = store.grants().redeem_code("code-1", now + 1).await.unwrap() else {
        panic!("first use redeems")
    };
    assert_eq!(code.consent.id, id);
    assert_eq!(code.consent.provider_name, "umcx");
    assert_eq!(code.client_id, "pgo.example.nl");
    assert_eq!(code.redirect_uri, "https://pgo.example.nl/cb");
    assert_eq!(code.code_challenge.as_deref(), Some("challenge"));
    store.grants().add_refresh_token(id, "refresh-1", now + 1, now + 100 * HOUR).await.unwrap();
    assert!(store.grants().consent(id).await.unwrap().unwrap().is_active(now + 2));

    assert!(matches!(store.grants().redeem_code("code-1", now + 2).await.unwrap(), CodeRedemption::Replayed { .. }));
    assert!(!store.grants().consent(id).await.unwrap().unwrap().is_active(now + 3), "replay revokes the consent");
    assert!(matches!(
        store.grants().rotate_refresh_token("refresh-1", "refresh-2", now + 3, now + 200 * HOUR).await.unwrap(),
        Rotation::Inactive
    ));
    assert!(matches!(store.grants().redeem_code("no-such-code", now).await.unwrap(), CodeRedemption::Unknown));
});

on_both_backends!(refresh_tokens_rotate_and_a_reuse_revokes_the_family, |database| {
    let store = open(&database).await;
    let provider = provider(&store).await;
    let now = 1_000 * HOUR;
    let id = consent_with_code(&store, &provider, "code-1", now).await;
    store.grants().add_refresh_token(id, "r1", now, now + 10 * HOUR).await.unwrap();

    let Rotation::Rotated(consent) =
        store.grants().rotate_refresh_token("r1", "r2", now + HOUR, now + 11 * HOUR).await.unwrap()
    else {
        panic!("rotates")
    };
    assert_eq!(consent.expires_at, now + 11 * HOUR, "the consent lapses with its newest token");
    assert_eq!(consent.last_used_at, now + HOUR);
    let Rotation::Rotated(_) =
        store.grants().rotate_refresh_token("r2", "r3", now + 2 * HOUR, now + 12 * HOUR).await.unwrap()
    else {
        panic!("the successor rotates")
    };

    assert!(matches!(
        store.grants().rotate_refresh_token("r1", "r4", now + 3 * HOUR, now + 13 * HOUR).await.unwrap(),
        Rotation::Reused { .. }
    ));
    assert!(
        matches!(
            store.grants().rotate_refresh_token("r3", "r5", now + 3 * HOUR, now + 13 * HOUR).await.unwrap(),
            Rotation::Inactive
        ),
        "after a reuse the newest token of the family is dead too"
    );
    assert!(matches!(store.grants().rotate_refresh_token("nope", "r6", now, now).await.unwrap(), Rotation::Unknown));
});

on_both_backends!(an_expired_refresh_token_or_lapsed_consent_does_not_rotate, |database| {
    let store = open(&database).await;
    let provider = provider(&store).await;
    let now = 1_000 * HOUR;
    let id = consent_with_code(&store, &provider, "code-1", now).await;
    store.grants().add_refresh_token(id, "r1", now, now + HOUR).await.unwrap();
    assert!(matches!(
        store.grants().rotate_refresh_token("r1", "r2", now + 2 * HOUR, now + 3 * HOUR).await.unwrap(),
        Rotation::Inactive
    ));
});

on_both_backends!(the_person_sees_and_revokes_only_their_own_active_consents, |database| {
    let store = open(&database).await;
    let provider = provider(&store).await;
    let now = 1_000 * HOUR;
    let redeemed = consent_with_code(&store, &provider, "code-1", now).await;
    store.grants().add_refresh_token(redeemed, "r1", now, now + 10 * HOUR).await.unwrap();
    let _never_redeemed = consent_with_code(&store, &provider, "code-2", now).await;

    let consents = store.grants().active_consents("pseudonym-a", now + 1).await.unwrap();
    assert_eq!(consents.iter().map(|c| c.id).collect::<Vec<_>>(), vec![redeemed]);
    assert_eq!(consents[0].provider_display_name, "UMC X");
    assert!(store.grants().active_consents("pseudonym-b", now + 1).await.unwrap().is_empty());

    assert_eq!(
        store.grants().revoke_consent_of(redeemed, "pseudonym-b", now + 2).await.unwrap(),
        None,
        "not someone else's"
    );
    let handle =
        store.grants().revoke_consent_of(redeemed, "pseudonym-a", now + 2).await.unwrap().expect("revoked now");
    assert_eq!(handle, consents[0].handle);
    assert_eq!(store.grants().revoke_consent_of(redeemed, "pseudonym-a", now + 3).await.unwrap(), None, "once");
    assert!(store.grants().active_consents("pseudonym-a", now + 4).await.unwrap().is_empty());
    assert!(matches!(
        store.grants().rotate_refresh_token("r1", "r2", now + 5, now + 10 * HOUR).await.unwrap(),
        Rotation::Inactive
    ));
});

on_both_backends!(sessions_live_until_they_expire_or_end, |database| {
    let store = open(&database).await;
    store.grants().create_session("s1", "authorize", "{\"a\":1}", 2_000).await.unwrap();
    assert_eq!(store.grants().session("s1", "authorize", 1_000).await.unwrap().as_deref(), Some("{\"a\":1}"));
    assert_eq!(store.grants().session("s1", "manage", 1_000).await.unwrap(), None, "kinds are apart");
    store.grants().update_session("s1", "{\"a\":2}").await.unwrap();
    assert_eq!(store.grants().session("s1", "authorize", 1_000).await.unwrap().as_deref(), Some("{\"a\":2}"));
    assert_eq!(store.grants().session("s1", "authorize", 2_000).await.unwrap(), None, "expired");
    assert!(store.grants().delete_session("s1").await.unwrap());
    assert!(!store.grants().delete_session("s1").await.unwrap());
    store.grants().create_session("s2", "authorize", "{}", 2_000).await.unwrap();
    assert_eq!(store.grants().purge_expired(3_000).await.unwrap(), 1);
});

on_both_backends!(a_list_is_replaced_only_by_a_higher_volgnummer, |database| {
    let store = open(&database).await;
    let list = |volgnummer: i64| HeldList {
        kind: "oauth-clients".into(),
        volgnummer,
        tijdstempel: "2026-11-01T10:00:00Z".into(),
        content: format!("<list n='{volgnummer}'/>"),
        imported_at: 1,
    };
    assert!(store.lists().replace_list(&list(5)).await.unwrap());
    assert!(!store.lists().replace_list(&list(5)).await.unwrap(), "the same number is refused");
    assert!(!store.lists().replace_list(&list(4)).await.unwrap(), "an older one is refused");
    assert_eq!(store.lists().held_list("oauth-clients").await.unwrap().unwrap().volgnummer, 5);
    assert!(store.lists().replace_list(&list(6)).await.unwrap());
    assert_eq!(store.lists().held_list("oauth-clients").await.unwrap().unwrap().content, "<list n='6'/>");
    assert_eq!(store.lists().held_list("whitelist").await.unwrap(), None);
});

on_both_backends!(concurrent_uses_of_one_code_or_refresh_token_let_exactly_one_win, |database| {
    let store = open(&database).await;
    let provider = provider(&store).await;
    let now = 1_000 * HOUR;
    let id = consent_with_code(&store, &provider, "raced-code", now).await;

    // Sixteen PGO servers present the same code at once: one redeems it, the others are replays.
    let redemptions =
        futures::future::join_all((0..16).map(|_| store.grants().redeem_code("raced-code", now + 1))).await;
    let redeemed = redemptions.iter().filter(|outcome| matches!(outcome, Ok(CodeRedemption::Redeemed(_)))).count();
    let replayed = redemptions.iter().filter(|outcome| matches!(outcome, Ok(CodeRedemption::Replayed { .. }))).count();
    assert_eq!((redeemed, replayed), (1, 15));

    let id2 = consent_with_code(&store, &provider, "second-code", now).await;
    assert_ne!(id, id2);
    store.grants().add_refresh_token(id2, "raced-refresh", now, now + 10 * HOUR).await.unwrap();
    let successors: Vec<String> = (0..16).map(|index| format!("successor-{index}")).collect();
    let rotations =
        futures::future::join_all(successors.iter().map(|successor| {
            store.grants().rotate_refresh_token("raced-refresh", successor, now + 2, now + 11 * HOUR)
        }))
        .await;
    let rotated = rotations.iter().filter(|outcome| matches!(outcome, Ok(Rotation::Rotated(_)))).count();
    let reused = rotations.iter().filter(|outcome| matches!(outcome, Ok(Rotation::Reused { .. }))).count();
    assert_eq!((rotated, reused), (1, 15), "one rotation wins; the others are reuses that end the family");
    assert!(!store.grants().consent(id2).await.unwrap().unwrap().is_active(now + 3));
});

on_both_backends!(a_code_exchange_stores_the_refresh_token_only_when_its_checks_hold, |database| {
    let store = open(&database).await;
    let provider = provider(&store).await;
    let now = 1_000 * HOUR;
    let exchange = |code_hash: &'static str, refresh_hash: &'static str| CodeExchange {
        code_hash,
        now: now + 1,
        client_id: "pgo.example.nl",
        redirect_uri: "https://pgo.example.nl/cb",
        verifier_challenge: Some("challenge"),
        refresh_hash,
        refresh_expires_at: now + 100 * HOUR,
    };
    let stored = |redemption: CodeRedemption| match redemption {
        CodeRedemption::Redeemed(code) => code.refresh_token_stored,
        other => panic!("redeemed, not {other:?}"),
    };

    let id = consent_with_code(&store, &provider, "good", now).await;
    assert!(stored(store.grants().exchange_code(&exchange("good", "refresh-good")).await.unwrap()));
    assert!(matches!(
        store.grants().rotate_refresh_token("refresh-good", "next", now + 2, now + 101 * HOUR).await.unwrap(),
        Rotation::Rotated(consent) if consent.id == id
    ));

    // Each claim that does not hold: the code is spent, no refresh token is stored.
    type Change = fn(CodeExchange<'static>) -> CodeExchange<'static>;
    let wrong: [(&str, Change); 4] = [
        ("other-client", |exchange| CodeExchange { client_id: "other.example.nl", ..exchange }),
        ("other-redirect", |exchange| CodeExchange { redirect_uri: "https://pgo.example.nl/other", ..exchange }),
        ("other-verifier", |exchange| CodeExchange { verifier_challenge: Some("another"), ..exchange }),
        ("no-verifier", |exchange| CodeExchange { verifier_challenge: None, ..exchange }),
    ];
    for (code, change) in wrong {
        let code: &'static str = code;
        consent_with_code(&store, &provider, code, now).await;
        let refresh: &'static str = Box::leak(format!("refresh-{code}").into_boxed_str());
        assert!(!stored(store.grants().exchange_code(&change(exchange(code, refresh))).await.unwrap()), "{code}");
        assert!(matches!(
            store.grants().rotate_refresh_token(refresh, "x", now + 2, now + HOUR).await.unwrap(),
            Rotation::Unknown
        ));
        assert!(matches!(
            store.grants().exchange_code(&exchange(code, "again")).await.unwrap(),
            CodeRedemption::Replayed { .. }
        ));
    }
    // Expired: spent, nothing stored.
    consent_with_code(&store, &provider, "late", now).await;
    let late = CodeExchange { now: now + 61_000, ..exchange("late", "refresh-late") };
    assert!(!stored(store.grants().exchange_code(&late).await.unwrap()));
    assert!(matches!(
        store.grants().exchange_code(&exchange("no-such-code", "r")).await.unwrap(),
        CodeRedemption::Unknown
    ));
});

test_support::postgres_test! {
/// After a bulk load's statistics are taken (before anyone logged in), each new code's
/// foreign-key check still finds its consent by key: planned from statistics of an empty table,
/// it scanned every consent, and granting slowed down with each consent held.
async fn consents_granted_after_a_bulk_load_are_found_by_key_not_scanned_postgres() {
    use sqlx::Connection;
    let database = TestDatabase::create(test_support::Backend::Postgres).await;
    let store = open(&database).await;
    let provider = provider(&store).await;
    store.analyze(store::Filled::Resources).await.expect("statistics taken");
    let now = 1_000 * HOUR;
    for index in 0..300 {
        consent_for(&store, &provider, &format!("p{index}"), "umcx~48", &format!("code-{index}"), now).await;
    }
    // A backend reports its counters when its connection ends.
    store.close().await;
    let mut admin = sqlx::PgConnection::connect(&database.url).await.expect("admin connects");
    let mut scans = (0_i64, 0_i64);
    for _ in 0..50 {
        scans = sqlx::query_as("SELECT seq_scan, idx_scan FROM pg_stat_user_tables WHERE relname = 'consents'")
            .fetch_one(&mut admin)
            .await
            .expect("table statistics");
        if scans.0 + scans.1 >= 300 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // The migrations' index builds count as scans too; one per new code is the fault.
    assert!(scans.0 < 10, "the consents table scanned whole {} times (index lookups: {})", scans.0, scans.1);
    assert!(scans.1 >= 300, "every code's consent found by its key: {scans:?}");
}
}

on_both_backends!(every_revocation_is_found_by_its_time_and_handle, |database| {
    let store = open(&database).await;
    let provider = provider(&store).await;
    let now = 1_000 * HOUR;
    let replayed = consent_for(&store, &provider, "a", "umcx~48", "code-1", now).await;
    let reused = consent_for(&store, &provider, "b", "umcx~48", "code-2", now).await;
    let by_client = consent_for(&store, &provider, "c", "umcx~48", "code-3", now).await;
    let untouched = consent_for(&store, &provider, "d", "umcx~48", "code-4", now).await;
    let handles: Vec<String> = {
        let mut handles = Vec::new();
        for id in [replayed, reused, by_client, untouched] {
            handles.push(store.grants().consent(id).await.unwrap().expect("consent").handle);
        }
        handles
    };
    assert!(handles.iter().all(|handle| handle.len() == 32), "{handles:?}");
    assert_eq!(handles.iter().collect::<std::collections::BTreeSet<_>>().len(), 4, "handles differ");
    // A replayed code, a reused refresh token and a PGO's revocation each name the consent.
    assert!(matches!(store.grants().redeem_code("code-1", now + 1).await.unwrap(), CodeRedemption::Redeemed(_)));
    let CodeRedemption::Replayed { consent } = store.grants().redeem_code("code-1", now + 2).await.unwrap() else {
        panic!("a replay")
    };
    assert_eq!(consent, handles[0]);
    store.grants().add_refresh_token(reused, "r1", now, now + 10 * HOUR).await.unwrap();
    assert!(matches!(
        store.grants().rotate_refresh_token("r1", "r2", now + 3, now + 10 * HOUR).await.unwrap(),
        Rotation::Rotated(_)
    ));
    let Rotation::Reused { consent } =
        store.grants().rotate_refresh_token("r1", "r3", now + 4, now + 10 * HOUR).await.unwrap()
    else {
        panic!("a reuse")
    };
    assert_eq!(consent, handles[1]);
    store.grants().add_refresh_token(by_client, "r9", now, now + 10 * HOUR).await.unwrap();
    let found = store.grants().consent_of_refresh_token("r9").await.unwrap().expect("its consent");
    assert_eq!(found.id, by_client);
    assert!(store.grants().revoke_consent(by_client, store::RevokedWhy::Client, now + 5).await.unwrap());
    assert!(!store.grants().revoke_consent(by_client, store::RevokedWhy::Client, now + 6).await.unwrap(), "once");
    assert_eq!(store.grants().consent_by_handle(&handles[2]).await.unwrap().map(|consent| consent.id), Some(by_client));
    let revoked = store.grants().consents_revoked_since(now).await.unwrap();
    assert_eq!(
        revoked,
        vec![(handles[0].clone(), now + 2), (handles[1].clone(), now + 4), (handles[2].clone(), now + 5)]
    );
    assert_eq!(store.grants().consents_revoked_since(now + 5).await.unwrap().len(), 1);
});

on_both_backends!(a_pgo_asking_again_renews_the_one_consent_it_holds, |database| {
    let store = open(&database).await;
    let provider = provider(&store).await;
    let now = 1_000 * HOUR;
    let first = consent_for(&store, &provider, "a", "umcx~48", "code-1", now).await;
    store.grants().add_refresh_token(first, "r1", now, now + 10 * HOUR).await.unwrap();
    let handle = store.grants().consent(first).await.unwrap().expect("consent").handle;
    // The same PGO asks again, for another data service: the consent is renewed, not doubled.
    let again = consent_for(&store, &provider, "a", "umcx~63", "code-2", now + HOUR).await;
    assert_eq!(again, first);
    let renewed = store.grants().consent(first).await.unwrap().expect("consent");
    assert_eq!(renewed.scope, "umcx~48 umcx~63");
    assert_eq!((renewed.granted_at, renewed.last_used_at), (now, now + HOUR));
    assert_eq!(renewed.expires_at, now + HOUR + 1000 * HOUR, "its lapse moved on");
    assert_eq!(renewed.handle, handle, "access tokens already given keep working");
    assert_eq!(store.grants().active_consents("pseudonym-a", now + HOUR).await.unwrap().len(), 1);
    assert!(matches!(
        store.grants().rotate_refresh_token("r1", "r2", now + HOUR, now + 10 * HOUR).await.unwrap(),
        Rotation::Rotated(_)
    ));
    assert!(matches!(store.grants().redeem_code("code-2", now + HOUR).await.unwrap(), CodeRedemption::Redeemed(_)));
    // Asking for what it holds already changes nothing but the dates.
    consent_for(&store, &provider, "a", "umcx~63", "code-3", now + 2 * HOUR).await;
    assert_eq!(store.grants().consent(first).await.unwrap().expect("consent").scope, "umcx~48 umcx~63");
    // Once revoked, the next authorization is a new consent.
    assert!(store.grants().revoke_consent(first, store::RevokedWhy::Person, now + 3 * HOUR).await.unwrap());
    let fresh = consent_for(&store, &provider, "a", "umcx~48", "code-4", now + 4 * HOUR).await;
    assert_ne!(fresh, first);
    assert_eq!(store.grants().consent(fresh).await.unwrap().expect("consent").scope, "umcx~48");
    // Another person, or another PGO, has a consent of their own.
    assert_ne!(consent_for(&store, &provider, "b", "umcx~48", "code-5", now + 4 * HOUR).await, fresh);
});
