DROP TABLE skill_settings;
