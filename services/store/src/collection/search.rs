//! Answering a PGO's query from a collection: the same matches, order, page, total, `_include`s
//! and `$lastn` candidates that `search.rs` has the database find. `None` wherever memory would
//! not answer as the database does; the query then runs there.

use super::Collection;
use super::fill::Owner;
use super::matching::meets;
use crate::db::LastnRow;
use crate::read::StoredResource;
use crate::search::grouped_by_param;
use crate::{Store, StoreError};
use fhir_search::kinds::{date, reference, token};
use fhir_search::{Criterion, Rows, Scalar, SearchRequest, SortBy, SortKey};
use std::cmp::Ordering;

impl Store {
    /// The records of the request's type that meet every criterion, in the order stored.
    pub(crate) async fn collected_matches<'c>(
        &self,
        collection: &'c Collection,
        owner: Owner<'_>,
        request: &SearchRequest,
    ) -> Result<Option<Vec<&'c StoredResource>>, StoreError> {
        let mut matches: Vec<&StoredResource> =
            collection.records.iter().filter(|record| record.resource_type == request.resource_type).collect();
        for group in grouped_by_param(&request.criteria) {
            let kept = match group[0].rows() {
                Rows::Resource => keep_meeting_on_resource(&matches, &group),
                Rows::Index(table) => {
                    let Some(rows) = self.collected_rows(collection, owner, table).await? else { return Ok(None) };
                    keep_meeting(&matches, &group, |rid| rows.of(rid))
                }
            };
            let Some(kept) = kept else { return Ok(None) };
            matches = kept;
        }
        Ok(Some(matches))
    }

    /// The matches in the request's `_sort` order (ties in the order stored).
    pub(crate) async fn collected_sorted<'c>(
        &self,
        collection: &'c Collection,
        owner: Owner<'_>,
        sort: &[SortKey],
        mut matches: Vec<&'c StoredResource>,
    ) -> Result<Option<Vec<&'c StoredResource>>, StoreError> {
        if sort.is_empty() {
            return Ok(Some(matches));
        }
        let mut keys: Vec<Vec<SortValue>> = vec![Vec::new(); matches.len()];
        for key in sort {
            let dates = match &key.by {
                // Ids order by the database's collation, which memory does not know.
                SortBy::Id => return Ok(None),
                SortBy::LastUpdated => None,
                SortBy::Date(param) => match self.collected_rows(collection, owner, &date::TABLE).await? {
                    Some(rows) => Some((param, rows)),
                    None => return Ok(None),
                },
            };
            for (record, values) in matches.iter().zip(keys.iter_mut()) {
                let value = match dates {
                    None => Some(record.last_updated),
                    Some((param, rows)) => {
                        let bounds =
                            rows.of(record.rid).iter().filter(|row| row.param.as_deref() == Some(param.as_str()));
                        // Ascending by the earliest moment covered, descending by the latest.
                        let column = usize::from(key.descending);
                        let cells = bounds.filter_map(|row| match row.cells.get(column) {
                            Some(Scalar::Int(moment)) => Some(*moment),
                            _ => None,
                        });
                        if key.descending { cells.max() } else { cells.min() }
                    }
                };
                values.push(SortValue { value, descending: key.descending });
            }
        }
        let mut order: Vec<usize> = (0..matches.len()).collect();
        order.sort_by(|a, b| compare_keys(&keys[*a], &keys[*b]).then(matches[*a].rid.cmp(&matches[*b].rid)));
        let sorted = order.into_iter().map(|position| matches[position]).collect();
        matches.clear();
        Ok(Some(sorted))
    }

    /// The resources the page's records `_include`, as the visibility rule lets them be served,
    /// in the order stored (those on the page too and repeats are left to the caller).
    pub(crate) async fn collected_includes(
        &self,
        collection: &Collection,
        owner: Owner<'_>,
        request: &SearchRequest,
        page: &[StoredResource],
    ) -> Result<Option<Vec<StoredResource>>, StoreError> {
        if request.includes.is_empty() || page.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let Some(references) = self.collected_rows(collection, owner, &reference::TABLE).await? else {
            return Ok(None);
        };
        let mut included = Vec::new();
        for record in page {
            for row in references.of(record.rid) {
                let (Some(Scalar::Text(target_type)), Some(Scalar::Text(target_id))) =
                    (row.cells.first(), row.cells.get(1))
                else {
                    continue;
                };
                let named = request.includes.iter().any(|include| {
                    row.param.as_deref() == Some(include.param.as_str())
                        && include.target_type.as_ref().is_none_or(|wanted| wanted == target_type)
                });
                if let (true, Some(target)) = (named, collection.include_target(target_type, target_id)) {
                    included.push(target.clone());
                }
            }
        }
        included.sort_by_key(|resource| resource.rid);
        Ok(Some(included))
    }

    /// `$lastn` candidates of the matches: one row per `code` token, with the earliest start of
    /// the `date` values, as the database's join gives them.
    pub(crate) async fn collected_lastn_candidates(
        &self,
        collection: &Collection,
        owner: Owner<'_>,
        matches: &[&StoredResource],
    ) -> Result<Option<Vec<LastnRow>>, StoreError> {
        let Some(tokens) = self.collected_rows(collection, owner, &token::TABLE).await? else { return Ok(None) };
        let Some(dates) = self.collected_rows(collection, owner, &date::TABLE).await? else { return Ok(None) };
        let mut candidates = Vec::new();
        for record in matches {
            let effective = dates
                .of(record.rid)
                .iter()
                .filter(|row| row.param.as_deref() == Some("date"))
                .filter_map(|row| match row.cells.first() {
                    Some(Scalar::Int(low)) => Some(*low),
                    _ => None,
                })
                .min();
            for row in tokens.of(record.rid).iter().filter(|row| row.param.as_deref() == Some("code")) {
                let system = match row.cells.first() {
                    Some(Scalar::Text(system)) => Some(system.clone()),
                    _ => None,
                };
                let Some(Scalar::Text(code)) = row.cells.get(1) else { continue };
                candidates.push(((*record).clone(), system, code.clone(), effective));
            }
        }
        Ok(Some(candidates))
    }
}

/// One `_sort` key's value of a match: `None` sorts last whatever the direction.
#[derive(Debug, Clone, Copy)]
struct SortValue {
    value: Option<i64>,
    descending: bool,
}

fn compare_keys(a: &[SortValue], b: &[SortValue]) -> Ordering {
    for (a, b) in a.iter().zip(b) {
        let order = match (a.value, b.value) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) if a.descending => y.cmp(&x),
            (Some(x), Some(y)) => x.cmp(&y),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    Ordering::Equal
}

/// The records for which each occurrence in `group` (one parameter, its occurrences AND-ed) is
/// met by one of its index rows.
fn keep_meeting<'c, 'r>(
    records: &[&'c StoredResource],
    group: &[&Criterion],
    rows_of: impl Fn(i64) -> &'r [super::IndexRow],
) -> Option<Vec<&'c StoredResource>> {
    let Rows::Index(table) = group[0].rows() else { return None };
    let conditions: Vec<_> = group.iter().map(|criterion| criterion.condition()).collect();
    let param = group[0].param.as_str();
    let mut kept = Vec::new();
    for record in records {
        let rows: Vec<&super::IndexRow> =
            rows_of(record.rid).iter().filter(|row| row.param.as_deref() == Some(param)).collect();
        let mut every = true;
        for condition in &conditions {
            let mut some = false;
            for row in &rows {
                let cell = |column: &str| {
                    table.columns.iter().position(|name| *name == column).and_then(|at| row.cells.get(at))
                };
                some |= meets(condition, &cell)?;
            }
            every &= some;
        }
        if every {
            kept.push(*record);
        }
    }
    Some(kept)
}

/// The records whose own row meets every occurrence in `group` (the built-in parameters).
fn keep_meeting_on_resource<'c>(
    records: &[&'c StoredResource],
    group: &[&Criterion],
) -> Option<Vec<&'c StoredResource>> {
    let conditions: Vec<_> = group.iter().map(|criterion| criterion.condition()).collect();
    let mut kept = Vec::new();
    for record in records {
        let columns = [("id", Scalar::Text(record.id.clone())), ("last_updated", Scalar::Int(record.last_updated))];
        let cell = |column: &str| columns.iter().find(|(name, _)| *name == column).map(|(_, value)| value);
        let mut every = true;
        for condition in &conditions {
            every &= meets(condition, &cell)?;
        }
        if every {
            kept.push(*record);
        }
    }
    Some(kept)
}
