//! What PGOs shared with a provider, for the provider's systems to take into its record: the
//! feed `GET /ingest/{provider}/{release}/shared` and its acknowledgement
//! `POST /ingest/{provider}/{release}/shared/$acknowledge`, both under the provider's ingest key.
//!
//! The feed is a `collection` Bundle of the shared resources as they were shared, oldest first,
//! each entry carrying its provenance in the extension [`SHARED_ITEM`]: `seq` (its place in the
//! feed), `share` (the items sent together), `dataService`, `client` (the PGO), `sharedAt`,
//! `requestId`, `correlationId` and, once acknowledged, `acknowledgedAt`. Parameters: `after`
//! (a `seq`; 0 by default), `_count` (1 to 1,000; 100 by default) and `pending=true` (only what
//! was not acknowledged). A full page links to the next one.
//!
//! The acknowledgement takes a `Parameters` resource with one `item` per `seq` (`valueString` or
//! `valueInteger`) and answers with the number of items it marked (`acknowledged`); an item
//! acknowledged before, or of another provider, is not counted.

use crate::body;
use crate::error::ApiError;
use crate::ingest_api::{authenticate, respond};
use crate::render;
use crate::state::ApiState;
use actix_web::{HttpRequest, HttpResponse, web};
use fhir_core::date::format_instant;
use fhir_search::query::parse_query;
use serde_json::{Value, json};
use store::SharedItem;

/// The extension carrying a feed entry's provenance.
pub const SHARED_ITEM: &str = "https://github.com/pgo-exchange/pgo-exchange/fhir/StructureDefinition/shared-item";

const DEFAULT_COUNT: u32 = 100;
const MAX_COUNT: u32 = 1_000;

/// `GET /ingest/{provider}/{release}/shared`.
pub(crate) async fn feed(request: &HttpRequest, (provider, release): (&str, &str), state: &ApiState) -> HttpResponse {
    respond(request, release, |release, format| async move {
        let provider = authenticate(state, request, provider).await?;
        let page = Page::from_query(request.query_string())?;
        let items = state.store.shared_items(provider.id, release, page.after, page.count, page.pending).await?;
        let base = format!("{}/ingest/{}/{}", state.public_url, provider.name, release);
        let mut bundle = json!({
            "resourceType": "Bundle",
            "id": uuid::Uuid::new_v4().to_string(),
            "type": "collection",
            "link": [{"relation": "self", "url": page.url(&base, page.after)}],
            "entry": items.iter().map(|item| entry(&base, item)).collect::<Result<Vec<_>, _>>()?,
        });
        if let Some(last) = items.last().filter(|_| items.len() == page.count as usize) {
            bundle["link"].as_array_mut().into_iter().for_each(|links| {
                links.push(json!({"relation": "next", "url": page.url(&base, last.seq)}));
            });
        }
        Ok(render::resource_response(&mut HttpResponse::Ok(), format, release, &bundle.to_string()))
    })
    .await
}

/// `POST /ingest/{provider}/{release}/shared/$acknowledge`.
pub(crate) async fn acknowledge(
    request: &HttpRequest,
    (provider, release): (&str, &str),
    payload: web::Payload,
    state: &ApiState,
) -> HttpResponse {
    respond(request, release, |release, format| async move {
        let provider = authenticate(state, request, provider).await?;
        let (parameters, _) = body::read_resource(request, payload, state.max_body_bytes, release).await?;
        let seqs = items_of(&parameters)?;
        let marked = state.store.acknowledge_shared(provider.id, &seqs, fhir_core::date::now_millis()).await?;
        let answer = json!({
            "resourceType": "Parameters",
            "parameter": [{"name": "acknowledged", "valueInteger": marked}],
        });
        Ok(render::resource_response(&mut HttpResponse::Ok(), format, release, &answer.to_string()))
    })
    .await
}

/// A page of the feed, as asked for.
struct Page {
    after: i64,
    count: u32,
    pending: bool,
}

impl Page {
    fn from_query(query: &str) -> Result<Page, ApiError> {
        let mut page = Page { after: 0, count: DEFAULT_COUNT, pending: false };
        for param in parse_query(query) {
            let value = param.value.as_str();
            match param.name.as_str() {
                "after" => {
                    page.after = value.parse().ok().filter(|after: &i64| *after >= 0).ok_or_else(|| {
                        ApiError::BadRequest(format!("after must be a place in the feed (0 or more), not '{value}'"))
                    })?;
                }
                "_count" => {
                    page.count =
                        value.parse().ok().filter(|count| (1..=MAX_COUNT).contains(count)).ok_or_else(|| {
                            ApiError::BadRequest(format!("_count must be 1 to {MAX_COUNT}, not '{value}'"))
                        })?;
                }
                "pending" => {
                    page.pending = match value {
                        "true" => true,
                        "false" => false,
                        _ => return Err(ApiError::BadRequest(format!("pending must be true or false, not '{value}'"))),
                    };
                }
                "_format" => {}
                other => {
                    return Err(ApiError::BadRequest(format!(
                        "the feed takes after, _count and pending, not '{other}'"
                    )));
                }
            }
        }
        Ok(page)
    }

    fn url(&self, base: &str, after: i64) -> String {
        let pending = if self.pending { "&pending=true" } else { "" };
        format!("{base}/shared?after={after}&_count={}{pending}", self.count)
    }
}

fn entry(base: &str, item: &SharedItem) -> Result<Value, ApiError> {
    let resource: Value = serde_json::from_str(&item.body).map_err(|error| {
        tracing::error!(error = %error, "a shared resource's stored body is not JSON");
        ApiError::Internal
    })?;
    let mut provenance = vec![
        json!({"url": "seq", "valueString": item.seq.to_string()}),
        json!({"url": "share", "valueString": item.share_id}),
        json!({"url": "dataService", "valueString": item.data_service}),
        json!({"url": "client", "valueString": item.client_id}),
        json!({"url": "sharedAt", "valueInstant": format_instant(item.shared_at)}),
        json!({"url": "requestId", "valueString": item.request_id}),
    ];
    if let Some(correlation_id) = &item.correlation_id {
        provenance.push(json!({"url": "correlationId", "valueString": correlation_id}));
    }
    if let Some(at) = item.acknowledged_at {
        provenance.push(json!({"url": "acknowledgedAt", "valueInstant": format_instant(at)}));
    }
    Ok(json!({
        "extension": [{"url": SHARED_ITEM, "extension": provenance}],
        "fullUrl": format!("{base}/{}/{}", item.resource_type, item.id),
        "resource": resource,
    }))
}

/// The `seq`s of a `Parameters` resource's `item`s.
fn items_of(parameters: &Value) -> Result<Vec<i64>, ApiError> {
    if parameters.get("resourceType").and_then(Value::as_str) != Some("Parameters") {
        return Err(ApiError::BadRequest("a Parameters resource with one item per seq is expected".into()));
    }
    let mut seqs = Vec::new();
    for parameter in parameters.get("parameter").and_then(Value::as_array).into_iter().flatten() {
        if parameter.get("name").and_then(Value::as_str) != Some("item") {
            return Err(ApiError::BadRequest("the only parameter taken is item".into()));
        }
        let seq = match (parameter.get("valueString"), parameter.get("valueInteger")) {
            (Some(Value::String(text)), None) => text.parse().ok(),
            (None, Some(Value::Number(number))) => number.as_i64(),
            _ => None,
        };
        seqs.push(seq.ok_or_else(|| ApiError::BadRequest("an item is a seq of the feed".into()))?);
    }
    if seqs.is_empty() {
        return Err(ApiError::BadRequest("no item to acknowledge".into()));
    }
    Ok(seqs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_read_from_its_parameters_and_links_on() {
        let page = Page::from_query("after=12&_count=2&pending=true").expect("a page");
        assert_eq!((page.after, page.count, page.pending), (12, 2, true));
        assert_eq!(
            page.url("https://x/ingest/p/stu3", 14),
            "https://x/ingest/p/stu3/shared?after=14&_count=2&pending=true"
        );
        for refused in ["after=-1", "_count=0", "_count=1001", "pending=yes", "since=2026"] {
            assert!(Page::from_query(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn items_are_seqs_as_strings_or_integers() {
        let parameters = json!({"resourceType": "Parameters", "parameter": [
            {"name": "item", "valueString": "3"}, {"name": "item", "valueInteger": 4}]});
        assert_eq!(items_of(&parameters).expect("items"), [3, 4]);
        assert!(items_of(&json!({"resourceType": "Parameters"})).is_err());
        assert!(
            items_of(&json!({"resourceType": "Parameters", "parameter": [{"name": "other", "valueString": "1"}]}))
                .is_err()
        );
        assert!(items_of(&json!({"resourceType": "Bundle"})).is_err());
    }
}
