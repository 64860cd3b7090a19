//! The share scenarios (Delen) against a stand-in DVA offering 48, 51 (documents, a transaction)
//! and 52 (measurements, a batch): a login page that asks only for the BSN, a token endpoint, the
//! CapabilityStatements, the shares and the collections, in memory. Its faults each break one
//! rule.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use fhir_core::Release;
use pgo_conformance::config::{Config, LoginForm, Persons, PgoClient, TargetSpec};
use pgo_conformance::outcome::{RunReport, Verdict};
use pgo_conformance::scenario::Quiet;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;

const ANNA: &str = "999911120";
const BRAM: &str = "999911284";
const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";
const BSN_SYSTEM: &str = "http://fhir.nl/fhir/NamingSystem/bsn";
/// The stand-in's largest shared Bundle.
const LIMIT: usize = 200_000;
/// Every share scenario.
const SCENARIOS: usize = 8;

/// What the stand-in gets wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    /// Its CapabilityStatements offer no create and no batch or transaction.
    NoSharing,
    /// A share's token comes with a refresh token.
    RefreshTokenForShare,
    /// A token for two data services may share.
    AcceptsTwoScopes,
    /// The Patient entry is answered with the Patient sent (BSN and all).
    PatientAnswered,
    /// A refused transaction's good entries are stored all the same.
    StoresRefusedTransaction,
    /// Any profile is taken.
    IgnoresProfiles,
}

/// Who is logged in for what: per code and per token, (BSN, scope).
struct Standin {
    fault: Fault,
    codes: Mutex<HashMap<String, (String, String)>>,
    tokens: Mutex<HashMap<String, (String, String)>>,
    /// (data service, BSN, resource).
    stored: Mutex<Vec<(String, String, Value)>>,
}

fn spawn(fault: Fault) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let standin =
        web::Data::new(Standin { fault, codes: Mutex::default(), tokens: Mutex::default(), stored: Mutex::default() });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(standin.clone())
            .app_data(web::PayloadConfig::new(64 << 20))
            .default_service(web::to(answer))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    address
}

fn form(bytes: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(bytes).into_owned().collect()
}

async fn answer(request: HttpRequest, body: web::Bytes, standin: web::Data<Standin>) -> HttpResponse {
    let address = format!("http://{}", request.connection_info().host());
    match (request.method().as_str(), request.path()) {
        ("GET", "/zal.xml") => HttpResponse::Ok().content_type("application/xml").body(zal(&address)),
        ("GET", "/authorize") => login_page(&form(request.query_string().as_bytes())),
        ("POST", "/login") => {
            let fields = form(&body);
            let code = uuid::Uuid::new_v4().to_string();
            standin.codes.lock().unwrap().insert(code.clone(), (fields["bsn"].clone(), fields["scope"].clone()));
            let mut back = url::Url::parse(&fields["redirect_uri"]).unwrap();
            back.query_pairs_mut().append_pair("code", &code).append_pair("state", &fields["state"]);
            HttpResponse::Found().insert_header(("Location", back.to_string())).finish()
        }
        ("POST", "/token") => {
            let code = form(&body).get("code").cloned().unwrap_or_default();
            let Some((bsn, scope)) = standin.codes.lock().unwrap().remove(&code) else {
                return HttpResponse::BadRequest().json(json!({"error": "invalid_grant"}));
            };
            let token = uuid::Uuid::new_v4().to_string();
            standin.tokens.lock().unwrap().insert(token.clone(), (bsn, scope.clone()));
            let mut answer = json!({"access_token": token, "token_type": "Bearer", "expires_in": 900, "scope": scope});
            if scope.split(' ').count() > 1 || standin.fault == Fault::RefreshTokenForShare {
                answer["refresh_token"] = json!(uuid::Uuid::new_v4().to_string());
            }
            HttpResponse::Ok().json(answer)
        }
        _ => fhir_api(&request, &body, &standin),
    }
}

fn zal(address: &str) -> String {
    let service = |id: &str| {
        format!(
            "<Gegevensdienst><GegevensdienstId>{id}</GegevensdienstId>\
             <AuthorizationEndpoint><AuthorizationEndpointuri>{address}/authorize</AuthorizationEndpointuri></AuthorizationEndpoint>\
             <TokenEndpoint><TokenEndpointuri>{address}/token</TokenEndpointuri></TokenEndpoint>\
             <Systeemrollen><Systeemrol><Systeemrolcode>ROLE-{id}</Systeemrolcode>\
             <ResourceEndpoint><ResourceEndpointuri>{address}/{id}/fhir</ResourceEndpointuri></ResourceEndpoint>\
             </Systeemrol></Systeemrollen></Gegevensdienst>"
        )
    };
    format!(
        "<Zorgaanbiederslijst xmlns=\"xmlns://afsprakenstelsel.medmij.nl/zorgaanbiederslijst/release3/\">\
         <Tijdstempel>2026-12-01T10:00:00Z</Tijdstempel><Volgnummer>1</Volgnummer><Zorgaanbieders><Zorgaanbieder>\
         <Zorgaanbiedernaam>standin@medmij</Zorgaanbiedernaam><Interfaceversies><Interfaceversie>\
         <InterfaceversieId>1</InterfaceversieId><Gegevensdiensten>{}{}{}</Gegevensdiensten></Interfaceversie>\
         </Interfaceversies></Zorgaanbieder></Zorgaanbieders></Zorgaanbiederslijst>",
        service("48"),
        service("51"),
        service("52")
    )
}

fn login_page(query: &HashMap<String, String>) -> HttpResponse {
    let escaped = |name: &str| {
        query.get(name).cloned().unwrap_or_default().replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;")
    };
    let hidden: String = ["redirect_uri", "scope", "state"]
        .iter()
        .map(|name| format!("<input type=\"hidden\" name=\"{name}\" value=\"{}\">", escaped(name)))
        .collect();
    let page = format!(
        "<html><body><form method=\"post\" action=\"/login\">{hidden}<input name=\"bsn\">\
         <button name=\"action\" value=\"login\">Log in</button></form></body></html>"
    );
    HttpResponse::Ok().content_type("text/html").body(page)
}

fn outcome(text: &str) -> Value {
    json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "processing", "diagnostics": text}]})
}

fn fhir(request: &HttpRequest, status: u16, body: &Value) -> HttpResponse {
    let accept = request.headers().get("accept").and_then(|value| value.to_str().ok()).unwrap_or_default();
    let mut response = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
    if accept.contains("xml") {
        let xml = fhir_xml::to_xml(Release::Stu3, body, fhir_xml::UnknownMembers::Refuse).unwrap();
        response.content_type("application/fhir+xml").body(xml)
    } else {
        response.content_type("application/fhir+json").body(body.to_string())
    }
}

fn capability(data_service: &str, sharing: bool) -> Value {
    let (system, types): (&str, &[&str]) = match data_service {
        "51" => ("transaction", &["DocumentManifest", "DocumentReference", "Binary"]),
        "52" => ("batch", &["Observation"]),
        _ => ("", &["Patient"]),
    };
    let mut codes = vec![json!({"code": "read"}), json!({"code": "search-type"})];
    if sharing && !system.is_empty() {
        codes.push(json!({"code": "create"}));
    }
    let resources: Vec<Value> = types.iter().map(|kind| json!({"type": kind, "interaction": codes})).collect();
    let interaction = if sharing && !system.is_empty() { json!([{"code": system}]) } else { json!([]) };
    json!({"resourceType": "CapabilityStatement", "status": "active", "fhirVersion": "3.0.2",
        "rest": [{"mode": "server", "interaction": interaction, "resource": resources}]})
}

fn fhir_api(request: &HttpRequest, body: &[u8], standin: &Standin) -> HttpResponse {
    let path = request.path().trim_start_matches('/').to_owned();
    let mut parts = path.splitn(3, '/');
    let (data_service, _fhir, rest) =
        (parts.next().unwrap_or_default(), parts.next(), parts.next().unwrap_or_default());
    if rest == "metadata" {
        return fhir(request, 200, &capability(data_service, standin.fault != Fault::NoSharing));
    }
    let bearer = request.headers().get("authorization").and_then(|value| value.to_str().ok()).unwrap_or_default();
    let Some((bsn, scope)) = standin.tokens.lock().unwrap().get(bearer.trim_start_matches("Bearer ")).cloned() else {
        return fhir(request, 401, &outcome("no valid token"));
    };
    match (request.method().as_str(), rest) {
        ("POST", "") => share(request, body, standin, data_service, &bsn, &scope),
        ("GET", kind) => {
            let kind = kind.split('?').next().unwrap_or_default();
            let entries: Vec<Value> = standin
                .stored
                .lock()
                .unwrap()
                .iter()
                .filter(|(service, owner, resource)| {
                    service == data_service && *owner == bsn && resource["resourceType"] == kind
                })
                .map(|(_, _, resource)| json!({"resource": resource, "search": {"mode": "match"}}))
                .collect();
            fhir(
                request,
                200,
                &json!({"resourceType": "Bundle", "type": "searchset", "total": entries.len(), "entry": entries}),
            )
        }
        _ => fhir(request, 404, &outcome("not found")),
    }
}

/// Replaces every string that names an entry by what the entry became.
fn rewrite(value: &mut Value, names: &HashMap<String, String>) {
    match value {
        Value::String(text) => {
            if let Some(name) = names.get(text.as_str()) {
                *text = name.clone();
            }
        }
        Value::Object(members) => members.values_mut().for_each(|member| rewrite(member, names)),
        Value::Array(items) => items.iter_mut().for_each(|item| rewrite(item, names)),
        _ => {}
    }
}

fn share(
    request: &HttpRequest,
    body: &[u8],
    standin: &Standin,
    data_service: &str,
    bsn: &str,
    scope: &str,
) -> HttpResponse {
    if scope.split(' ').count() != 1 && standin.fault != Fault::AcceptsTwoScopes {
        let mut refused = fhir(request, 403, &outcome("a share needs a token for this data service alone"));
        refused.headers_mut().insert(
            actix_web::http::header::WWW_AUTHENTICATE,
            actix_web::http::header::HeaderValue::from_static("Bearer error=\"insufficient_scope\""),
        );
        return refused;
    }
    if body.len() > LIMIT {
        return fhir(request, 413, &outcome("the Bundle is too large"));
    }
    let xml = request
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|kind| kind.contains("xml"));
    let bundle: Value = if xml {
        fhir_xml::from_xml(Release::Stu3, body, fhir_xml::ReadLimits::default()).unwrap()
    } else {
        serde_json::from_slice(body).unwrap()
    };
    let transaction = data_service == "51";
    if bundle["type"] != if transaction { "transaction" } else { "batch" } {
        return fhir(request, 400, &outcome("wrong Bundle type"));
    }
    let entries = bundle["entry"].as_array().cloned().unwrap_or_default();
    let person = if bsn == ANNA { "Patient/anna" } else { "Patient/bram" };
    let mut names = HashMap::new();
    for entry in &entries {
        let kind = entry["resource"]["resourceType"].as_str().unwrap_or_default();
        let name = if kind == "Patient" { person.to_owned() } else { format!("{kind}/{}", uuid::Uuid::new_v4()) };
        names.insert(entry["fullUrl"].as_str().unwrap_or_default().to_owned(), name);
        let bsns =
            entry["resource"]["identifier"].as_array().into_iter().flatten().filter(|id| id["system"] == BSN_SYSTEM);
        if kind == "Patient" && bsns.into_iter().any(|identifier| identifier["value"] != bsn) {
            return fhir(request, 422, &outcome("the Bundle's Patient is not the token's person"));
        }
    }
    let mut answered = Vec::new();
    let mut keep = Vec::new();
    for entry in &entries {
        let kind = entry["resource"]["resourceType"].as_str().unwrap_or_default();
        let name = &names[entry["fullUrl"].as_str().unwrap_or_default()];
        let profile = entry["resource"]["meta"]["profile"][0].as_str().unwrap_or_default();
        if kind == "Patient" {
            let mut response = json!({"response": {"status": "200 OK", "location": person}});
            if standin.fault == Fault::PatientAnswered {
                response["resource"] = entry["resource"].clone();
            }
            answered.push(response);
        } else if kind == "Binary"
            || profile.starts_with("http://nictiz.nl/fhir/StructureDefinition/")
            || standin.fault == Fault::IgnoresProfiles
        {
            let mut resource = entry["resource"].clone();
            rewrite(&mut resource, &names);
            resource["id"] = json!(name.split('/').nth(1).unwrap_or_default());
            keep.push(resource.clone());
            answered.push(json!({"resource": resource, "response": {"status": "201 Created", "location": format!("{name}/_history/1")}}));
        } else {
            answered.push(json!({"response": {"status": "422 Unprocessable Entity", "outcome": outcome("a profile this data service does not take")}}));
        }
    }
    let refused = answered.len() != keep.len() + 1;
    let mut stored = standin.stored.lock().unwrap();
    if transaction && refused {
        if standin.fault == Fault::StoresRefusedTransaction {
            stored.extend(keep.into_iter().map(|resource| (data_service.to_owned(), bsn.to_owned(), resource)));
        }
        return fhir(request, 422, &outcome("an entry of the transaction cannot be taken: nothing is stored"));
    }
    stored.extend(keep.into_iter().map(|resource| (data_service.to_owned(), bsn.to_owned(), resource)));
    let kind = if transaction { "transaction-response" } else { "batch-response" };
    fhir(request, 200, &json!({"resourceType": "Bundle", "type": kind, "entry": answered}))
}

// ---- running ----

fn config(address: &str, allow_writes: bool) -> Config {
    Config {
        target: TargetSpec::Zal { source: format!("{address}/zal.xml"), provider: "standin@medmij".into() },
        other_provider: None,
        pgo: PgoClient {
            client_id: "pgo.example.nl".into(),
            redirect_uri: REDIRECT_URI.into(),
            other_client_id: None,
            forbidden: None,
            identity: None,
            other_identity: None,
            ca: None,
        },
        persons: Persons::Login { form: LoginForm::default(), patient_a: ANNA.into(), patient_b: BRAM.into() },
        data_services: vec!["48".into()],
        auditor: None,
        allow_writes,
        share_body_limit: Some(LIMIT as u64),
        code_lifetime_seconds: 60,
        timeout_seconds: 30,
        only: vec!["share.".into()],
    }
}

async fn run(fault: Fault, allow_writes: bool) -> RunReport {
    let address = spawn(fault);
    let report = pgo_conformance::run_suite(config(&address, allow_writes), &Quiet).await.expect("the suite runs");
    assert_eq!(report.totals.scenarios, SCENARIOS, "every share scenario, whatever the target offers");
    report
}

fn with_verdict<'a>(report: &'a RunReport, label: &str) -> Vec<&'a str> {
    report
        .scenarios
        .iter()
        .filter(|scenario| scenario.verdict.label() == label)
        .map(|scenario| scenario.id.as_str())
        .collect()
}

#[tokio::test]
async fn a_target_that_takes_shares_passes_every_share_scenario_and_no_bsn_reaches_the_report() {
    let report = run(Fault::None, true).await;
    let failures: Vec<String> = report
        .scenarios
        .iter()
        .filter(|scenario| scenario.verdict != Verdict::Passed)
        .map(|scenario| format!("{}: {:?}", scenario.id, scenario.verdict))
        .collect();
    assert_eq!(failures, Vec::<String>::new());
    assert!(report.totals.checks > 5 * SCENARIOS, "checks made: {}", report.totals.checks);
    let json = pgo_conformance::report::json::to_json(&report);
    assert!(!json.contains(ANNA) && !json.contains(BRAM), "a BSN in the report (the requests carry them)");
}

#[tokio::test]
async fn each_fault_fails_exactly_the_scenarios_of_the_rule_it_breaks() {
    let cases = [
        (Fault::RefreshTokenForShare, vec!["share.batch.json", "share.batch.xml", "share.transaction.documents"]),
        (Fault::AcceptsTwoScopes, vec!["share.two-scopes"]),
        (Fault::PatientAnswered, vec!["share.batch.json", "share.batch.xml", "share.transaction.documents"]),
        (Fault::StoresRefusedTransaction, vec!["share.transaction.unknown-profile"]),
        (Fault::IgnoresProfiles, vec!["share.batch.entry-refused", "share.transaction.unknown-profile"]),
    ];
    for (fault, expected) in cases {
        let report = run(fault, true).await;
        assert_eq!(with_verdict(&report, "failed"), expected, "{fault:?}");
        assert_eq!(report.totals.passed, SCENARIOS - expected.len(), "{fault:?}");
    }
    // The BSN the stand-in echoed is masked in the report, and named as found.
    let report = run(Fault::PatientAnswered, true).await;
    let batch = report.scenarios.iter().find(|scenario| scenario.id == "share.batch.json").unwrap();
    assert!(batch.verdict.reason().unwrap().contains("no BSN in the answer"), "{:?}", batch.verdict);
    assert!(!pgo_conformance::report::json::to_json(&report).contains(ANNA));
}

#[tokio::test]
async fn without_sharing_offered_or_without_leave_to_write_no_share_scenario_runs() {
    let report = run(Fault::NoSharing, true).await;
    assert_eq!(with_verdict(&report, "not run").len(), SCENARIOS);
    let reason = report.scenarios[0].verdict.reason().unwrap();
    assert!(reason.contains("does not offer the system interaction batch, create of Observation"), "{reason}");

    let report = run(Fault::None, false).await;
    assert_eq!(with_verdict(&report, "not run").len(), SCENARIOS);
    assert!(report.scenarios.iter().all(|scenario| scenario.verdict.reason().unwrap().contains("--allow-writes")));
    // Nothing was sent but the CapabilityStatements were read.
    assert!(report.scenarios.iter().flat_map(|scenario| &scenario.exchanges).all(|exchange| exchange.method == "GET"));
}
