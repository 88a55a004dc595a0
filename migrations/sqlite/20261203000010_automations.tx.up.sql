CREATE TABLE automations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    thread_id TEXT NOT NULL DEFAULT '',
    user_id TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    text TEXT NOT NULL,
    at_time TIMESTAMP,
    cron TEXT NOT NULL DEFAULT '',
    every_seconds BIGINT NOT NULL DEFAULT 0,
    start_at TIMESTAMP,
    trigger_contains TEXT NOT NULL DEFAULT '',
    trigger_say TEXT NOT NULL DEFAULT '',
    trigger_remind_seconds BIGINT NOT NULL DEFAULT 0,
    catch_up TEXT NOT NULL DEFAULT 'once',
    status TEXT NOT NULL,
    next_run_at TIMESTAMP,
    last_run_at TIMESTAMP,
    last_result TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX automations_due ON automations (agent_id, status, next_run_at);
--bun:split
CREATE INDEX automations_owner ON automations (agent_id, channel, user_id, id);
--bun:split
CREATE INDEX automations_triggers ON automations (agent_id, kind, status, channel, chat_id);
--bun:split
CREATE TABLE automation_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    automation_id BIGINT NOT NULL,
    run_key TEXT NOT NULL,
    due_at TIMESTAMP NOT NULL,
    fired_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP,
    claimed_by TEXT NOT NULL DEFAULT '',
    claimed_until TIMESTAMP,
    result TEXT NOT NULL DEFAULT '',
    UNIQUE (automation_id, run_key)
);
--bun:split
CREATE INDEX automation_runs_pending ON automation_runs (status, next_attempt_at);
--bun:split
CREATE TABLE people (
    agent_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    user_id TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (agent_id, channel, user_id)
);
