DROP INDEX turns_inbound;
--bun:split
DROP INDEX outbox_inbound;
--bun:split
ALTER TABLE turns DROP COLUMN output_tokens;
--bun:split
ALTER TABLE turns DROP COLUMN input_tokens;
--bun:split
ALTER TABLE turns DROP COLUMN tools;
--bun:split
ALTER TABLE turns DROP COLUMN model;
