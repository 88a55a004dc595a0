DROP TABLE skill_credentials;
