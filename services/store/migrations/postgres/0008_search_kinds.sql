-- The index tables of the search-parameter kinds string, quantity, number and uri (one table per
-- kind, keyed like the others by resource row and parameter; their columns are the kind's, see
-- services/fhir-search/src/kinds/). Every resource stored before gets its rows at the service's
-- next start (`pending_work`, store/src/reindex.rs), and again whenever the definitions the index
-- is made from change.

-- A text as written and normalised (lowercase, without diacritics) by the service.
CREATE TABLE search_string (
    rid        BIGINT NOT NULL REFERENCES resources (rid),
    param      TEXT   NOT NULL,
    value      TEXT   NOT NULL,
    normalized TEXT   NOT NULL
);
CREATE INDEX search_string_by_resource ON search_string (rid, param);

-- A quantity: its value and unit (system, code, and the unit as written for people).
CREATE TABLE search_quantity (
    rid    BIGINT NOT NULL REFERENCES resources (rid),
    param  TEXT   NOT NULL,
    value  DOUBLE PRECISION NOT NULL,
    system TEXT,
    code   TEXT,
    unit   TEXT
);
CREATE INDEX search_quantity_by_resource ON search_quantity (rid, param);

CREATE TABLE search_number (
    rid   BIGINT NOT NULL REFERENCES resources (rid),
    param TEXT   NOT NULL,
    value DOUBLE PRECISION NOT NULL
);
CREATE INDEX search_number_by_resource ON search_number (rid, param);

CREATE TABLE search_uri (
    rid   BIGINT NOT NULL REFERENCES resources (rid),
    param TEXT   NOT NULL,
    value TEXT   NOT NULL
);
CREATE INDEX search_uri_by_resource ON search_uri (rid, param);

-- The SHA-256 of the definitions the index was last made under (one row; none before the first
-- start after this migration).
CREATE TABLE search_index_definitions (definitions TEXT NOT NULL);

INSERT INTO pending_work (name) VALUES ('search-index');
