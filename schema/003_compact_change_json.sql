-- 003: the change log's JSON and the notification payload in compact form
-- ({"id":1,...}), as the api writes orders, instead of json_build_object's
-- spaced-out text. Same keys, same order, same values.
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
    INSERT INTO order_changes (seq, xid, operation, order_id, status, old_status, data, old)
    VALUES (s, x, TG_OP, r.id, r.status,
            CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, d, o);
    -- The original design's payload plus seq, so LISTEN in psql still works.
    PERFORM pg_notify('order_changes', row_to_json(c)::text)
        FROM (SELECT TG_OP AS operation, r.id, r.customer_name, r.product_name,
                     r.status, r.updated_at, s AS seq) AS c;
    RETURN NULL;
END
$$;
