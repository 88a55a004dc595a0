DROP TABLE web_logins;
--bun:split
ALTER TABLE api_tokens DROP COLUMN user_id;
