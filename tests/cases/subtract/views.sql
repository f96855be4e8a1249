CREATE TABLE IF NOT EXISTS stock (
    sku text PRIMARY KEY,
    available integer NOT NULL DEFAULT 0,
    reserved integer NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sku_totals (sku text PRIMARY KEY, balance numeric(12,2));
