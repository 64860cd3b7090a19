-- The keys that sign access tokens and reports, shared by every instance of a deployment so that
-- each verifies what another signed. The private key is kept sealed (AES-256-GCM under a key
-- derived from the deployment secret): the database alone does not give it away. The newest key
-- not retired signs; a retired key still verifies the tokens it signed until they expire.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    sealed_key BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);

-- Every revocation, by whatever statement it is made (the person's, a PGO's, a replayed code's or
-- refresh token's), is announced to the other instances on commit, so that they refuse the
-- consent's access tokens at once instead of at their next look (`changes.rs`).
CREATE FUNCTION announce_revocation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('pgo_exchange_changes', 'revocations');
    RETURN NULL;
END;
$$;
CREATE TRIGGER consents_revoked_announced AFTER UPDATE OF revoked_at ON consents
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION announce_revocation();
