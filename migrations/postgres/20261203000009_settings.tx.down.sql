DROP TABLE agent_settings;
