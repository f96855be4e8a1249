-- The warehouse workload's read model: stock levels per (sku, warehouse) and the open or
-- fulfilled reservations (a released reservation is deleted).
CREATE TABLE IF NOT EXISTS stock_level (
    sku text NOT NULL,
    warehouse text NOT NULL,
    on_hand bigint NOT NULL DEFAULT 0,  -- received minus shipped
    reserved bigint NOT NULL DEFAULT 0, -- held by open reservations
    shipped bigint NOT NULL DEFAULT 0,  -- fulfilled reservations' quantities
    PRIMARY KEY (sku, warehouse)
);
CREATE TABLE IF NOT EXISTS reservation (
    reservation_id text PRIMARY KEY,
    sku text NOT NULL,
    warehouse text NOT NULL,
    qty bigint NOT NULL,
    status text NOT NULL
);
