CREATE TABLE inbound_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    thread_id TEXT NOT NULL DEFAULT '',
    platform_message_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    user_name TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL,
    images BLOB,
    direct BOOLEAN NOT NULL DEFAULT FALSE,
    mentioned BOOLEAN NOT NULL DEFAULT FALSE,
    reply_to_agent BOOLEAN NOT NULL DEFAULT FALSE,
    sent_at TIMESTAMP,
    received_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL,
    owner TEXT NOT NULL DEFAULT '',
    handled_at TIMESTAMP,
    outcome TEXT NOT NULL DEFAULT ''
);
--bun:split
CREATE UNIQUE INDEX inbound_messages_platform_key
    ON inbound_messages (agent_id, channel, chat_id, platform_message_id);
--bun:split
CREATE INDEX inbound_messages_pending
    ON inbound_messages (agent_id, channel, chat_id, thread_id, id)
    WHERE status = 'received';
--bun:split
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    thread_id TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT 'general',
    status TEXT NOT NULL DEFAULT 'active',
    icon TEXT NOT NULL DEFAULT '',
    pinned BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    last_message_at TIMESTAMP
);
--bun:split
CREATE INDEX sessions_conversation
    ON sessions (agent_id, channel, chat_id, thread_id, id);
--bun:split
CREATE TABLE turns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id TEXT NOT NULL,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    inbound_id INTEGER,
    role TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX turns_session ON turns (session_id, id);
--bun:split
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    thread_id TEXT NOT NULL DEFAULT '',
    reply_to TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL,
    part INTEGER NOT NULL DEFAULT 1,
    parts INTEGER NOT NULL DEFAULT 1,
    inbound_id INTEGER,
    origin_at TIMESTAMP,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_by TEXT NOT NULL DEFAULT '',
    claimed_until TIMESTAMP,
    platform_message_id TEXT NOT NULL DEFAULT '',
    last_error TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
--bun:split
CREATE INDEX outbox_pending ON outbox (agent_id, channel, chat_id, id)
    WHERE status = 'pending';
--bun:split
CREATE TABLE allowed_users (
    agent_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    user_id TEXT NOT NULL,
    user_name TEXT NOT NULL DEFAULT '',
    approved_at TIMESTAMP NOT NULL,
    PRIMARY KEY (agent_id, channel, user_id)
);
--bun:split
CREATE TABLE pairing_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    user_name TEXT NOT NULL DEFAULT '',
    code TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    approved_at TIMESTAMP
);
--bun:split
CREATE UNIQUE INDEX pairing_requests_code ON pairing_requests (agent_id, code);
--bun:split
CREATE INDEX pairing_requests_user ON pairing_requests (agent_id, channel, user_id);
--bun:split
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id TEXT NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP
);
