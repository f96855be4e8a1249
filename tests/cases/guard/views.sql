CREATE TABLE IF NOT EXISTS versioned (id text PRIMARY KEY, version bigint NOT NULL, value text);
