CREATE TABLE IF NOT EXISTS basket_items (
    basket_id text NOT NULL,
    sku text NOT NULL,
    added_at bigint NOT NULL,
    PRIMARY KEY (basket_id, sku)
);
CREATE TABLE IF NOT EXISTS basket_log (seq bigserial PRIMARY KEY, basket_id text, items bigint);
