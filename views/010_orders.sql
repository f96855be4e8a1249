-- Read tables of the sample order domain (projection "orders", mappings/orders.json).
-- Applied by 'projector migrate' and at every 'projector run' start: keep it idempotent.

CREATE TABLE IF NOT EXISTS order_detail (
    order_id        text PRIMARY KEY,
    customer_id     text NOT NULL,
    status          text NOT NULL CHECK (status IN ('CREATED', 'PAID', 'SHIPPED', 'CANCELLED')),
    total_amount    numeric(14, 2) NOT NULL,
    item_count      integer NOT NULL,          -- sum of the items' quantities
    items           jsonb NOT NULL,
    payment_id      text,
    tracking_number text,
    cancel_reason   text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL       -- occurredAt of the latest event applied
);

CREATE INDEX IF NOT EXISTS order_detail_customer_id ON order_detail (customer_id);

CREATE TABLE IF NOT EXISTS customer_summary (
    customer_id      text PRIMARY KEY,
    orders_created   bigint NOT NULL DEFAULT 0,
    orders_cancelled bigint NOT NULL DEFAULT 0,
    total_ordered    numeric(16, 2) NOT NULL DEFAULT 0, -- sum of totalAmount of created orders
    last_order_at    timestamptz                         -- latest OrderCreated occurredAt
);
