//! Bulk loading of files and folders of FHIR JSON resources and Bundles, through the same checks
//! as the provider endpoint. Valid resources are written in batches (one transaction each);
//! every refused resource is named with its file and reasons, and loading carries on.
//!
//! Files are read in name order, so a resource may come before the Patient it names by BSN: such
//! a resource is tried again after every other file, and refused only if the Patient never came.

use crate::IngestError;
use crate::owner::KnownPatients;
use crate::prepare::Ingestor;
use crate::release_of::{Written, release_of};
use fhir_core::Release;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use store::{Provider, Store, Write, WriteKind};

/// How to load.
#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    /// The release the files are written in; `None`: each file's own, told by the profiles its
    /// resources claim (for a provider with data services in several releases).
    pub release: Option<Release>,
    /// Resources per database transaction.
    pub batch_size: usize,
}

/// A refused resource (or file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The file.
    pub file: String,
    /// `Type/id`, or what is known of it.
    pub resource: String,
    /// Why, each with its location.
    pub reasons: Vec<String>,
}

impl Rejected {
    /// A file refused as a whole (unreadable, not FHIR, of no release the provider serves).
    fn whole_file(file: &str, reason: String) -> Rejected {
        Rejected { file: file.to_owned(), resource: "(file)".into(), reasons: vec![reason] }
    }
}

/// What a load did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadSummary {
    /// Files read.
    pub files: usize,
    /// New resources.
    pub created: usize,
    /// New versions of existing resources.
    pub updated: usize,
    /// Resources equal to what was stored (nothing written).
    pub unchanged: usize,
    /// Resources deleted (by Bundle entries).
    pub deleted: usize,
    /// Refused resources.
    pub rejected: Vec<Rejected>,
    /// Accepted with a warning: `file: location: message`.
    pub warnings: Vec<String>,
    /// Files not loaded, with the reason.
    pub skipped: Vec<(String, String)>,
}

impl LoadSummary {
    /// Resources accepted (created, updated or unchanged).
    pub fn loaded(&self) -> usize {
        self.created + self.updated + self.unchanged
    }
}

/// Loading could not go on.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A path could not be read.
    #[error("{path}: {message}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        message: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// Every file under `paths` (files as given, folders walked), sorted, so that loads are
/// repeatable.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, LoadError> {
    let mut files = Vec::new();
    for path in paths {
        let metadata = std::fs::metadata(path)
            .map_err(|error| LoadError::Io { path: path.display().to_string(), message: error.to_string() })?;
        if metadata.is_dir() {
            for entry in walkdir::WalkDir::new(path).follow_links(true) {
                let entry = entry
                    .map_err(|error| LoadError::Io { path: path.display().to_string(), message: error.to_string() })?;
                if entry.file_type().is_file() {
                    files.push(entry.into_path());
                }
            }
        } else {
            files.push(path.clone());
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

struct Batch<'a> {
    store: &'a Store,
    provider: &'a Provider,
    size: usize,
    writes: Vec<Write>,
    /// The Patients among `writes`, which resources of the same batch may name by BSN.
    known: KnownPatients,
    /// Resources that named a Patient by BSN before it arrived: (file, location, resource).
    deferred: Vec<(String, Release, Option<String>, Value)>,
}

impl Batch<'_> {
    async fn push(&mut self, write: Write, summary: &mut LoadSummary) -> Result<(), LoadError> {
        self.writes.push(write);
        if self.writes.len() >= self.size {
            self.flush(summary).await?;
        }
        Ok(())
    }

    async fn flush(&mut self, summary: &mut LoadSummary) -> Result<(), LoadError> {
        if self.writes.is_empty() {
            return Ok(());
        }
        let outcomes = self.store.write(self.provider.id, std::mem::take(&mut self.writes)).await?;
        self.known.clear();
        for outcome in outcomes {
            count(summary, outcome.kind);
        }
        Ok(())
    }
}

fn count(summary: &mut LoadSummary, kind: WriteKind) {
    match kind {
        WriteKind::Created => summary.created += 1,
        WriteKind::Updated => summary.updated += 1,
        WriteKind::Unchanged => summary.unchanged += 1,
        WriteKind::Deleted | WriteKind::NotFound => summary.deleted += 1,
    }
}

impl Ingestor {
    /// Loads `files` for `provider`; `progress` is called with the number of files done.
    pub async fn load(
        &self,
        store: &Store,
        provider: &Provider,
        files: &[PathBuf],
        options: LoadOptions,
        mut progress: impl FnMut(usize),
    ) -> Result<LoadSummary, LoadError> {
        let mut summary = LoadSummary::default();
        let mut batch = Batch {
            store,
            provider,
            size: options.batch_size.max(1),
            writes: Vec::new(),
            known: KnownPatients::default(),
            deferred: Vec::new(),
        };
        let mut first_seen: HashMap<String, String> = HashMap::new();
        for (done, path) in files.iter().enumerate() {
            let file = path.display().to_string();
            match path.extension().and_then(|extension| extension.to_str()) {
                Some("json" | "xml") => {
                    summary.files += 1;
                    self.load_file(path, &file, options.release, &mut batch, &mut summary, &mut first_seen).await?;
                }
                _ => summary.skipped.push((file, "not a .json or .xml file".to_owned())),
            }
            progress(done + 1);
        }
        batch.flush(&mut summary).await?;
        // Every Patient of the load is held now: the deferred resources get their second try.
        for (file, release, location, resource) in std::mem::take(&mut batch.deferred) {
            let resources = vec![(location.unwrap_or_default(), resource)];
            self.load_resources(&file, release, resources, &mut batch, &mut summary, &mut first_seen, false).await?;
        }
        batch.flush(&mut summary).await?;
        store.analyze(store::Filled::Resources).await?;
        Ok(summary)
    }

    async fn load_file(
        &self,
        path: &Path,
        file: &str,
        release: Option<Release>,
        batch: &mut Batch<'_>,
        summary: &mut LoadSummary,
        first_seen: &mut HashMap<String, String>,
    ) -> Result<(), LoadError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) => {
                summary.rejected.push(Rejected::whole_file(file, error.to_string()));
                return Ok(());
            }
        };
        let is_xml = path.extension().is_some_and(|extension| extension == "xml");
        let (catalog, provider) = (&self.catalog, batch.provider);
        let read = if is_xml {
            release.map_or_else(|| release_of(catalog, provider, Written::Xml(&bytes)), Ok).and_then(|release| {
                let limits = fhir_xml::ReadLimits { max_bytes: usize::MAX, ..fhir_xml::ReadLimits::default() };
                fhir_xml::from_xml_noting_order(release, &bytes, limits)
                    .map(|(value, notes)| {
                        summary.warnings.extend(notes.into_iter().map(|note| format!("{file}: {note}")));
                        (release, value)
                    })
                    .map_err(|error| format!("not FHIR XML the service accepts: {error}"))
            })
        } else {
            fhir_core::json::from_slice(&bytes)
                .map_err(|error| match &error.expression {
                    Some(expression) => format!("not FHIR JSON the service accepts: {expression}: {error}"),
                    None => format!("not FHIR JSON the service accepts: {error}"),
                })
                .and_then(|value: Value| {
                    let found = release.map_or_else(|| release_of(catalog, provider, Written::Json(&value)), Ok);
                    found.map(|release| (release, value))
                })
        };
        let (release, value) = match read {
            Ok(read) => read,
            Err(reason) => {
                summary.rejected.push(Rejected::whole_file(file, reason));
                return Ok(());
            }
        };
        let is_bundle = value.get("resourceType").and_then(Value::as_str) == Some("Bundle");
        let bundle_type = value.get("type").and_then(Value::as_str).unwrap_or_default().to_owned();
        if is_bundle && matches!(bundle_type.as_str(), "transaction" | "batch") {
            // Earlier resources go first, so that the Bundle sees them.
            batch.flush(summary).await?;
            return self.load_bundle(batch.store, batch.provider, release, value, file, summary).await;
        }
        let resources: Vec<(String, Value)> = if is_bundle {
            let entries = value.get("entry").and_then(Value::as_array).cloned().unwrap_or_default();
            entries
                .into_iter()
                .enumerate()
                .filter_map(|(index, entry)| {
                    entry.get("resource").cloned().map(|resource| (format!("Bundle.entry[{index}].resource"), resource))
                })
                .collect()
        } else {
            vec![(String::new(), value)]
        };
        self.load_resources(file, release, resources, batch, summary, first_seen, true).await
    }

    /// Prepares `resources` of `file` and adds them to `batch`; with `may_defer`, one that names
    /// a Patient by BSN that is not held yet waits for the end of the load.
    #[allow(clippy::too_many_arguments)]
    async fn load_resources(
        &self,
        file: &str,
        release: Release,
        resources: Vec<(String, Value)>,
        batch: &mut Batch<'_>,
        summary: &mut LoadSummary,
        first_seen: &mut HashMap<String, String>,
        may_defer: bool,
    ) -> Result<(), LoadError> {
        for (location, resource) in resources {
            let kept = (may_defer && may_name_a_patient_by_bsn(&resource)).then(|| resource.clone());
            let location = (!location.is_empty()).then_some(location.as_str());
            let name = resource_name(&resource);
            let prepared = self.prepare(batch.store, batch.provider, release, resource, location, &batch.known).await;
            match prepared {
                Err(IngestError::Store(error)) => return Err(LoadError::Store(error)),
                Err(IngestError::Rejected(rejection)) if rejection.awaits_patient && kept.is_some() => {
                    if let Some(resource) = kept {
                        batch.deferred.push((file.to_owned(), release, location.map(str::to_owned), resource));
                    }
                }
                Ok(ready) => {
                    batch.known.add(&ready.write);
                    for warning in &ready.warnings {
                        summary.warnings.push(format!(
                            "{file}: {}: {}",
                            warning.expression.join(", "),
                            warning.diagnostics
                        ));
                    }
                    if let Some(earlier) = first_seen.insert(name.clone(), file.to_owned()) {
                        summary.warnings.push(format!(
                            "{file}: {name} was also in {earlier}; this file's content becomes the newer version"
                        ));
                    }
                    batch.push(Write::Put(Box::new(ready.write)), summary).await?;
                }
                Err(IngestError::Rejected(rejection)) => summary.rejected.push(Rejected {
                    file: file.to_owned(),
                    resource: name,
                    reasons: rejection.outcome.issues.iter().map(fhir_core::outcome::Issue::describe).collect(),
                }),
            }
        }
        Ok(())
    }

    async fn load_bundle(
        &self,
        store: &Store,
        provider: &Provider,
        release: Release,
        bundle: Value,
        file: &str,
        summary: &mut LoadSummary,
    ) -> Result<(), LoadError> {
        match self.bundle(store, provider, release, bundle).await {
            Ok(response) => {
                for entry in response.get("entry").and_then(Value::as_array).into_iter().flatten() {
                    let status = entry.pointer("/response/status").and_then(Value::as_str).unwrap_or_default();
                    match status.split(' ').next().unwrap_or_default() {
                        "201" => summary.created += 1,
                        "200" => summary.updated += 1,
                        "204" => summary.deleted += 1,
                        _ => summary.rejected.push(Rejected {
                            file: file.to_owned(),
                            resource: "(Bundle entry)".into(),
                            reasons: entry
                                .pointer("/response/outcome/issue")
                                .and_then(Value::as_array)
                                .into_iter()
                                .flatten()
                                .map(|issue| {
                                    issue.get("diagnostics").and_then(Value::as_str).unwrap_or(status).to_owned()
                                })
                                .collect(),
                        }),
                    }
                }
                Ok(())
            }
            Err(IngestError::Rejected(rejection)) => {
                summary.rejected.push(Rejected {
                    file: file.to_owned(),
                    resource: "(transaction Bundle, nothing stored)".into(),
                    reasons: rejection.outcome.issues.iter().map(fhir_core::outcome::Issue::describe).collect(),
                });
                Ok(())
            }
            Err(IngestError::Store(error)) => Err(LoadError::Store(error)),
        }
    }
}

/// Whether `value` may name a Patient by BSN (the BSN system, or a conditional reference to a
/// Patient, anywhere in it): a walk, far cheaper than keeping a copy of every resource loaded.
fn may_name_a_patient_by_bsn(value: &Value) -> bool {
    match value {
        Value::String(text) => text == fhir_core::BSN_SYSTEM || text.starts_with("Patient?"),
        Value::Array(items) => items.iter().any(may_name_a_patient_by_bsn),
        Value::Object(members) => members.values().any(may_name_a_patient_by_bsn),
        _ => false,
    }
}

fn resource_name(resource: &Value) -> String {
    let resource_type = resource.get("resourceType").and_then(Value::as_str).unwrap_or("(no resourceType)");
    match resource.get("id").and_then(Value::as_str) {
        Some(id) => format!("{resource_type}/{id}"),
        None => format!("{resource_type}/(no id)"),
    }
}
