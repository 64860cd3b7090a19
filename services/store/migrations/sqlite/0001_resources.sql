-- Providers (tenants) and their FHIR resources with the search index.
-- Times are milliseconds since the Unix epoch; flags are 0/1 integers (the same on both backends).

CREATE TABLE providers (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL UNIQUE,
    display_name    TEXT    NOT NULL,
    data_services   TEXT    NOT NULL,  -- comma-separated data-service ids
    ingest_key_hash TEXT,              -- SHA-256 (hex) of the provider's ingest key
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL   -- last change, for the ZAL's Volgnummer
);

-- The current version of every resource. `body` is the JSON as sent, with meta.versionId and
-- meta.lastUpdated set; `content_hash` covers the body without those two, to spot no-op writes;
-- `profiles` lets a query check data-service membership on the row it already reads.
CREATE TABLE resources (
    rid           INTEGER PRIMARY KEY,
    provider_id   BIGINT  NOT NULL REFERENCES providers (id),
    release       TEXT    NOT NULL,
    resource_type TEXT    NOT NULL,
    id            TEXT    NOT NULL,
    version_id    BIGINT  NOT NULL,
    last_updated  BIGINT  NOT NULL,
    deleted       BIGINT  NOT NULL DEFAULT 0,
    content_hash  TEXT    NOT NULL,
    profiles      TEXT    NOT NULL,   -- the claimed profiles, without version, as |a|b|
    body          TEXT    NOT NULL,
    UNIQUE (provider_id, release, resource_type, id)
);

-- Every version ever written (`body` NULL for a deletion).
CREATE TABLE resource_versions (
    rid          BIGINT NOT NULL REFERENCES resources (rid),
    version_id   BIGINT NOT NULL,
    last_updated BIGINT NOT NULL,
    body         TEXT,
    PRIMARY KEY (rid, version_id)
);

-- Which patients' compartment each resource is in (by the patient's logical id).
CREATE TABLE compartment (
    provider_id   BIGINT NOT NULL,
    release       TEXT   NOT NULL,
    patient_id    TEXT   NOT NULL,
    resource_type TEXT   NOT NULL,
    rid           BIGINT NOT NULL REFERENCES resources (rid),
    PRIMARY KEY (provider_id, release, patient_id, resource_type, rid)
);
CREATE INDEX compartment_by_resource ON compartment (rid);

-- The opaque person key of a Patient (a keyed hash of its BSN): how an access token finds it.
CREATE TABLE patient_keys (
    provider_id BIGINT NOT NULL,
    release     TEXT   NOT NULL,
    person_key  TEXT   NOT NULL,
    patient_id  TEXT   NOT NULL,
    rid         BIGINT NOT NULL REFERENCES resources (rid),
    PRIMARY KEY (provider_id, release, person_key, patient_id)
);
CREATE INDEX patient_keys_by_resource ON patient_keys (rid);

CREATE TABLE search_token (
    rid    BIGINT NOT NULL REFERENCES resources (rid),
    param  TEXT   NOT NULL,
    system TEXT,
    code   TEXT   NOT NULL
);
CREATE INDEX search_token_by_resource ON search_token (rid, param, code);

CREATE TABLE search_date (
    rid   BIGINT NOT NULL REFERENCES resources (rid),
    param TEXT   NOT NULL,
    low   BIGINT NOT NULL,
    high  BIGINT NOT NULL
);
CREATE INDEX search_date_by_resource ON search_date (rid, param);

-- Every reference a resource makes; `param` is NULL where no search parameter covers it.
CREATE TABLE search_reference (
    rid         BIGINT NOT NULL REFERENCES resources (rid),
    param       TEXT,
    target_type TEXT   NOT NULL,
    target_id   TEXT   NOT NULL
);
CREATE INDEX search_reference_by_resource ON search_reference (rid, target_type, target_id);

