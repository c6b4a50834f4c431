-- 001: the orders table and its updated_at trigger.
CREATE TABLE IF NOT EXISTS orders (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_name text NOT NULL CHECK (char_length(customer_name) BETWEEN 1 AND 200),
    product_name  text NOT NULL CHECK (char_length(product_name) BETWEEN 1 AND 200),
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'processing', 'shipped', 'delivered', 'cancelled')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- GET /api/orders?status=S pages newest first by id.
CREATE INDEX IF NOT EXISTS orders_status_id_idx ON orders (status, id DESC);

CREATE OR REPLACE FUNCTION orders_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS orders_touch_updated_at ON orders;
CREATE TRIGGER orders_touch_updated_at
    BEFORE UPDATE ON orders
    FOR EACH ROW EXECUTE FUNCTION orders_touch_updated_at();
