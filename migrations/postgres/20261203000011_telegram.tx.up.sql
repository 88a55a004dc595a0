CREATE TABLE adapter_leases (
    agent_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    account TEXT NOT NULL,
    holder TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (agent_id, channel, account)
);
