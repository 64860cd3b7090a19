-- The authorization server: browser sessions of the login and consent flow, authorization codes,
-- consents (one per authorization: the family of its refresh tokens) and refresh tokens; and the
-- MedMij lists the service imports. Secrets (session ids, codes, refresh tokens) are stored only
-- as SHA-256 hashes; no BSN is stored anywhere. Times are milliseconds since the Unix epoch.

CREATE TABLE browser_sessions (
    id_hash    TEXT   PRIMARY KEY,
    kind       TEXT   NOT NULL,  -- 'authorize' (a PGO's request in progress) or 'manage' (consent management)
    data       TEXT   NOT NULL,  -- JSON, see the authorization crate
    expires_at BIGINT NOT NULL
);
CREATE INDEX browser_sessions_expiry ON browser_sessions (expires_at);

CREATE TABLE consents (
    id           INTEGER PRIMARY KEY,
    provider_id  BIGINT NOT NULL REFERENCES providers (id),
    client_id    TEXT   NOT NULL,  -- the PGO's hostname
    person_key   TEXT   NOT NULL,  -- the person's key at this provider
    pseudonym    TEXT   NOT NULL,  -- the person's pseudonym, the same at every provider
    scope        TEXT   NOT NULL,
    granted_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,  -- lapses unless a refresh token is used before
    revoked_at   BIGINT,
    revoked_why  TEXT              -- 'person', 'refresh-token-reuse', 'code-replay'
);
CREATE INDEX consents_pseudonym ON consents (pseudonym);

CREATE TABLE authorization_codes (
    code_hash      TEXT   PRIMARY KEY,
    consent_id     BIGINT NOT NULL REFERENCES consents (id),
    client_id      TEXT   NOT NULL,
    redirect_uri   TEXT   NOT NULL,
    code_challenge TEXT,            -- PKCE S256 challenge, when the client sent one
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT
);

CREATE TABLE refresh_tokens (
    token_hash TEXT   PRIMARY KEY,
    consent_id BIGINT NOT NULL REFERENCES consents (id),
    issued_at  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT             -- set when rotated: a second use is a reuse
);
CREATE INDEX refresh_tokens_consent ON refresh_tokens (consent_id);

CREATE TABLE medmij_lists (
    kind        TEXT   PRIMARY KEY,  -- 'oauth-clients', 'data-service-names', 'whitelist'
    volgnummer  BIGINT NOT NULL,
    tijdstempel TEXT   NOT NULL,
    content     TEXT   NOT NULL,     -- the XML as imported
    imported_at BIGINT NOT NULL
);
