CREATE TABLE IF NOT EXISTS hostile_rows (
    id text PRIMARY KEY,
    n integer NOT NULL,
    amount numeric(6, 2) NOT NULL,
    note text
);
