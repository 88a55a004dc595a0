ALTER TABLE api_tokens ADD COLUMN user_id TEXT NOT NULL DEFAULT 'owner';
--bun:split
CREATE TABLE web_logins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX web_logins_expiry ON web_logins (agent_id, expires_at);
