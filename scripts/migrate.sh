#!/usr/bin/env bash
# Apply the schema: a thin wrapper around `orders-api migrate` (see
# orders-api(1)), which reads DATABASE_URL / DB_* from flags, the
# environment and ./.env itself, and finds schema/ next to itself. When none
# of them names a database (`migrate --if-configured` exits 3), the private
# cluster of scripts/pg.sh is used, as `make run` does. The program comes
# from $ORDERS_BIN_DIR (default: build/ of this checkout; `make setup-db`
# builds it first). Arguments are passed on (--schema-dir=DIR, ...).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
api=${ORDERS_BIN_DIR:-$here/build}/orders-api

if [ ! -x "$api" ]; then
	echo "migrate: no program at $api: run 'make' first (or set ORDERS_BIN_DIR)" >&2
	exit 1
fi

rc=0
"$api" migrate --if-configured "$@" || rc=$?
[ "$rc" -eq 3 ] || exit "$rc"

DATABASE_URL=$("$here/scripts/pg.sh" url)
export DATABASE_URL
exec "$api" migrate "$@"
