-- 004: orders_app, the least-privilege role for orders-api and orders-relay.
-- Migrations keep running as the schema's owner; the programs log in as
-- orders_app (set a password with ALTER ROLE orders_app PASSWORD '...').
-- What the programs truly need, and nothing else:
--   orders                 read and write (the api; SQL users alike)
--   order_changes          read (relay, /api/changes); delete (relay pruning)
--   order_changes_pruned   read; update pruned_through (relay pruning)
--   schema_migrations      read (the programs check the schema at start)
-- (005 adds the epoch, the sequence's position and the writer floor.)
-- The change-log trigger runs as its owner (SECURITY DEFINER), so the role
-- cannot insert into the change log or take seq numbers by itself: every
-- logged change comes from a real write to orders. A migration that
-- replaces orders_log_change() must keep SECURITY DEFINER and search_path.
--
-- Roles belong to the whole cluster: the role is created once and granted
-- on each database the migrations run in. A migrating user that may not
-- create roles (no CREATEROLE) skips this step with a notice; grant the
-- same by hand then.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'orders_app') THEN
        IF NOT (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
            RAISE NOTICE 'orders_app not created: % may not create roles', current_user;
            RETURN;
        END IF;
        CREATE ROLE orders_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
    END IF;
    REVOKE ALL ON ALL TABLES IN SCHEMA public FROM orders_app;
    REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM orders_app;
    REVOKE CREATE ON SCHEMA public FROM orders_app;
    GRANT USAGE ON SCHEMA public TO orders_app;
    GRANT SELECT, INSERT, UPDATE, DELETE ON orders TO orders_app;
    GRANT SELECT, DELETE ON order_changes TO orders_app;
    GRANT SELECT, UPDATE (pruned_through) ON order_changes_pruned TO orders_app;
    GRANT SELECT ON schema_migrations TO orders_app;
END
$$;

ALTER FUNCTION orders_log_change() SECURITY DEFINER SET search_path = pg_catalog, public;
