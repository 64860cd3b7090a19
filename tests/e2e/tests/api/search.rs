//! Search behaviour over HTTP: self links, lenient and strict handling, paging, errors, `$lastn`.

use e2e::{ANNA, PROVIDER, TestApp, entry_ids};
use serde_json::Value;
use test_support::on_both_backends;

fn link<'a>(bundle: &'a Value, relation: &str) -> Option<&'a str> {
    bundle["link"].as_array()?.iter().find(|link| link["relation"] == relation)?["url"].as_str()
}

/// GETs `url` under `Prefer: handling=strict`: the status and the JSON answered.
async fn strictly(app: &TestApp, url: &str, token: &str) -> (u16, Value) {
    let response =
        app.client.get(url).bearer_auth(token).header("Prefer", "handling=strict").send().await.expect("sent");
    (response.status().as_u16(), response.json().await.expect("json"))
}

on_both_backends!(the_self_link_echoes_exactly_the_applied_parameters, |database| {
    let app = TestApp::start(database).await;
    let base = app.base(PROVIDER, "48");
    let token = app.token(PROVIDER, ANNA, &["48"]);
    // As written by the client (encoded bar), in its order; `patient` and sorting by `code` are
    // not offered, so they are ignored and left out.
    let query = "code=http://loinc.org%7C85354-9&patient=Patient/someone-else&_sort=code&_count=5";
    let bundle = app.get_json(&format!("{base}/Observation?{query}"), &token).await;
    assert_eq!(
        link(&bundle, "self"),
        Some(format!("{base}/Observation?code=http://loinc.org%7C85354-9&_count=5").as_str())
    );
    // The ignored patient parameter changes nothing: still Anna's three blood pressures.
    assert_eq!(bundle["total"], 3);
    let lastn = app.get_json(&format!("{base}/Observation/$lastn?code=http://loinc.org|85354-9&max=2"), &token).await;
    assert_eq!(
        link(&lastn, "self"),
        Some(format!("{base}/Observation/$lastn?code=http://loinc.org|85354-9&max=2").as_str())
    );
    assert_eq!(entry_ids(&lastn), ["Observation/demo-bp-2025-06", "Observation/demo-bp-2026-10"]);
});

on_both_backends!(strict_handling_refuses_what_lenient_handling_ignores, |database| {
    let app = TestApp::start(database).await;
    let base = app.base(PROVIDER, "48");
    let token = app.token(PROVIDER, ANNA, &["48"]);
    let (status, outcome) = strictly(&app, &format!("{base}/Observation?patient=x"), &token).await;
    assert_eq!(status, 400);
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert_eq!(outcome["issue"][0]["code"], "not-supported");
    assert!(outcome["issue"][0]["diagnostics"].as_str().unwrap_or("").contains("patient"));
    let lenient = app.get(&format!("{base}/Observation?patient=x"), &token).await;
    assert_eq!(lenient.status(), 200);
});

on_both_backends!(next_links_lead_through_every_page, |database| {
    let app = TestApp::start(database).await;
    let base = app.base(PROVIDER, "48");
    let token = app.token(PROVIDER, ANNA, &["48"]);
    let all = app.get_json(&format!("{base}/Observation?_count=1000"), &token).await;
    let total = all["total"].as_u64().expect("total");
    assert!(total > 10, "Anna has many observations");
    let mut url = format!("{base}/Observation?_count=4");
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = app.get_json(&url, &token).await;
        assert_eq!(page["total"].as_u64(), Some(total));
        seen.extend(entry_ids(&page));
        pages += 1;
        match link(&page, "next") {
            Some(next) => url = next.to_owned(),
            None => break,
        }
        assert!(link(&page, "next").is_some_and(|next| next.contains("_offset=")));
    }
    seen.sort();
    assert_eq!(seen, entry_ids(&all));
    assert_eq!(pages as u64, total.div_ceil(4));
    let summary = app.get_json(&format!("{base}/Observation?_count=0"), &token).await;
    assert_eq!((summary["total"].as_u64(), summary.get("entry")), (Some(total), None));
});

on_both_backends!(malformed_searches_are_refused_with_an_operation_outcome, |database| {
    let app = TestApp::start(database).await;
    let base = app.base(PROVIDER, "48");
    let token = app.token(PROVIDER, ANNA, &["48"]);
    for query in [
        "Observation?date=2013-02-30",
        "Observation?date=ne2013",
        "Observation?code:text=x",
        "Observation?_count=lots",
        "Observation/$lastn?max=0",
    ] {
        let response = app.get(&format!("{base}/{query}"), &token).await;
        assert_eq!(response.status(), 400, "{query}");
        let outcome: Value = response.json().await.expect("json");
        assert_eq!(outcome["resourceType"], "OperationOutcome", "{query}");
    }
});

on_both_backends!(dates_compare_by_the_period_they_stand_for, |database| {
    let app = TestApp::start(database).await;
    let base = app.base(PROVIDER, "48");
    let token = app.token(PROVIDER, ANNA, &["48"]);
    let code = "code=http://loinc.org|85354-9";
    let all = entry_ids(&app.get_json(&format!("{base}/Observation?{code}"), &token).await);
    assert_eq!(all, ["Observation/demo-bp-2024-03", "Observation/demo-bp-2025-06", "Observation/demo-bp-2026-10"]);
    let in_2025 = entry_ids(&app.get_json(&format!("{base}/Observation?{code}&date=2025"), &token).await);
    assert_eq!(in_2025, ["Observation/demo-bp-2025-06"]);
    let from_2025 = entry_ids(&app.get_json(&format!("{base}/Observation?{code}&date=ge2025-01-01"), &token).await);
    assert_eq!(from_2025, ["Observation/demo-bp-2025-06", "Observation/demo-bp-2026-10"]);
    let before = entry_ids(&app.get_json(&format!("{base}/Observation?{code}&date=lt2025&date=gt2020"), &token).await);
    assert_eq!(before, ["Observation/demo-bp-2024-03"]);
});

on_both_backends!(reads_see_the_patients_records_and_what_they_point_at, |database| {
    let app = TestApp::start(database).await;
    let base = app.base(PROVIDER, "48");
    let token = app.token(PROVIDER, ANNA, &["48"]);
    let observation = app.get(&format!("{base}/Observation/demo-bp-2026-10"), &token).await;
    assert_eq!(observation.status(), 200);
    assert_eq!(observation.headers().get("etag").and_then(|v| v.to_str().ok()), Some("W/\"1\""));
    let body: Value = observation.json().await.expect("json");
    assert_eq!(body["id"], "demo-bp-2026-10");
    // A shared resource her records refer to (her GP practice) is readable.
    assert_eq!(app.get(&format!("{base}/Organization/demo-gp-practice"), &token).await.status(), 200);
    // Bram's observation is not: 404, as if it did not exist.
    let theirs = app.get(&format!("{base}/Observation/demo-bram-bp-2025-10"), &token).await;
    assert_eq!(theirs.status(), 404);
    let outcome: Value = theirs.json().await.expect("json");
    assert_eq!(outcome["issue"][0]["code"], "not-found");
    assert_eq!(app.get(&format!("{base}/Observation/does-not-exist"), &token).await.status(), 404);
});

on_both_backends!(types_and_interactions_outside_the_data_service_are_named, |database| {
    let app = TestApp::start(database).await;
    let base = app.base(PROVIDER, "48");
    let token = app.token(PROVIDER, ANNA, &["48"]);
    let basic = app.get(&format!("{base}/Basic"), &token).await;
    assert_eq!(basic.status(), 404);
    let outcome: Value = basic.json().await.expect("json");
    assert_eq!(outcome["issue"][0]["code"], "not-supported");
    assert!(outcome["issue"][0]["diagnostics"].as_str().unwrap_or("").contains("not part of data service 48"));
    // Immunization of data service 63 is not part of 48's R4 data and vice versa.
    assert_eq!(
        app.get(&format!("{}/Coverage", app.base(PROVIDER, "63")), &app.token(PROVIDER, ANNA, &["63"])).await.status(),
        404
    );
    // Medication is read-only at 48: searching it is refused.
    assert_eq!(app.get(&format!("{base}/Medication"), &token).await.status(), 400);
    // PGOs cannot write.
    let post =
        app.client.post(format!("{base}/Observation")).bearer_auth(&token).body("{}").send().await.expect("sent");
    assert_eq!(post.status(), 405);
});

/// When an Observation took place, as the demo data writes it (a date-time or a period's start).
fn effective(entry: &Value) -> Option<String> {
    let resource = &entry["resource"];
    resource["effectiveDateTime"].as_str().or_else(|| resource["effectivePeriod"]["start"].as_str()).map(str::to_owned)
}

/// Every page of `url`, followed by its next links: the matches in the order served.
async fn every_page(app: &TestApp, url: &str, token: &str) -> Vec<Value> {
    let mut url = url.to_owned();
    let mut entries = Vec::new();
    loop {
        let page = app.get_json(&url, token).await;
        entries.extend(
            page["entry"].as_array().into_iter().flatten().filter(|entry| entry["search"]["mode"] == "match").cloned(),
        );
        match link(&page, "next") {
            Some(next) => url = next.to_owned(),
            None => return entries,
        }
    }
}

on_both_backends!(sort_orders_every_page_by_date_or_id_and_is_echoed, |database| {
    let app = TestApp::start(database).await;
    let base = app.base(PROVIDER, "48");
    let token = app.token(PROVIDER, ANNA, &["48"]);
    // As fhirpy's sort("-date") asks: newest first, over pages, with and without _include.
    for extra in ["", "&_include=Observation:specimen"] {
        let newest_first = every_page(&app, &format!("{base}/Observation?_sort=-date&_count=3{extra}"), &token).await;
        let dates: Vec<Option<String>> = newest_first.iter().map(effective).collect();
        assert!(dates.len() > 10, "Anna has many observations: {dates:?}");
        let dated: Vec<&String> = dates.iter().flatten().collect();
        assert!(dated.windows(2).all(|pair| pair[0][..10] >= pair[1][..10]), "newest first{extra}: {dates:?}");
        assert!(dates.iter().skip_while(|date| date.is_some()).all(Option::is_none), "undated last: {dates:?}");

        let oldest_first = every_page(&app, &format!("{base}/Observation?_sort=date&_count=4{extra}"), &token).await;
        let dates: Vec<Option<String>> = oldest_first.iter().map(effective).collect();
        let dated: Vec<&String> = dates.iter().flatten().collect();
        assert!(dated.windows(2).all(|pair| pair[0][..10] <= pair[1][..10]), "oldest first{extra}: {dates:?}");
        assert_eq!(oldest_first.len(), newest_first.len(), "every match once");
    }
    let by_id = app.get_json(&format!("{base}/Observation?_sort=-_id&_count=1000"), &token).await;
    let ids: Vec<String> = by_id["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["resource"]["id"].as_str().map(str::to_owned))
        .collect();
    assert!(ids.len() > 10, "{ids:?}");
    let mut descending = ids.clone();
    descending.sort_by(|a, b| b.cmp(a));
    assert_eq!(ids, descending);
    let query = "code=http://loinc.org%7C85354-9&_sort=-date&_count=2";
    let bundle = app.get_json(&format!("{base}/Observation?{query}"), &token).await;
    assert_eq!(link(&bundle, "self"), Some(format!("{base}/Observation?{query}").as_str()));
    assert!(link(&bundle, "next").is_some_and(|next| next.contains("_sort=-date")), "{bundle}");

    // Strict handling refuses what cannot be sorted by, and names what can.
    let (status, outcome) = strictly(&app, &format!("{base}/Observation?_sort=code"), &token).await;
    assert_eq!(status, 400);
    assert_eq!(outcome["issue"][0]["code"], "not-supported");
    assert_eq!(
        outcome["issue"][0]["diagnostics"],
        "cannot sort by code; this resource type sorts by _id, _lastUpdated, date"
    );
});
