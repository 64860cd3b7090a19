-- What PGOs shared with a provider (MedMij Delen): one row per resource version stored from a
-- shared Bundle, saying which PGO sent it for which data service, when, and under which request
-- ids. `seq` orders the provider's feed; `acknowledged_at` is set when the provider's system says
-- it took the item into its record. A shared resource is an ordinary resource besides (searched,
-- versioned, served to the person); this row is its provenance and is never rewritten but for
-- the acknowledgement.
CREATE TABLE shared_items (
    seq             INTEGER PRIMARY KEY,
    provider_id     BIGINT  NOT NULL REFERENCES providers (id),
    rid             BIGINT  NOT NULL REFERENCES resources (rid),
    version_id      BIGINT  NOT NULL,
    share_id        TEXT    NOT NULL,  -- one per shared Bundle: the items sent together
    data_service    TEXT    NOT NULL,
    client_id       TEXT    NOT NULL,  -- the PGO (its OAuth client id)
    shared_at       BIGINT  NOT NULL,
    request_id      TEXT    NOT NULL,  -- MedMij-Request-ID of the PGO's request
    correlation_id  TEXT,              -- X-Correlation-ID, when sent
    acknowledged_at BIGINT
);
CREATE INDEX shared_items_feed ON shared_items (provider_id, seq);
CREATE INDEX shared_items_by_resource ON shared_items (rid);

-- A consent for a share (Delen) stands alone: it is never renewed into, nor merged with, another
-- consent, so that its token grants exactly the one data service the person confirmed.
ALTER TABLE consents ADD COLUMN sharing BIGINT NOT NULL DEFAULT 0;
