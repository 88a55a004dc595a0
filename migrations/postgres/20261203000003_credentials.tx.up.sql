CREATE TABLE skill_credentials (
    agent_id TEXT NOT NULL,
    skill TEXT NOT NULL,
    name TEXT NOT NULL,
    sealed BYTEA NOT NULL,
    masked TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (agent_id, skill, name)
);
