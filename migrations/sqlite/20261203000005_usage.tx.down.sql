DROP TABLE model_calls;
