-- 006: the notification carries the whole event, so the relay sends the
-- next seq at once instead of reading the change log first (the fast path:
-- see relay/listener.h and the README's relay section for why every stream
-- guarantee still holds). The log stays the truth: the relay reads it for
-- holes, events too large to notify, lost notifications, replays, restarts
-- and epoch changes.
--
-- Two channels:
--   order_changes   the original design's payload plus seq, as before (LISTEN
--                   in psql works), now cut down to operation, id, status and
--                   seq when a long name would pass NOTIFY's payload limit
--                   (which would fail the write).
--   <private>       the event for the relay, on a channel named by
--                   order_changes_notify.channel: a random name that only the
--                   owner and orders_app may read. NOTIFY needs no privilege,
--                   so on a public channel anyone who may connect could hand
--                   the relay a forged event; a forged payload on
--                   order_changes only ever costs the relay a log read.
--
-- The private payload, in exactly this form and order (the relay parses it
-- strictly and reads the log for anything else):
--   {"seq":S,"epoch":"E","changed_at":T,"operation":"OP","id":N|null,
--    "status":"s"|null,"old_status":"s"|null,"old":{...}|null,"data":{...}}
-- data and old are the change log's json text byte for byte, changed_at is
-- extract(epoch FROM changed_at) of the row, epoch the one in force when the
-- trigger ran. When that would not fit NOTIFY's limit:
--   {"seq":S,"epoch":"E","changed_at":T}      (the relay reads the row)
-- orders_new_epoch() sends {"epoch":"E"} on it when it renews the epoch, so a
-- relay reads the log before it trusts any later notification.
--
-- And a fix to 005's orders_writer_floor(): it must read the sequence before
-- the writer locks, but as one statement it did not. The sequence's tuple is
-- updated in place, and the join read its columns from the buffer only when
-- it formed the joined row, after it had scanned pg_locks: a writer that
-- took its lock after that scan and its seq before that read was counted in
-- the sequence's next value and missed in the locks, so its still-open seq
-- passed as a final hole (seen under concurrent writers with rollbacks: a
-- committed change skipped by the stream and by /api/changes). Two
-- statements, the sequence copied into variables first, keep the order.

CREATE TABLE IF NOT EXISTS order_changes_notify (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    channel text NOT NULL CHECK (channel ~ '^[a-z0-9_]{1,63}$')
);
INSERT INTO order_changes_notify (one, channel)
VALUES (true, 'order_changes_' || replace(gen_random_uuid()::text, '-', ''))
ON CONFLICT DO NOTHING;
REVOKE ALL ON order_changes_notify FROM PUBLIC;

CREATE OR REPLACE FUNCTION orders_writer_floor() RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    r   bigint;
    nxt bigint;
    low bigint;
BEGIN
    -- first the sequence, copied now...
    SELECT last_value, last_value + CASE WHEN is_called THEN 1 ELSE 0 END INTO r, nxt
      FROM order_changes_seq;
    -- ...then the writers' locks: a writer whose seq that value counts took
    -- its lock before it, so the lock is seen here unless it has ended
    SELECT min(r - ((r - l.objid::bigint) % 4294967296 + 4294967296) % 4294967296) INTO low
      FROM pg_locks l
     WHERE l.locktype = 'advisory' AND l.classid = 727002 AND l.objsubid = 2 AND l.granted
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database());
    RETURN least(nxt, low);
END
$$;

-- NOTIFY's payload must be shorter than BLCKSZ - NAMEDATALEN - 128 bytes
-- (8000 with the default build).
CREATE OR REPLACE FUNCTION orders_notify_limit() RETURNS int
LANGUAGE sql STABLE AS $$
    SELECT current_setting('block_size')::int
           - current_setting('max_identifier_length')::int - 1 - 128
$$;

-- The private payload of one change (the form above). Called by the
-- triggers only (it runs as their owner).
CREATE OR REPLACE FUNCTION orders_change_payload(s bigint, e text, at timestamptz, op text,
                                                 oid bigint, st text, old_st text, d json,
                                                 o json) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    head text := '{"seq":' || s || ',"epoch":' || to_json(e)::text
                 || ',"changed_at":' || extract(epoch FROM at);
    p    text;
BEGIN
    p := head || ',"operation":' || to_json(op)::text
         || ',"id":' || coalesce(oid::text, 'null')
         || ',"status":' || coalesce(to_json(st)::text, 'null')
         || ',"old_status":' || coalesce(to_json(old_st)::text, 'null')
         || ',"old":' || coalesce(o::text, 'null')
         || ',"data":' || d::text || '}';
    IF octet_length(p) < orders_notify_limit() THEN
        RETURN p;
    END IF;
    RETURN head || '}';
END
$$;
REVOKE ALL ON FUNCTION orders_notify_limit() FROM PUBLIC;
REVOKE ALL ON FUNCTION orders_change_payload(bigint, text, timestamptz, text, bigint, text,
                                             text, json, json) FROM PUBLIC;

-- As in 005, plus an explicit changed_at (the same value in the row and in
-- the notification), the size guard on the public payload and the private
-- notification.
CREATE OR REPLACE FUNCTION orders_log_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    r     orders;
    s     bigint;
    at    timestamptz;
    d     json;
    o     json;
    os    text;
    pub   text;
    ep    text;
    chan  text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        r := OLD;
    ELSE
        r := NEW;
    END IF;
    s := orders_take_seq();
    at := clock_timestamp();
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
        os := OLD.status;
    END IF;
    INSERT INTO order_changes (seq, operation, order_id, status, old_status, data, old,
                               changed_at)
    VALUES (s, TG_OP, r.id, r.status, os, d, o, at);
    -- The original design's payload plus seq, so LISTEN in psql still works.
    pub := row_to_json(c)::text
        FROM (SELECT TG_OP AS operation, r.id, r.customer_name, r.product_name,
                     r.status, r.updated_at, s AS seq) AS c;
    IF octet_length(pub) >= orders_notify_limit() THEN
        pub := row_to_json(c)::text
            FROM (SELECT TG_OP AS operation, r.id, r.status, s AS seq) AS c;
    END IF;
    PERFORM pg_notify('order_changes', pub);
    SELECT e.epoch, n.channel INTO ep, chan FROM order_changes_epoch e, order_changes_notify n;
    IF chan IS NOT NULL THEN
        PERFORM pg_notify(chan, orders_change_payload(s, ep, at, TG_OP, r.id, r.status, os,
                                                      d, o));
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION orders_log_truncate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    s    bigint;
    at   timestamptz;
    d    json := '{"operation":"TRUNCATE"}';
    ep   text;
    chan text;
BEGIN
    s := orders_take_seq();
    at := clock_timestamp();
    INSERT INTO order_changes (seq, operation, data, changed_at)
    VALUES (s, 'TRUNCATE', d, at);
    PERFORM pg_notify('order_changes', '{"operation":"TRUNCATE","seq":' || s || '}');
    SELECT e.epoch, n.channel INTO ep, chan FROM order_changes_epoch e, order_changes_notify n;
    IF chan IS NOT NULL THEN
        PERFORM pg_notify(chan, orders_change_payload(s, ep, at, 'TRUNCATE', NULL, NULL, NULL,
                                                      d, NULL));
    END IF;
    RETURN NULL;
END
$$;

-- As in 005, and tell the relays on the private channel.
CREATE OR REPLACE FUNCTION orders_new_epoch(expected text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    renewed boolean;
    now_epoch text;
    chan text;
BEGIN
    UPDATE order_changes_epoch
       SET epoch = replace(gen_random_uuid()::text, '-', ''), created_at = now()
     WHERE expected IS NULL OR epoch = expected;
    renewed := FOUND;
    now_epoch := (SELECT epoch FROM order_changes_epoch);
    IF renewed THEN
        UPDATE order_changes_pruned
           SET pruned_through = least(pruned_through,
                   coalesce((SELECT min(seq) - 1 FROM order_changes),
                            (SELECT last_value - CASE WHEN is_called THEN 0 ELSE 1 END
                               FROM order_changes_seq)));
        chan := (SELECT channel FROM order_changes_notify);
        IF chan IS NOT NULL THEN
            PERFORM pg_notify(chan, '{"epoch":' || to_json(now_epoch)::text || '}');
        END IF;
    END IF;
    RETURN now_epoch;
END
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'orders_app') THEN
        GRANT SELECT ON order_changes_notify TO orders_app;
    END IF;
END
$$;
