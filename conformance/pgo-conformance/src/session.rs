//! The state a run shares between scenarios: the resolved target, the HTTP clients (the
//! resource client, the PGO server's token client with its certificate), and the persons'
//! tokens, obtained once through the real flow (or given).

use crate::config::{Config, Persons};
use crate::http::Http;
use crate::login::Reached;
use crate::mask::Masker;
use crate::pgo::{self, AuthorizationRequest, Callback, Tokens};
use crate::scenario::{Probe, Stop};
use crate::target::{self, Provider};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// One of the two test patients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Patient {
    /// The patient whose data the scenarios retrieve.
    A,
    /// Another patient at the same provider, whose data A's token must never reach.
    B,
}

/// The run's shared state.
#[derive(Debug)]
pub struct Session {
    /// What the run was told.
    pub config: Config,
    /// The provider under test.
    pub provider: Provider,
    /// The second provider, if given.
    pub other_provider: Option<Provider>,
    /// The client for resource requests and discovery.
    pub api: Http,
    /// The PGO server's client for the token endpoint (its certificate, if configured).
    pub token_client: Http,
    /// The second PGO's token client.
    pub other_token_client: Option<Http>,
    tokens: tokio::sync::Mutex<HashMap<Patient, Tokens>>,
    aging: tokio::sync::Mutex<Option<Aging>>,
}

/// A code obtained early, to be presented after its lifetime.
#[derive(Debug)]
struct Aging {
    request: AuthorizationRequest,
    code: String,
    since: Instant,
    exchanges: Vec<crate::outcome::Exchange>,
}

impl Session {
    /// Resolves the target and builds the clients.
    pub async fn open(config: Config) -> anyhow::Result<Session> {
        let masker = Masker::new(config.bsns());
        let timeout = Duration::from_secs(config.timeout_seconds.max(1));
        let api = Http::new(client(&config, None, timeout)?, masker.clone());
        let token_client = Http::new(client(&config, config.pgo.identity.as_deref(), timeout)?, masker.clone());
        let other_token_client = match &config.pgo.other_identity {
            Some(identity) => Some(Http::new(client(&config, Some(identity), timeout)?, masker.clone())),
            None if config.pgo.identity.is_none() => Some(token_client.clone()),
            None => None,
        };
        let zal = match &config.target {
            crate::config::TargetSpec::Zal { source, .. } => Some(target::zal_text(api.client(), source).await?),
            crate::config::TargetSpec::Explicit { .. } => None,
        };
        let name = match &config.target {
            crate::config::TargetSpec::Zal { provider, .. } | crate::config::TargetSpec::Explicit { provider, .. } => {
                provider.clone()
            }
        };
        let provider = target::resolve(&config.target, &name, zal.as_deref())?;
        let other_provider = match &config.other_provider {
            Some(other) => Some(target::resolve(&config.target, other, zal.as_deref())?),
            None => None,
        };
        for data_service in &config.data_services {
            anyhow::ensure!(
                provider.service(data_service).is_some(),
                "the target does not offer data service {data_service} for {}",
                provider.name
            );
        }
        Ok(Session {
            config,
            provider,
            other_provider,
            api,
            token_client,
            other_token_client,
            tokens: tokio::sync::Mutex::new(HashMap::new()),
            aging: tokio::sync::Mutex::new(None),
        })
    }

    /// The scope of the tested data services (`umcx~48 umcx~63`).
    pub fn scope(&self) -> String {
        self.scope_of(&self.config.data_services.iter().map(String::as_str).collect::<Vec<_>>())
    }

    /// The scope of `data_services` at the provider.
    pub fn scope_of(&self, data_services: &[&str]) -> String {
        data_services.iter().map(|id| format!("{}~{id}", self.provider.name)).collect::<Vec<_>>().join(" ")
    }

    /// The authorization endpoint.
    pub fn authorization_endpoint(&self) -> Result<&str, Stop> {
        self.provider.authorization_endpoint().ok_or_else(|| Stop::Failed("the target lists no data service".into()))
    }

    /// The token endpoint.
    pub fn token_endpoint(&self) -> Result<&str, Stop> {
        self.provider.token_endpoint().ok_or_else(|| Stop::Failed("the target lists no data service".into()))
    }

    /// The FHIR base of `data_service`.
    pub fn base(&self, data_service: &str) -> Result<&str, Stop> {
        self.provider
            .service(data_service)
            .map(|service| service.base.as_str())
            .ok_or_else(|| Stop::Failed(format!("no FHIR base for data service {data_service}")))
    }

    /// The BSN of `patient`, when the suite logs in itself.
    pub fn bsn(&self, patient: Patient) -> Option<&str> {
        match (&self.config.persons, patient) {
            (Persons::Login { patient_a, .. }, Patient::A) => Some(patient_a),
            (Persons::Login { patient_b, .. }, Patient::B) => Some(patient_b),
            (Persons::Tokens { .. }, _) => None,
        }
    }

    /// The form answers for `patient` logging in at `loa`, with `overrides`.
    pub fn answers(
        &self,
        patient: Patient,
        loa: Option<&str>,
        overrides: &[(String, String)],
    ) -> Result<Vec<(String, String)>, Stop> {
        let Persons::Login { form, .. } = &self.config.persons else {
            return Err(Stop::NotRun("needs the suite to log in (pre-issued tokens were given)".into()));
        };
        let bsn = self.bsn(patient).unwrap_or_default();
        Ok(crate::login::answers_for(&form.answers, bsn, loa.unwrap_or(&form.loa), overrides))
    }

    /// The login form settings, when the suite logs in itself.
    pub fn login_form(&self) -> Result<&crate::config::LoginForm, Stop> {
        match &self.config.persons {
            Persons::Login { form, .. } => Ok(form),
            Persons::Tokens { .. } => {
                Err(Stop::NotRun("needs the suite to log in (pre-issued tokens were given)".into()))
            }
        }
    }

    /// Runs the person's part of `request` with `answers` in a fresh browser; where it ended.
    pub async fn walk(
        &self,
        probe: &Probe,
        request: &AuthorizationRequest,
        answers: &[(String, String)],
    ) -> Result<Reached, Stop> {
        let form = self.login_form()?;
        let timeout = Duration::from_secs(self.config.timeout_seconds.max(1));
        let browser = pgo::browser(self.api.masker().clone(), timeout).map_err(Stop::Failed)?;
        let mut records = Vec::new();
        let reached = pgo::authorize(
            &browser,
            self.authorization_endpoint()?,
            request,
            if request.redirect_uri().is_empty() { &self.config.pgo.redirect_uri } else { request.redirect_uri() },
            answers,
            &form.start_link_id,
            &mut records,
        )
        .await;
        probe.record_all(records);
        reached.map_err(Stop::Failed)
    }

    /// A fresh code for `patient` (scope: the tested data services): the request and what came
    /// back to the redirect URI, which must hold a code.
    pub async fn code(&self, probe: &Probe, patient: Patient) -> Result<(AuthorizationRequest, String), Stop> {
        self.code_for(probe, patient, &self.scope()).await
    }

    /// A fresh code for `patient` with `scope`: the request and the code.
    pub async fn code_for(
        &self,
        probe: &Probe,
        patient: Patient,
        scope: &str,
    ) -> Result<(AuthorizationRequest, String), Stop> {
        let request = AuthorizationRequest::new(&self.config.pgo.client_id, &self.config.pgo.redirect_uri, scope);
        let answers = self.answers(patient, None, &[])?;
        match self.walk(probe, &request, &answers).await? {
            Reached::Redirect(url) => {
                let callback = Callback::of(&url);
                match callback.get("code") {
                    Some(code) => Ok((request.clone(), code.to_owned())),
                    None => {
                        Err(Stop::Failed(format!("the flow ended without a code: {}", url.query().unwrap_or_default())))
                    }
                }
            }
            Reached::Page { status, url, .. } => {
                Err(Stop::Failed(format!("the flow stopped at a page: {status} {url}")))
            }
        }
    }

    /// Obtains, at the start of a run, the code that `token.code-expired` presents after its
    /// lifetime (so the run waits for it as little as possible). Does nothing when the suite does
    /// not log in itself, or when it fails (the scenario then says why).
    pub async fn prepare_aging_code(&self) {
        if self.login_form().is_err() {
            return;
        }
        let probe = Probe::detached(self.api.clone());
        if let Ok((request, code)) = self.code(&probe, Patient::A).await {
            let exchanges = probe.take_exchanges();
            *self.aging.lock().await = Some(Aging { request, code, since: Instant::now(), exchanges });
        }
    }

    /// The code obtained early (or one obtained now), and since when it exists.
    pub async fn aging_code(&self, probe: &Probe) -> Result<(AuthorizationRequest, String, Instant), Stop> {
        if let Some(aging) = self.aging.lock().await.take() {
            probe.record_all(aging.exchanges);
            return Ok((aging.request, aging.code, aging.since));
        }
        let (request, code) = self.code(probe, Patient::A).await?;
        Ok((request, code, Instant::now()))
    }

    /// Exchanges `code` of `request` at the token endpoint.
    pub async fn exchange(
        &self,
        probe: &Probe,
        request: &AuthorizationRequest,
        code: &str,
    ) -> Result<crate::http::Answer, Stop> {
        let client_id = &self.config.pgo.client_id;
        let form = pgo::code_form(client_id, code, &self.config.pgo.redirect_uri, &request.pkce.verifier);
        probe.send_with(&self.token_client, pgo::token_request(&self.token_client, self.token_endpoint()?, &form)).await
    }

    /// `patient`'s access token for `data_service` (with a refresh token when the suite logged in
    /// itself): obtained once through the whole flow, then reused.
    pub async fn tokens(&self, probe: &Probe, patient: Patient, data_service: &str) -> Result<Tokens, Stop> {
        if let Persons::Tokens { patient_a, patient_b } = &self.config.persons {
            let given = match patient {
                Patient::A => patient_a,
                Patient::B => patient_b,
            };
            return given.get(data_service).map(|access| Tokens { access: access.clone(), refresh: None }).ok_or_else(
                || Stop::NotRun(format!("no token was given for patient {patient:?} and data service {data_service}")),
            );
        }
        let mut tokens = self.tokens.lock().await;
        if let Some(held) = tokens.get(&patient) {
            return Ok(held.clone());
        }
        let (request, code) = self.code(probe, patient).await?;
        let answer = self.exchange(probe, &request, &code).await?;
        let got = pgo::tokens_of(&answer)
            .ok_or_else(|| Stop::Failed(format!("the token endpoint answered {}: {}", answer.status, answer.text())))?;
        tokens.insert(patient, got.clone());
        Ok(got)
    }

    /// `patient`'s access token for exactly `data_services` at the provider, through a fresh
    /// flow (never the run's shared tokens: a share needs a token for its data service alone),
    /// with the token endpoint's whole answer; given beforehand (no answer seen) for one data
    /// service when the suite does not log in itself.
    pub async fn fresh_tokens(
        &self,
        probe: &Probe,
        patient: Patient,
        data_services: &[&str],
    ) -> Result<(Tokens, Option<serde_json::Value>), Stop> {
        if let Persons::Tokens { .. } = &self.config.persons {
            return match data_services {
                [data_service] => Ok((self.tokens(probe, patient, data_service).await?, None)),
                _ => Err(Stop::NotRun(format!(
                    "needs the suite to log in for a token of {} (pre-issued tokens were given)",
                    self.scope_of(data_services)
                ))),
            };
        }
        let (request, code) = self.code_for(probe, patient, &self.scope_of(data_services)).await?;
        let answer = self.exchange(probe, &request, &code).await?;
        let tokens = pgo::tokens_of(&answer)
            .ok_or_else(|| Stop::Failed(format!("the token endpoint answered {}: {}", answer.status, answer.text())))?;
        Ok((tokens, answer.json()))
    }
}

/// A client that follows no redirects, with `identity` (a PEM with certificate and key) for
/// mutual TLS and the configured CA.
fn client(config: &Config, identity: Option<&std::path::Path>, timeout: Duration) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(timeout);
    if let Some(path) = identity {
        let pem = std::fs::read(path).map_err(|error| anyhow::anyhow!("{}: {error}", path.display()))?;
        builder = builder.identity(reqwest::Identity::from_pem(&pem)?);
    }
    if let Some(path) = &config.pgo.ca {
        let pem = std::fs::read(path).map_err(|error| anyhow::anyhow!("{}: {error}", path.display()))?;
        for certificate in reqwest::Certificate::from_pem_bundle(&pem)? {
            builder = builder.add_root_certificate(certificate);
        }
    }
    Ok(builder.build()?)
}
