-- A person's collection reads every token, date and reference row of their compartment by `rid`.
-- With each table's own columns in its index, those reads are answered from the index alone,
-- without a lookup of the table row for each index entry. The new indexes keep the old ones'
-- leading columns, so every search that used those uses these.
DROP INDEX search_token_by_resource;
CREATE INDEX search_token_by_resource ON search_token (rid, param, code, system);
DROP INDEX search_date_by_resource;
CREATE INDEX search_date_by_resource ON search_date (rid, param, low, high);
DROP INDEX search_reference_by_resource;
CREATE INDEX search_reference_by_resource ON search_reference (rid, target_type, target_id, param);
