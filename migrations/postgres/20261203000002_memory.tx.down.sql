DROP INDEX memories_search;
--bun:split
DROP INDEX memories_owner;
--bun:split
DROP INDEX memories_agent;
--bun:split
DROP TABLE memories;
