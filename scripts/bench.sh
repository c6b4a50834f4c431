#!/usr/bin/env bash
# make bench: throughput and latency of orders-api under wrk, read against
# what PostgreSQL itself allows (pgbench, same INSERT, same triggers, same
# number of connections), then the relay load scenarios when present.
# Everything runs on a throwaway PostgreSQL on loopback; bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=${ORDERS_BIN_DIR:-$root/build}
secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-50}
threads=${BENCH_THREADS:-2}

tmp=$(mktemp -d)
chmod 755 "$tmp" # the postgres user must reach $tmp/pg
api_pid=""
cleanup() {
	[ -n "$api_pid" ] && kill -TERM "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null
	scripts/pg.sh stop "$tmp/pg" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

scripts/pg.sh start "$tmp/pg" >/dev/null
export DATABASE_URL
DATABASE_URL=$(scripts/pg.sh url "$tmp/pg")
scripts/migrate.sh 2>/dev/null
pgbin=$(dirname "$(ls /usr/lib/postgresql/*/bin/pgbench | tail -n 1)")

port=$((20000 + RANDOM % 20000))
# WRITE_RATE_LIMIT=0: wrk POSTs from one address far past the default 100/s
LOG_LEVEL=warn PORT=$port WS_PORT=1 WRITE_RATE_LIMIT=0 DB_POOL_SIZE=${BENCH_POOL:-8} "$bin/orders-api" 2>"$tmp/api.log" &
api_pid=$!
for _ in $(seq 1 100); do
	curl -s -o /dev/null "http://127.0.0.1:$port/api/orders" && break
	sleep 0.1
done
base=http://127.0.0.1:$port

# 1 000 rows so that lists have 100 to return and ids exist.
psql "$DATABASE_URL" -q -c "INSERT INTO orders (customer_name, product_name)
	SELECT 'Customer ' || g, 'Product ' || g FROM generate_series(1, 1000) g" >/dev/null
id=$(psql "$DATABASE_URL" -tAc "SELECT max(id) FROM orders")

declare -A rps p50 p99
run_wrk() { # name, url, [script]
	local name=$1 url=$2 script=${3:-}
	local out
	out=$(wrk -t"$threads" -c"$conns" -d"${secs}s" --latency ${script:+-s "$script"} "$url")
	rps[$name]=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
	p50[$name]=$(awk '$1=="50%" {print $2}' <<<"$out")
	p99[$name]=$(awk '$1=="99%" {print $2}' <<<"$out")
	local non2xx
	non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
	[ -n "$non2xx" ] && echo "bench: warning: $name had $non2xx non-2xx responses" >&2
	return 0
}

echo "bench: wrk -t$threads -c$conns -d${secs}s against orders-api ($(nproc) cores, shared with PostgreSQL and wrk)"
run_wrk get_id "$base/api/orders/$id"
run_wrk list_100 "$base/api/orders?limit=100"
run_wrk post "$base/api/orders" bench/post.lua

kill -TERM "$api_pid" && wait "$api_pid" 2>/dev/null || true
api_pid=""

pg_out=$("$pgbin/pgbench" -n -c "$conns" -j "$threads" -T "$secs" -f bench/insert.sql "$DATABASE_URL" 2>&1)
pg_tps=$(awk '/^tps/ {print $3}' <<<"$pg_out" | tail -n 1)
pg_lat=$(awk '/latency average/ {print $4}' <<<"$pg_out")

printf '\n%-28s %12s %10s %10s\n' "measurement" "req/s" "p50" "p99"
printf '%-28s %12s %10s %10s\n' "GET /api/orders/:id" "${rps[get_id]}" "${p50[get_id]}" "${p99[get_id]}"
printf '%-28s %12s %10s %10s\n' "GET /api/orders (100 rows)" "${rps[list_100]}" "${p50[list_100]}" "${p99[list_100]}"
printf '%-28s %12s %10s %10s\n' "POST /api/orders" "${rps[post]}" "${p50[post]}" "${p99[post]}"
printf '%-28s %12s %10s %10s\n' "pgbench same INSERT (-c$conns)" "$pg_tps" "avg ${pg_lat}ms" "-"
awk -v a="${rps[post]}" -v b="$pg_tps" 'BEGIN { if (b > 0) printf "POST / pgbench: %.0f%%\n", 100 * a / b }'

if [ -x scripts/bench-relay.sh ] && [ -x "$bin/orders-relay" ] && [ -x "$bin/bench/wsload" ]; then
	echo
	ORDERS_BIN_DIR=$bin scripts/bench-relay.sh
fi
