ALTER TABLE turns ADD COLUMN model TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE turns ADD COLUMN tools TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE turns ADD COLUMN input_tokens BIGINT NOT NULL DEFAULT 0;
--bun:split
ALTER TABLE turns ADD COLUMN output_tokens BIGINT NOT NULL DEFAULT 0;
--bun:split
CREATE INDEX outbox_inbound ON outbox (inbound_id);
--bun:split
CREATE INDEX turns_inbound ON turns (inbound_id);
