#!/usr/bin/env bash
# make run: the whole system on one machine. Uses DATABASE_URL / DB_* when
# given (environment or ./.env), else a private PostgreSQL under ./.data;
# applies the schema; runs orders-relay and orders-api in the foreground.
# Ctrl-C stops all of them (and the private PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${ORDERS_BIN_DIR:-$PWD/build}

if [ -f .env ]; then
	while IFS='=' read -r k v; do
		case "$k" in '' | \#*) continue ;; esac
		k=$(echo "${k#export }" | tr -d ' ')
		v=${v%\"}; v=${v#\"}; v=${v%\'}; v=${v#\'}
		[ -z "${!k:-}" ] && export "$k=$v"
	done <.env
fi

private_pg=0
if [ -z "${DATABASE_URL:-}" ] && [ -z "${DB_HOST:-}${DB_PORT:-}${DB_NAME:-}${DB_USER:-}${DB_PASSWORD:-}" ]; then
	scripts/pg.sh start >/dev/null
	private_pg=1
	DATABASE_URL=$(scripts/pg.sh url)
	export DATABASE_URL
	echo "run: private PostgreSQL on 127.0.0.1:$(scripts/pg.sh port) (data in $(scripts/pg.sh where)/data)"
fi
scripts/migrate.sh

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

if [ -x "$bin/orders-relay" ]; then
	"$bin/orders-relay" &
	pids+=($!)
fi
"$bin/orders-api" &
pids+=($!)

host=${HOST:-127.0.0.1}
echo "run: api   http://$host:${PORT:-3000}/   (web UI, REST under /api)"
[ -x "$bin/orders-relay" ] && echo "run: relay ws://$host:${WS_PORT:-8080}/"
echo "run: Ctrl-C stops everything"
# Wait until any program exits (or Ctrl-C), then stop the rest.
wait -n "${pids[@]}" || true
