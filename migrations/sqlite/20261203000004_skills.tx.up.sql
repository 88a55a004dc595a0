CREATE TABLE skill_settings (
    agent_id TEXT NOT NULL,
    skill TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (agent_id, skill)
);
