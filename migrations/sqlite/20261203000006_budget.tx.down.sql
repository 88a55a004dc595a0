DROP INDEX model_calls_session;
--bun:split
ALTER TABLE model_calls DROP COLUMN tool_calls;
--bun:split
ALTER TABLE model_calls DROP COLUMN cost_micros;
--bun:split
ALTER TABLE model_calls DROP COLUMN inbound_id;
