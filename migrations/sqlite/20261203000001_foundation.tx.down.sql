DROP TABLE api_tokens;
--bun:split
DROP TABLE pairing_requests;
--bun:split
DROP TABLE allowed_users;
--bun:split
DROP TABLE outbox;
--bun:split
DROP TABLE turns;
--bun:split
DROP TABLE sessions;
--bun:split
DROP TABLE inbound_messages;
