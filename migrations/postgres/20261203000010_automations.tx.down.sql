DROP TABLE people;
--bun:split
DROP TABLE automation_runs;
--bun:split
DROP TABLE automations;
