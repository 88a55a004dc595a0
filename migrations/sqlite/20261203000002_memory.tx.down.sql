DROP TRIGGER memories_fts_update;
--bun:split
DROP TRIGGER memories_fts_delete;
--bun:split
DROP TRIGGER memories_fts_insert;
--bun:split
DROP TABLE memories_fts;
--bun:split
DROP TABLE memories;
