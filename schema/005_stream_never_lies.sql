-- 005: writer locks for the gap rule, the epoch, TRUNCATE in the change log,
-- and a pinned sequence cache.
--
-- Writer locks. A hole in seq (a seq taken but not visible) may only be
-- passed once the transaction that took it has ended. Every transaction
-- that writes the change log therefore holds a shared transaction-level
-- advisory lock (class 727002) from before it takes its first seq until it
-- ends; the lock's key is the sequence's next value read just before, a
-- lower bound of every seq the transaction takes (low 32 bits). Any role
-- sees these locks in pg_locks, so readers compute the "writer floor"
-- (orders_writer_floor()): the smallest key still held, capped by the next
-- value of the sequence. A missing seq below a floor measured before a read
-- is final (committed and visible, or abandoned by a rollback); one at or
-- above it waits. Transactions that do
-- not write orders never hold the lock and never delay the stream, and a
-- prepared transaction cannot hold one (PREPARE refuses transactions that
-- called NOTIFY, which every writer does).
ALTER SEQUENCE order_changes_seq CACHE 1;

-- The epoch names one history of the change log (see the contract): new
-- with the log, renewed after a restore (SELECT orders_new_epoch(NULL)) or
-- when a relay sees seq go back.
CREATE TABLE IF NOT EXISTS order_changes_epoch (
    one        boolean PRIMARY KEY DEFAULT true CHECK (one),
    epoch      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO order_changes_epoch (one, epoch)
VALUES (true, replace(gen_random_uuid()::text, '-', ''))
ON CONFLICT DO NOTHING;

-- Renew the epoch. With `expected` set, only when it is still the current
-- one (two relays that see the same regression renew it once). What
-- retention pruned belongs to the old history: pruned_through comes down to
-- just below what the log holds now. Returns the epoch in force afterwards.
CREATE OR REPLACE FUNCTION orders_new_epoch(expected text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    renewed boolean;
BEGIN
    UPDATE order_changes_epoch
       SET epoch = replace(gen_random_uuid()::text, '-', ''), created_at = now()
     WHERE expected IS NULL OR epoch = expected;
    renewed := FOUND;
    IF renewed THEN
        UPDATE order_changes_pruned
           SET pruned_through = least(pruned_through,
                   coalesce((SELECT min(seq) - 1 FROM order_changes),
                            (SELECT last_value - CASE WHEN is_called THEN 0 ELSE 1 END
                               FROM order_changes_seq)));
    END IF;
    RETURN (SELECT epoch FROM order_changes_epoch);
END
$$;

-- TRUNCATE is a change with its own seq: no order id, no status.
ALTER TABLE order_changes ALTER COLUMN order_id DROP NOT NULL;
ALTER TABLE order_changes ALTER COLUMN status DROP NOT NULL;
ALTER TABLE order_changes DROP CONSTRAINT IF EXISTS order_changes_operation_check;
ALTER TABLE order_changes ADD CONSTRAINT order_changes_operation_check
    CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'));
-- Nobody reads the writer's xid any more (the writer lock replaced it).
ALTER TABLE order_changes ALTER COLUMN xid DROP NOT NULL;

-- Take the writer lock (once per transaction: orders.writer_xid remembers
-- the transaction that holds it; a rolled-back savepoint undoes both the
-- lock and the setting) and then the next seq. The setting is made at
-- session level because a function's SET clause undoes local settings on
-- exit; the xid in it makes a value left by an earlier transaction moot.
CREATE OR REPLACE FUNCTION orders_take_seq() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    me  text := pg_current_xact_id()::text;
    low bigint;
BEGIN
    IF current_setting('orders.writer_xid', true) IS DISTINCT FROM me THEN
        SELECT last_value + CASE WHEN is_called THEN 1 ELSE 0 END INTO low
          FROM order_changes_seq;
        PERFORM pg_advisory_xact_lock_shared(727002,
            ((low & 4294967295) - CASE WHEN (low & 4294967295) >= 2147483648
                                       THEN 4294967296 ELSE 0 END)::int);
        PERFORM set_config('orders.writer_xid', me, false);
    END IF;
    RETURN nextval('order_changes_seq');
END
$$;
REVOKE ALL ON FUNCTION orders_take_seq() FROM PUBLIC;
REVOKE ALL ON FUNCTION orders_new_epoch(text) FROM PUBLIC;

-- The writer floor: a seq below it is final (visible for good, or never).
-- It is the smallest key of a running writer, and at most the next value of
-- the sequence (a transaction that starts later takes seqs above that).
-- Call it in its own statement before the read it guards.
CREATE OR REPLACE FUNCTION orders_writer_floor() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT least(s.next,
                 min(s.r - ((s.r - l.objid::bigint) % 4294967296 + 4294967296) % 4294967296))
      FROM (SELECT last_value AS r,
                   last_value + CASE WHEN is_called THEN 1 ELSE 0 END AS next
              FROM order_changes_seq) s
      LEFT JOIN pg_locks l
        ON l.locktype = 'advisory' AND l.classid = 727002 AND l.objsubid = 2
       AND l.granted
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
     GROUP BY s.next;
$$;

CREATE OR REPLACE FUNCTION orders_log_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    r     orders;
    s     bigint;
    d     json;
    o     json;
BEGIN
    IF TG_OP = 'DELETE' THEN
        r := OLD;
    ELSE
        r := NEW;
    END IF;
    s := orders_take_seq();
    d := row_to_json(c) FROM (SELECT TG_OP AS operation, r.id, r.customer_name,
                                     r.product_name, r.status, r.created_at,
                                     r.updated_at) AS c;
    IF TG_OP = 'UPDATE' THEN
        -- the previous values of the changed fields only ({} when none)
        o := json_strip_nulls(row_to_json(c)) FROM (SELECT
            CASE WHEN OLD.customer_name IS DISTINCT FROM NEW.customer_name
                 THEN OLD.customer_name END AS customer_name,
            CASE WHEN OLD.product_name IS DISTINCT FROM NEW.product_name
                 THEN OLD.product_name END AS product_name,
            CASE WHEN OLD.status IS DISTINCT FROM NEW.status
                 THEN OLD.status END AS status) AS c;
    END IF;
    INSERT INTO order_changes (seq, operation, order_id, status, old_status, data, old)
    VALUES (s, TG_OP, r.id, r.status,
            CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, d, o);
    -- The original design's payload plus seq, so LISTEN in psql still works.
    PERFORM pg_notify('order_changes', row_to_json(c)::text)
        FROM (SELECT TG_OP AS operation, r.id, r.customer_name, r.product_name,
                     r.status, r.updated_at, s AS seq) AS c;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION orders_log_truncate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    s bigint;
BEGIN
    s := orders_take_seq();
    INSERT INTO order_changes (seq, operation, data)
    VALUES (s, 'TRUNCATE', '{"operation":"TRUNCATE"}');
    PERFORM pg_notify('order_changes', '{"operation":"TRUNCATE","seq":' || s || '}');
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS orders_log_truncate ON orders;
CREATE TRIGGER orders_log_truncate
    AFTER TRUNCATE ON orders
    FOR EACH STATEMENT EXECUTE FUNCTION orders_log_truncate();

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'orders_app') THEN
        GRANT SELECT ON order_changes_epoch TO orders_app;
        GRANT SELECT ON SEQUENCE order_changes_seq TO orders_app;
        GRANT EXECUTE ON FUNCTION orders_new_epoch(text) TO orders_app;
        GRANT EXECUTE ON FUNCTION orders_writer_floor() TO orders_app;
    END IF;
END
$$;
