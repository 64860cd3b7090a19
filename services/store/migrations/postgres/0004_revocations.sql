-- Access tokens carry their consent's handle (`sid`), so that revoking the consent ends them at
-- once: random, unlike the id, so that it tells a PGO nothing of other consents. Consents given
-- before get one now.
ALTER TABLE consents ADD COLUMN handle TEXT;
UPDATE consents SET handle = replace(gen_random_uuid()::text, '-', '') WHERE handle IS NULL;
CREATE UNIQUE INDEX consents_handle ON consents (handle);
-- Every instance asks every second which consents were revoked lately: an index on the moment of
-- revocation makes that a seek to the few rows revoked since the last look.
CREATE INDEX consents_revoked ON consents (revoked_at) WHERE revoked_at IS NOT NULL;
