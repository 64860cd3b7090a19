-- The keys that sign access tokens and reports (see the PostgreSQL migration of the same name:
-- there they are shared by every instance; here the one instance keeps them with its data). The
-- private key is kept sealed under a key derived from the deployment secret.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    sealed_key BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER
);
