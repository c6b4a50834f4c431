#!/usr/bin/env bash
# Apply the numbered migrations in schema/ that the database has not
# recorded yet, each in its own transaction, under an advisory lock so two
# runs cannot interleave. Connection: DATABASE_URL, else DB_HOST, DB_PORT,
# DB_NAME, DB_USER, DB_PASSWORD (environment, then ./.env), else the private
# cluster started by scripts/pg.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

if [ -f .env ]; then
	while IFS='=' read -r k v; do
		case "$k" in '' | \#*) continue ;; esac
		k=$(echo "$k" | tr -d ' ')
		v=${v%\"}; v=${v#\"}; v=${v%\'}; v=${v#\'}
		[ -z "${!k:-}" ] && export "$k=$v"
	done <.env
fi

if [ -z "${DATABASE_URL:-}" ]; then
	if [ -n "${DB_HOST:-}${DB_PORT:-}${DB_NAME:-}${DB_USER:-}${DB_PASSWORD:-}" ]; then
		export PGHOST=${DB_HOST:-localhost} PGPORT=${DB_PORT:-5432}
		export PGDATABASE=${DB_NAME:-realtime_orders} PGUSER=${DB_USER:-postgres}
		[ -n "${DB_PASSWORD:-}" ] && export PGPASSWORD=$DB_PASSWORD
		DATABASE_URL=""
	else
		DATABASE_URL=$("$here/scripts/pg.sh" url)
	fi
fi

export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

psql_run() {
	if [ -n "$DATABASE_URL" ]; then
		psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 "$@"
	else
		psql -X -q -v ON_ERROR_STOP=1 "$@"
	fi
}

psql_run -c "CREATE TABLE IF NOT EXISTS schema_migrations (
	version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"

applied=0
for f in "$here"/schema/[0-9]*.sql; do
	v=$(basename "$f" .sql)
	v=${v%%_*}
	done_already=$(psql_run -tAc "SELECT 1 FROM schema_migrations WHERE version = '$v'")
	[ "$done_already" = "1" ] && continue
	{
		echo "BEGIN;"
		echo "SELECT pg_advisory_xact_lock(727001);"
		cat "$f"
		echo "INSERT INTO schema_migrations (version) VALUES ('$v') ON CONFLICT DO NOTHING;"
		echo "COMMIT;"
	} | psql_run -o /dev/null -f -
	echo "migrate: applied $(basename "$f")" >&2
	applied=$((applied + 1))
done
[ "$applied" -eq 0 ] && echo "migrate: schema up to date" >&2
exit 0
