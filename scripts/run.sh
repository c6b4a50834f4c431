#!/usr/bin/env bash
# make run: the whole system on one machine. Uses the database that
# DATABASE_URL / DB_* name (flags, environment or ./.env, read by the
# programs themselves), else a private PostgreSQL (scripts/pg.sh); applies
# the schema; runs orders-relay and orders-api in the foreground. Ctrl-C
# stops all of them (and the private PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${ORDERS_BIN_DIR:-$PWD/build}

private_pg=0
rc=0
# exits 3, doing nothing, when no database is configured
"$bin/orders-api" migrate --if-configured || rc=$?
if [ "$rc" -eq 3 ]; then
	scripts/pg.sh start >/dev/null
	private_pg=1
	DATABASE_URL=$(scripts/pg.sh url)
	export DATABASE_URL
	echo "run: private PostgreSQL on 127.0.0.1:$(scripts/pg.sh port) (data in $(scripts/pg.sh where)/data)"
	"$bin/orders-api" migrate
elif [ "$rc" -ne 0 ]; then
	exit "$rc"
fi

pids=()
cleanup() {
	trap - INT TERM EXIT
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ $private_pg -eq 1 ]; then
		scripts/pg.sh stop
		echo "run: stopped PostgreSQL"
	fi
}
trap cleanup INT TERM EXIT

"$bin/orders-relay" &
pids+=($!)
"$bin/orders-api" &
pids+=($!)

echo "run: api and relay starting; each logs the address it listens on (web UI at the api's /)"
echo "run: Ctrl-C stops everything"
# Wait until any program exits (or Ctrl-C), then stop the rest.
wait -n "${pids[@]}" || true
