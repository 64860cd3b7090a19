-- A second copy of each resource's token, date and reference index rows, as JSON in its own row
-- (store/src/collection_index.rs): a person's collection reads its records and these rows as one
-- range of one table, instead of walking three index tables. Written with the resource and with
-- every rebuild of its index; NULL for a deleted resource. Resources stored before get it at the
-- service's next start, before it serves, by the rebuild of the search index asked for here.
ALTER TABLE resources ADD COLUMN collection_index TEXT;
INSERT INTO pending_work (name) VALUES ('search-index') ON CONFLICT (name) DO NOTHING;
