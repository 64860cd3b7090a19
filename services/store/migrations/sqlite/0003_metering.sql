-- Metering and the access log. No BSN anywhere: persons appear only as their pseudonym (a keyed
-- hash of the BSN under the deployment secret). Times are milliseconds since the Unix epoch.

-- The first successful exchange of each person through each PGO in each calendar year (in the
-- service's zone). A person is a new unique user of a PGO in the period holding this exchange,
-- whatever the length of the periods, since periods divide calendar years. Repeat exchanges add
-- nothing here; the access log holds every request.
CREATE TABLE exchange_firsts (
    client_id    TEXT   NOT NULL,  -- the PGO's hostname
    year         BIGINT NOT NULL,  -- the calendar year of first_at
    pseudonym    TEXT   NOT NULL,
    first_at     BIGINT NOT NULL,
    request_id   TEXT   NOT NULL,  -- the MedMij-Request-ID of that exchange
    provider     TEXT   NOT NULL,  -- the provider's MedMij name
    data_service TEXT   NOT NULL,
    kind         TEXT   NOT NULL,  -- 'collect' or 'share'
    PRIMARY KEY (client_id, year, pseudonym)
);
CREATE INDEX exchange_firsts_time ON exchange_firsts (year, first_at);

-- Every PGO request to a FHIR base (NEN 7513): who, whose data, what, when, with what outcome.
CREATE TABLE access_log (
    id             INTEGER PRIMARY KEY,
    at             BIGINT NOT NULL,
    client_id      TEXT,             -- the PGO, when its token verified
    pseudonym      TEXT,             -- the person, when the token verified
    provider       TEXT   NOT NULL,  -- as named in the path
    data_service   TEXT   NOT NULL,
    interaction    TEXT   NOT NULL,  -- 'search', 'read', 'lastn'
    resource_type  TEXT   NOT NULL,
    returned       TEXT   NOT NULL,  -- the resources returned, 'Type/id' separated by spaces
    status         BIGINT NOT NULL,  -- the HTTP status answered
    outcome        TEXT   NOT NULL,  -- 'success', 'refused' (4xx) or 'failed' (5xx)
    request_id     TEXT   NOT NULL,
    correlation_id TEXT,
    peer           TEXT              -- the address the request came from
);
CREATE INDEX access_log_time ON access_log (at);
CREATE INDEX access_log_person ON access_log (pseudonym, at);
