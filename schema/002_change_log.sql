-- 002: the durable change log. Every INSERT/UPDATE/DELETE on orders writes
-- one row here in the same transaction, numbered by a global sequence, and
-- wakes listeners with pg_notify. The relay treats the notification as a
-- wake-up only and reads this table, so nothing is lost to payload limits,
-- disconnects or restarts.
CREATE SEQUENCE IF NOT EXISTS order_changes_seq AS bigint;

CREATE TABLE IF NOT EXISTS order_changes (
    seq        bigint PRIMARY KEY,
    -- the writing transaction: the relay waits for in-progress ones before
    -- passing a gap in seq (see relay/README section in the top README).
    xid        xid8 NOT NULL,
    operation  text NOT NULL CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE')),
    order_id   bigint NOT NULL,
    status     text NOT NULL,
    old_status text,
    data       json NOT NULL,
    old        json,
    changed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX IF NOT EXISTS order_changes_changed_at_idx ON order_changes (changed_at);

-- What retention has pruned: a client asking for history at or below this
-- seq gets a resync.
CREATE TABLE IF NOT EXISTS order_changes_pruned (
    one            boolean PRIMARY KEY DEFAULT true CHECK (one),
    pruned_through bigint NOT NULL DEFAULT 0
);
INSERT INTO order_changes_pruned (one) VALUES (true) ON CONFLICT DO NOTHING;

CREATE OR REPLACE FUNCTION orders_log_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r     orders;
    x     xid8;
    s     bigint;
    d     json;
    o     json;
BEGIN
    IF TG_OP = 'DELETE' THEN
        r := OLD;
    ELSE
        r := NEW;
    END IF;
    -- The transaction id first, then the seq: a seq is always taken by a
    -- transaction that already has its id, which the relay relies on.
    x := pg_current_xact_id();
    s := nextval('order_changes_seq');
    d := json_build_object(
        'operation', TG_OP, 'id', r.id, 'customer_name', r.customer_name,
        'product_name', r.product_name, 'status', r.status,
        'created_at', r.created_at, 'updated_at', r.updated_at);
    IF TG_OP = 'UPDATE' THEN
        SELECT json_object_agg(k, v) INTO o FROM (
            SELECT 'customer_name' AS k, to_json(OLD.customer_name) AS v
                WHERE OLD.customer_name IS DISTINCT FROM NEW.customer_name
            UNION ALL SELECT 'product_name', to_json(OLD.product_name)
                WHERE OLD.product_name IS DISTINCT FROM NEW.product_name
            UNION ALL SELECT 'status', to_json(OLD.status)
                WHERE OLD.status IS DISTINCT FROM NEW.status) AS changed;
        IF o IS NULL THEN
            o := '{}'::json;
        END IF;
    END IF;
    INSERT INTO order_changes (seq, xid, operation, order_id, status, old_status, data, old)
    VALUES (s, x, TG_OP, r.id, r.status,
            CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, d, o);
    -- The original design's payload plus seq, so LISTEN in psql still works.
    PERFORM pg_notify('order_changes', json_build_object(
        'operation', TG_OP, 'id', r.id, 'customer_name', r.customer_name,
        'product_name', r.product_name, 'status', r.status,
        'updated_at', r.updated_at, 'seq', s)::text);
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS orders_log_change ON orders;
CREATE TRIGGER orders_log_change
    AFTER INSERT OR UPDATE OR DELETE ON orders
    FOR EACH ROW EXECUTE FUNCTION orders_log_change();
