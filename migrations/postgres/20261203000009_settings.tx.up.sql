CREATE TABLE agent_settings (
    agent_id TEXT PRIMARY KEY,
    ai_model TEXT NOT NULL DEFAULT '',
    messenger_type TEXT NOT NULL DEFAULT '',
    server_tier TEXT NOT NULL DEFAULT '',
    server_region TEXT NOT NULL DEFAULT '',
    ai_api_key BYTEA,
    updated_at TIMESTAMPTZ NOT NULL
);
