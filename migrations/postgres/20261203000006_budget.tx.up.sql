ALTER TABLE model_calls ADD COLUMN inbound_id BIGINT;
--bun:split
ALTER TABLE model_calls ADD COLUMN cost_micros BIGINT NOT NULL DEFAULT 0;
--bun:split
ALTER TABLE model_calls ADD COLUMN tool_calls INTEGER NOT NULL DEFAULT 0;
--bun:split
CREATE INDEX model_calls_session ON model_calls (session_id, created_at);
