CREATE TABLE IF NOT EXISTS parked_rows (id text PRIMARY KEY, total numeric NOT NULL, label text NOT NULL);
