-- `instr(text, part)`: where `part` first occurs in `text` (1-based, 0 if nowhere), as SQLite's
-- built-in of that name, so that the visibility rule's profile filter is one text on both
-- backends. It replaces `replace(profiles, '|p|', '') <> profiles`, which built a new string per
-- row and profile. A one-line SQL function, immutable: the planner inlines it as `strpos`.
CREATE FUNCTION instr(text, text) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS 'SELECT strpos($1, $2)';
