CREATE TABLE IF NOT EXISTS accounts (id text PRIMARY KEY, owner text NOT NULL);
CREATE TABLE IF NOT EXISTS owner_stats (
    owner text PRIMARY KEY,
    opened bigint NOT NULL DEFAULT 0,
    pings bigint NOT NULL DEFAULT 0
);
