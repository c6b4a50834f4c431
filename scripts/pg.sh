#!/usr/bin/env bash
# A private PostgreSQL cluster: loopback only, a free port, run as the
# 'postgres' user when we are root (PostgreSQL refuses to run as root).
#   scripts/pg.sh start [DIR]    initdb if needed, start, print the port
#   scripts/pg.sh stop [DIR]
#   scripts/pg.sh status [DIR]
#   scripts/pg.sh url [DIR]      print the libpq URL of the running cluster
#   scripts/pg.sh port [DIR]     print its port
#   scripts/pg.sh where [DIR]    print the folder that holds the cluster
# DIR defaults to .data/pg in the checkout. The database realtime_orders is
# created. As root, the server runs as 'postgres'; when that user cannot
# reach DIR (a checkout under /root, say), the cluster lives in the postgres
# user's home instead, in a folder named after DIR, and start says so.
# Only TCP on 127.0.0.1 is used (no Unix socket), so DIR may be long or
# hold spaces.
set -euo pipefail

cmd=${1:-status}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${2:-${PG_DIR:-$root/.data/pg}}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

bindir=""
for d in /usr/lib/postgresql/*/bin; do
	[ -x "$d/pg_ctl" ] && bindir=$d
done
if [ -z "$bindir" ]; then
	echo "pg: no PostgreSQL server found under /usr/lib/postgresql (install 'postgresql')" >&2
	exit 1
fi

as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# As root: the folder the postgres user can own and reach. DIR itself when
# it can; else a stable folder under the postgres user's home, one per DIR.
if [ "$(id -u)" -eq 0 ]; then
	if ! getent passwd postgres >/dev/null; then
		echo "pg: there is no 'postgres' user (install the 'postgresql' package)" >&2
		exit 1
	fi
	chown postgres: "$dir"
	if ! runuser -u postgres -- test -w "$dir" 2>/dev/null; then
		pghome=$(getent passwd postgres | cut -d: -f6)
		key=$(printf '%s' "$dir" | sha256sum | cut -c1-12)
		alt="$pghome/orders-clusters/$(basename "${dir%/.data/pg}")-$key"
		mkdir -p "$alt"
		chown postgres: "$pghome/orders-clusters" "$alt"
		if [ "$cmd" = start ] && [ ! -f "$alt/data/PG_VERSION" ]; then
			echo "pg: the postgres user cannot reach $dir (a parent folder is private), so the cluster lives in $alt" >&2
		fi
		printf '%s\n' "$alt" >"$dir/location"
		dir=$alt
	fi
fi

data=$dir/data
portfile=$dir/port

case "$cmd" in
start)
	if [ ! -f "$data/PG_VERSION" ]; then
		as_pg "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 \
			--locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
			cat "$dir/initdb.log" >&2
			exit 1
		}
	fi
	if [ -f "$portfile" ] && as_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		cat "$portfile"
		exit 0
	fi
	# Ports below Linux's ephemeral range (32768-60999), so an outgoing
	# connection cannot hold the one we pick; retry on a bind failure anyway.
	started=0
	for attempt in 1 2 3 4 5; do
		port=${PG_PORT:-}
		if [ -z "$port" ]; then
			port=$((20000 + RANDOM % 12000))
			while ! port_free "$port"; do port=$((port + 1)); done
		fi
		if as_pg "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start -o \
			"-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='' \
			 -c max_connections=300 -c max_prepared_transactions=8 -c fsync=${PG_FSYNC:-on} \
			 -c synchronous_commit=${PG_SYNC_COMMIT:-on}" >/dev/null; then
			started=1
			break
		fi
		[ -n "${PG_PORT:-}" ] && [ "$attempt" -ge 3 ] && break
		sleep 0.5
	done
	if [ $started -eq 0 ]; then
		tail -20 "$dir/server.log" >&2
		exit 1
	fi
	echo "$port" >"$portfile"
	if ! as_pg "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
		"SELECT 1 FROM pg_database WHERE datname = 'realtime_orders'" | grep -q 1; then
		as_pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres realtime_orders
	fi
	echo "$port"
	;;
stop)
	if [ -f "$data/PG_VERSION" ]; then
		as_pg "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
	fi
	rm -f "$portfile"
	;;
status)
	if [ -f "$portfile" ] && as_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		echo "running on 127.0.0.1:$(cat "$portfile") ($data)"
	else
		echo "not running ($data)"
		exit 3
	fi
	;;
url)
	[ -f "$portfile" ] || { echo "pg: not running" >&2; exit 1; }
	echo "postgresql://postgres@127.0.0.1:$(cat "$portfile")/realtime_orders"
	;;
port)
	[ -f "$portfile" ] || { echo "pg: not running" >&2; exit 1; }
	cat "$portfile"
	;;
where)
	echo "$dir"
	;;
*)
	echo "usage: $0 start|stop|status|url|port|where [DIR]" >&2
	exit 2
	;;
esac
