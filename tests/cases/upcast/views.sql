CREATE TABLE IF NOT EXISTS order_read (order_id text PRIMARY KEY, customer_id text NOT NULL,
  total_amount numeric NOT NULL, currency text NOT NULL, line_count integer NOT NULL,
  quantity integer NOT NULL);
CREATE TABLE IF NOT EXISTS payment_read (order_id text PRIMARY KEY, amount numeric NOT NULL,
  method text NOT NULL);
