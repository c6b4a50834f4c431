"""Deployment against the database: the least-privilege role of
schema/004 (api and relay run under it in every integration test, see
conftest.py), and orders-relay obeying SIGTERM while it is still starting."""
import signal
import time

import psycopg2
import pytest

from conftest import Program, free_port, http_json


def app_conn(pg):
    conn = psycopg2.connect(pg.app_url)
    conn.autocommit = True
    return conn


def denied(pg, sql):
    conn = app_conn(pg)
    try:
        with conn.cursor() as cur:
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(sql)
    finally:
        conn.close()


def test_role_is_not_privileged(pg):
    row = pg.sql("SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls, rolcanlogin "
                 "FROM pg_roles WHERE rolname = 'orders_app'")
    assert row == [(False, False, False, False, True)]
    # the writer floor (schema/005) needs no view of other sessions' activity
    assert pg.sql("SELECT pg_has_role('orders_app', 'pg_read_all_stats', 'MEMBER')") == [(False,)]
    # the trigger writes the change log as its owner, not as the caller
    assert pg.sql("SELECT prosecdef FROM pg_proc WHERE proname = 'orders_log_change'") == [(True,)]


def test_role_writes_orders_and_reads_the_log(pg):
    conn = app_conn(pg)
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO orders (customer_name, product_name) VALUES ('r', 'p') "
                        "RETURNING id")
            oid = cur.fetchone()[0]
            cur.execute("UPDATE orders SET status = 'shipped' WHERE id = %s", (oid,))
            cur.execute("DELETE FROM orders WHERE id = %s", (oid,))
            cur.execute("SELECT operation FROM order_changes WHERE order_id = %s ORDER BY seq",
                        (oid,))
            assert [r[0] for r in cur.fetchall()] == ["INSERT", "UPDATE", "DELETE"]
            cur.execute("SELECT count(*) FROM schema_migrations")
            assert cur.fetchone()[0] >= 4
    finally:
        conn.close()


def test_role_refused_everything_else(pg):
    pg.sql("CREATE TABLE IF NOT EXISTS not_for_orders_app (a int)")
    denied(pg, "INSERT INTO not_for_orders_app VALUES (1)")
    denied(pg, "SELECT * FROM not_for_orders_app")
    denied(pg, "CREATE TABLE orders_app_table (a int)")
    denied(pg, "INSERT INTO order_changes (seq, xid, operation, order_id, status, data) "
               "VALUES (999999, '1', 'INSERT', 1, 'pending', '{}')")
    denied(pg, "UPDATE order_changes SET status = 'x'")
    denied(pg, "SELECT nextval('order_changes_seq')")
    denied(pg, "ALTER TABLE orders ADD COLUMN x int")
    denied(pg, "DROP TABLE orders")
    denied(pg, "TRUNCATE order_changes")
    denied(pg, "INSERT INTO schema_migrations (version) VALUES ('999')")
    denied(pg, "UPDATE order_changes_pruned SET one = true")
    pg.sql("DROP TABLE not_for_orders_app")


def test_migrations_run_twice_keep_the_grants(pg):
    pg.migrate()
    pg.migrate()
    denied(pg, "CREATE TABLE orders_app_table (a int)")
    assert pg.sql("SELECT has_table_privilege('orders_app', 'orders', 'INSERT')") == [(True,)]


def test_api_and_relay_run_as_the_role(api, pg):
    names = {r[0] for r in pg.sql("SELECT usename FROM pg_stat_activity "
                                  "WHERE application_name LIKE 'orders-api%'")}
    assert names == {"orders_app"}
    status, _, body = http_json("POST", api.base + "/api/orders",
                                {"customer_name": "role", "product_name": "test"})
    assert status == 201, body


def _relay(env):
    e = {"WS_PORT": str(free_port()), "HOST": "127.0.0.1", "LOG_LEVEL": "info"}
    e.update(env)
    return Program("orders-relay", env=e).start()


def _sigterm_ends_it(relay, what):
    time.sleep(1.0)
    assert relay.proc.poll() is None, f"relay exited early:\n{relay.stderr()}"
    t0 = time.monotonic()
    rc = relay.stop(sig=signal.SIGTERM, timeout=10)
    took = time.monotonic() - t0
    relay.assert_clean()
    assert took < 2.0, f"SIGTERM {what} took {took:.1f}s"
    assert rc == 0, relay.stderr()
    assert "stopped during start-up" in relay.stderr()


def test_relay_sigterm_while_database_unreachable():
    # nothing listens there: the relay is in its connect retry loop
    relay = _relay({"DATABASE_URL": f"postgresql://orders_app@127.0.0.1:{free_port()}/x"})
    _sigterm_ends_it(relay, "during the connect retries")
