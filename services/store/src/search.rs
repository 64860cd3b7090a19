//! Searching for a PGO: the matches of a parsed search request within the patient's compartment,
//! restricted to what the data service serves, one page of them, the resources they `_include`,
//! and `$lastn`.

use crate::collection::{Collection, Owner};
use crate::criterion::{push_criterion, push_repeated};
use crate::db::{Extra, LastnRow};
use crate::read::{SERVED_COLUMNS, StoredResource};
use crate::sql::Sql;
use crate::visibility::{PatientScope, Visibility, push_compartment_or_shared, push_patients, push_profile_filter};
use crate::{ProviderId, Store, StoreError};
use fhir_core::Release;
use fhir_search::kinds::{date, token};
use fhir_search::{Criterion, SearchRequest, SortBy, SortKey, Value};
use std::collections::{BTreeMap, HashSet};

/// One page of a search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPage {
    /// How many resources match in all.
    pub total: usize,
    /// The matches on this page, in order.
    pub matches: Vec<StoredResource>,
    /// The resources included by `_include` (none of them also a match on this page).
    pub included: Vec<StoredResource>,
}

impl Store {
    /// Runs `request` for the patient in `scope`.
    #[tracing::instrument(skip_all, fields(provider = provider.get(), resource_type = %request.resource_type))]
    pub async fn search(
        &self,
        provider: ProviderId,
        release: Release,
        scope: &PatientScope,
        visibility: &Visibility,
        request: &SearchRequest,
    ) -> Result<SearchPage, StoreError> {
        let owner = Owner { provider, release, scope, visibility };
        if let Some(collection) = self.collection(owner).await?
            && let Some(page) = self.collected_page(&collection, owner, request).await?
        {
            return Ok(page);
        }
        match request.lastn {
            Some(lastn) => {
                let (total, matches) =
                    self.lastn_page(provider, release, scope, visibility, request, lastn.max).await?;
                let included = self.included(provider, release, scope, visibility, request, &matches).await?;
                Ok(SearchPage { total, matches, included })
            }
            None => self.page(provider, release, scope, visibility, request).await,
        }
    }

    /// The page answered from the person's kept collection (`collection/`), as the database
    /// would answer it; `None` where it must run in the database.
    async fn collected_page(
        &self,
        collection: &Collection,
        owner: Owner<'_>,
        request: &SearchRequest,
    ) -> Result<Option<SearchPage>, StoreError> {
        let Some(matches) = self.collected_matches(collection, owner, request).await? else { return Ok(None) };
        let (total, matches) = match request.lastn {
            Some(lastn) => match self.collected_lastn_candidates(collection, owner, &matches).await? {
                Some(candidates) => lastn_selection(candidates, request, lastn.max),
                None => return Ok(None),
            },
            None => match self.collected_sorted(collection, owner, &request.sort, matches).await? {
                Some(sorted) => {
                    let total = sorted.len();
                    (total, sorted.into_iter().skip(request.offset).take(request.count).cloned().collect())
                }
                None => return Ok(None),
            },
        };
        let Some(included) = self.collected_includes(collection, owner, request, &matches).await? else {
            return Ok(None);
        };
        let included = only_once(&matches, included);
        Ok(Some(SearchPage { total, matches, included }))
    }

    /// One page of matches, its total and the resources it `_include`s, in one statement: each
    /// statement has a fixed cost (on PostgreSQL a round trip and the executor's start), which
    /// was most of a small search's.
    async fn page(
        &self,
        provider: ProviderId,
        release: Release,
        scope: &PatientScope,
        visibility: &Visibility,
        request: &SearchRequest,
    ) -> Result<SearchPage, StoreError> {
        // LIMIT and OFFSET are written as literals (numbers the service computed): a bound LIMIT
        // makes SQLite re-plan the statement on every execution, as the plan may depend on it.
        let limit = format!(" LIMIT {} OFFSET {}", request.count, request.offset);
        let mut sql = Sql::default();
        if request.includes.is_empty() {
            sql.push(&format!("SELECT {SERVED_COLUMNS}, COUNT(*) OVER () AS total, 0 AS part FROM resources r WHERE "));
            push_matching(&mut sql, provider, release, scope, visibility, request);
            sql.push(" ORDER BY ");
            push_order(&mut sql, &request.sort);
            sql.push(&limit);
        } else {
            // The page keeps its place in the order (`position`) through the UNION with what it
            // includes; in the stored order that is the row id itself.
            sql.push(&format!("WITH page AS MATERIALIZED (SELECT {SERVED_COLUMNS}, COUNT(*) OVER () AS total, "));
            if request.sort.is_empty() {
                sql.push("r.rid");
            } else {
                sql.push("ROW_NUMBER() OVER (ORDER BY ");
                push_order(&mut sql, &request.sort);
                sql.push(")");
            }
            sql.push(" AS position FROM resources r WHERE ");
            push_matching(&mut sql, provider, release, scope, visibility, request);
            sql.push(" ORDER BY ");
            push_order(&mut sql, &request.sort);
            sql.push(&limit);
            sql.push(
                ") SELECT page.rid, page.resource_type, page.id, page.version_id, page.last_updated, page.body, \
                 page.total, 0 AS part, page.position FROM page UNION ALL ",
            );
            push_included(&mut sql, provider, release, scope, visibility, request, |sql| {
                sql.push("(SELECT page.rid FROM page)");
            });
            sql.push(" ORDER BY 8, 9, 1");
        }
        let rows = self.db.resources(sql, Extra { total: true, part: true }).await?;
        let mut matches = Vec::new();
        let mut included = Vec::new();
        let mut total = None;
        for row in rows {
            if row.part == 0 {
                total = Some(row.total);
                matches.push(row.resource);
            } else {
                included.push(row.resource);
            }
        }
        let total = match total {
            Some(total) => usize::try_from(total).unwrap_or(0),
            // An empty page says nothing about the total unless it is the first page.
            None if request.offset == 0 && request.count > 0 => 0,
            None => {
                let mut count = Sql::new("SELECT COUNT(*) AS total FROM resources r WHERE ");
                push_matching(&mut count, provider, release, scope, visibility, request);
                usize::try_from(self.db.count(count).await?).unwrap_or(0)
            }
        };
        let included = only_once(&matches, included);
        Ok(SearchPage { total, matches, included })
    }

    /// `$lastn` in the database: its candidates, with their bodies, in one statement, chosen
    /// by [`lastn_selection`].
    async fn lastn_page(
        &self,
        provider: ProviderId,
        release: Release,
        scope: &PatientScope,
        visibility: &Visibility,
        request: &SearchRequest,
        max: usize,
    ) -> Result<(usize, Vec<StoredResource>), StoreError> {
        // $lastn is defined on Observation's `code` (a token) and `date` (a date).
        let (tokens, dates) = (token::TABLE.name, date::TABLE.name);
        let mut sql = Sql::new(&format!(
            "SELECT {SERVED_COLUMNS}, t.system, t.code, \
             (SELECT MIN(d.low) FROM {dates} d WHERE d.rid = r.rid AND d.param = 'date') AS effective \
             FROM resources r JOIN {tokens} t ON t.rid = r.rid AND t.param = 'code' WHERE "
        ));
        push_matching(&mut sql, provider, release, scope, visibility, request);
        Ok(lastn_selection(self.db.lastn_candidates(sql).await?, request, max))
    }

    /// The resources the given matches `_include`, limited to what the data service serves and to
    /// the patient's own or shared resources (for `$lastn`, whose page is chosen outside SQL).
    async fn included(
        &self,
        provider: ProviderId,
        release: Release,
        scope: &PatientScope,
        visibility: &Visibility,
        request: &SearchRequest,
        matches: &[StoredResource],
    ) -> Result<Vec<StoredResource>, StoreError> {
        if request.includes.is_empty() || matches.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::default();
        push_included(&mut sql, provider, release, scope, visibility, request, |sql| {
            sql.bind_list(matches.iter().map(|resource| resource.rid));
        });
        sql.push(" ORDER BY 1");
        let rows = self.db.resources(sql, Extra { total: false, part: false }).await?;
        Ok(only_once(matches, rows.into_iter().map(|row| row.resource).collect()))
    }
}

/// `$lastn`'s choice among its candidates (one row per observation and code): per code the `max`
/// most recent observations (by effective date, then by the order they were stored). With a
/// `code` criterion, each requested code is a group; without one, observations with the same
/// `Observation.code` form a group. The total and the requested page.
pub(crate) fn lastn_selection(
    rows: Vec<LastnRow>,
    request: &SearchRequest,
    max: usize,
) -> (usize, Vec<StoredResource>) {
    let mut candidates: BTreeMap<i64, LastnCandidate> = BTreeMap::new();
    for (resource, system, code, effective) in rows {
        candidates
            .entry(resource.rid)
            .or_insert_with(|| LastnCandidate { effective, codings: Vec::new(), resource })
            .codings
            .push((system, code));
    }
    let code_criteria: Vec<&Criterion> =
        request.criteria.iter().filter(|criterion| criterion.param == "code").collect();
    let mut groups: BTreeMap<String, Vec<(Option<i64>, i64)>> = BTreeMap::new();
    for (rid, LastnCandidate { effective, codings, .. }) in &mut candidates {
        codings.sort();
        let keys: Vec<String> = if code_criteria.is_empty() {
            vec![
                codings
                    .iter()
                    .map(|(system, code)| format!("{}|{code}", system.as_deref().unwrap_or("")))
                    .collect::<Vec<_>>()
                    .join(","),
            ]
        } else {
            // One group per requested code that this observation carries.
            code_criteria
                .iter()
                .flat_map(|criterion| criterion.values.iter().enumerate())
                .filter(|(_, value)| codings.iter().any(|coding| token_matches(value, coding)))
                .map(|(position, value)| format!("{position}:{value:?}"))
                .collect()
        };
        for key in keys {
            groups.entry(key).or_default().push((*effective, *rid));
        }
    }
    let mut selected: Vec<i64> = Vec::new();
    for members in groups.values_mut() {
        // Most recent first; observations without a date come last; later-stored wins ties.
        members.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
        for (_, rid) in members.iter().take(max) {
            if !selected.contains(rid) {
                selected.push(*rid);
            }
        }
    }
    let total = selected.len();
    let page = selected
        .into_iter()
        .skip(request.offset)
        .take(request.count)
        .filter_map(|rid| candidates.remove(&rid).map(|candidate| candidate.resource))
        .collect();
    (total, page)
}

/// The included resources without duplicates and without the page's matches: a resource both
/// matched and included is a match only.
fn only_once(matches: &[StoredResource], mut included: Vec<StoredResource>) -> Vec<StoredResource> {
    let matched: HashSet<i64> = matches.iter().map(|resource| resource.rid).collect();
    let mut seen = HashSet::new();
    included.retain(|resource| !matched.contains(&resource.rid) && seen.insert(resource.rid));
    included
}

/// The SELECT of the resources that the resources with rids `push_rids` (a parenthesised list or
/// subquery) refer to through the requested `_include`s, within the data service and the
/// patient's own or shared resources. Selects the resource columns, then `0 AS total, 1 AS part`.
fn push_included(
    sql: &mut Sql,
    provider: ProviderId,
    release: Release,
    scope: &PatientScope,
    visibility: &Visibility,
    request: &SearchRequest,
    push_rids: impl FnOnce(&mut Sql),
) {
    sql.push(&format!(
        "SELECT {SERVED_COLUMNS}, 0 AS total, 1 AS part, 0 AS position FROM search_reference x JOIN resources r ON r.resource_type = x.target_type \
         AND r.id = x.target_id AND r.provider_id = "
    ));
    sql.bind(provider.0)
        .push(" AND r.release = ")
        .bind(release.as_str().to_owned())
        .push(" AND r.deleted = 0 WHERE x.rid IN ");
    push_rids(sql);
    sql.push(" AND (");
    for (position, include) in request.includes.iter().enumerate() {
        sql.push(if position == 0 { "(x.param = " } else { " OR (x.param = " });
        sql.bind(include.param.clone());
        if let Some(target) = &include.target_type {
            sql.push(" AND x.target_type = ").bind(target.clone());
        }
        sql.push(")");
    }
    sql.push(") AND ");
    push_profile_filter(sql, visibility, None);
    sql.push(" AND ");
    push_compartment_or_shared(sql, provider, release, scope, visibility);
}

/// Appends the ORDER BY terms of a search: its `_sort` keys, then the order resources were stored
/// (which makes the order total, so pages neither repeat nor skip a match).
fn push_order(sql: &mut Sql, sort: &[SortKey]) {
    for key in sort {
        let direction = if key.descending { " DESC, " } else { ", " };
        match &key.by {
            SortBy::Id => sql.push("r.id").push(direction),
            SortBy::LastUpdated => sql.push("r.last_updated").push(direction),
            SortBy::Date(param) => {
                // Ascending by the earliest moment the values cover, descending by the latest;
                // resources without a value last (`IS NULL` orders alike on both backends).
                let (aggregate, bound) = if key.descending { ("MAX", "high") } else { ("MIN", "low") };
                let value = format!(
                    "(SELECT {aggregate}(d.{bound}) FROM {} d WHERE d.rid = r.rid AND d.param = ",
                    date::TABLE.name
                );
                sql.push(&value).bind(param.clone()).push(") IS NULL, ");
                sql.push(&value).bind(param.clone()).push(")").push(direction)
            }
        };
    }
    sql.push("r.rid");
}

/// Appends the conditions every match must meet: provider, release, type, not deleted, in the
/// patient's compartment, claiming a profile of the data service, and every criterion.
fn push_matching(
    sql: &mut Sql,
    provider: ProviderId,
    release: Release,
    scope: &PatientScope,
    visibility: &Visibility,
    request: &SearchRequest,
) {
    // The compartment rows of the person drive the query: resources are reached only through
    // their row ids, so a search touches one person's rows however large the store. (`+` keeps
    // SQLite from driving the query from the resources index on provider instead; the provider
    // condition stays as a second guard.)
    sql.push("+r.provider_id = ")
        .bind(provider.0)
        .push(" AND r.deleted = 0 AND r.rid IN (SELECT c.rid FROM compartment c WHERE c.provider_id = ")
        .bind(provider.0)
        .push(" AND c.release = ")
        .bind(release.as_str().to_owned())
        .push(" AND c.resource_type = ")
        .bind(request.resource_type.clone())
        .push(" AND c.patient_id IN ");
    push_patients(sql, provider, release, scope);
    sql.push(") AND ");
    push_profile_filter(sql, visibility, Some(&request.resource_type));
    for group in grouped_by_param(&request.criteria) {
        sql.push(" AND ");
        match group.as_slice() {
            [criterion] => push_criterion(sql, criterion),
            repeated => push_repeated(sql, repeated),
        }
    }
}

/// The criteria by parameter, in the order each parameter first occurs (so that the statement
/// text, and with it the prepared statement, is the same for the same query shape).
pub(crate) fn grouped_by_param(criteria: &[Criterion]) -> Vec<Vec<&Criterion>> {
    let mut groups: Vec<Vec<&Criterion>> = Vec::new();
    for criterion in criteria {
        match groups.iter_mut().find(|group| group[0].param == criterion.param) {
            Some(group) => group.push(criterion),
            None => groups.push(vec![criterion]),
        }
    }
    groups
}

/// A code of an observation: (system, code).
type Coding = (Option<String>, String);

/// An observation considered by `$lastn`: when it was effective, its codes, and itself.
struct LastnCandidate {
    effective: Option<i64>,
    codings: Vec<Coding>,
    resource: StoredResource,
}

fn token_matches(value: &Value, (system, code): &Coding) -> bool {
    matches!(value, Value::Token(token) if token.matches(system.as_deref(), code))
}
