-- What a PGO receives of a resource, where it differs from what is stored: the body without
-- its BSNs (masked by ingest when the resource is stored). Empty: the stored body is served.
ALTER TABLE resources ADD COLUMN served TEXT;
-- Work the service does at its next start, in code, for rows stored before (here: giving every
-- stored resource its served body); a row is removed when its work is done.
CREATE TABLE pending_work (name TEXT PRIMARY KEY);
INSERT INTO pending_work (name) VALUES ('served-bodies');
