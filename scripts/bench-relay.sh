#!/usr/bin/env bash
# The relay benchmark of issue 3: bench/wsload against orders-relay on a
# throwaway PostgreSQL, loopback only, through the three scenarios
#   N=1 000 clients,  E=100 changes/s
#   N=10 000 clients, E=10 changes/s
#   N=10 clients,     E=10 000 changes/s, 20 rows per transaction
# for BENCH_RELAY_SECONDS (default 15) each, a fresh relay per scenario (so
# its peak RSS is the scenario's), then one table. Bounded in time (each
# run is under `timeout`); stops what it started by PID.
# Exit: 0 when no scenario lost, duplicated or reordered a change, else 1.
# PostgreSQL runs with synchronous_commit=off: this measures the relay, not
# the disk (set PG_SYNC_COMMIT=on to include it).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${ORDERS_BIN_DIR:-$PWD/build}
secs=${BENCH_RELAY_SECONDS:-15}
relay=$bin/orders-relay
wsload=$bin/bench/wsload
for f in "$relay" "$wsload"; do
	[ -x "$f" ] || { echo "bench-relay: $f not built (make)" >&2; exit 1; }
done

tmp=$(mktemp -d)
chmod 755 "$tmp" # the postgres user must reach $tmp/pg
relay_pid=""
# shellcheck disable=SC2317 # called from traps
stop_relay() {
	[ -n "$relay_pid" ] || return 0
	kill -TERM "$relay_pid" 2>/dev/null || true
	for _ in $(seq 1 50); do
		kill -0 "$relay_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$relay_pid" 2>/dev/null || true
	wait "$relay_pid" 2>/dev/null || true
	relay_pid=""
}
# shellcheck disable=SC2317
cleanup() {
	stop_relay
	scripts/pg.sh stop "$tmp/pg" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 10 000 clients need 10 000 descriptors in the relay and in wsload.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 10100 ]; then
	echo "bench-relay: warning: open-file limit $(ulimit -n) is below 10 100" >&2
fi

PG_SYNC_COMMIT=${PG_SYNC_COMMIT:-off} scripts/pg.sh start "$tmp/pg" >/dev/null
export DATABASE_URL
DATABASE_URL=$(scripts/pg.sh url "$tmp/pg")
scripts/migrate.sh 2>/dev/null

# Below the ephemeral range, where wsload's 10 000 client ports (and their
# TIME_WAIT) cannot be in the way.
free_port() {
	local low p
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range
	[ "$low" -gt 12000 ] || low=32768
	p=$((10000 + RANDOM % (low - 12000)))
	while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
	echo "$p"
}

start_relay() { # clients; sets relay_pid and port
	port=$(free_port)
	HOST=127.0.0.1 WS_PORT=$port LOG_LEVEL=warn MAX_CLIENTS=$(($1 + 100)) \
		"$relay" >>"$tmp/relay.log" 2>&1 &
	relay_pid=$!
	for _ in $(seq 1 100); do
		curl -sf -o /dev/null "http://127.0.0.1:$port/health" && return 0
		kill -0 "$relay_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "bench-relay: the relay did not start:" >&2
	tail -5 "$tmp/relay.log" >&2
	return 1
}

# A field of wsload's flat JSON line.
jget() {
	sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p" <<<"$1"
}

echo "bench-relay: wsload against orders-relay, ${secs} s per scenario ($(nproc) cores shared" \
	"by wsload, relay and PostgreSQL; synchronous_commit=${PG_SYNC_COMMIT:-off})"
# name clients rate rows p99-target-ms rss-target-MB
scenarios=(
	"N=1000,E=100/s 1000 100 1 50 -"
	"N=10000,E=10/s 10000 10 1 250 400"
	"N=10,E=10000/s,R=20 10 10000 20 100 -"
)
rows=()
failed=0
idx=0
for s in "${scenarios[@]}"; do
	idx=$((idx + 1))
	case " ${BENCH_RELAY_ONLY:-1 2 3} " in *" $idx "*) ;; *) continue ;; esac
	read -r name n rate r p99t rsst <<<"$s"
	start_relay "$n" || { failed=1; break; }
	echo "bench-relay: $name (relay pid $relay_pid, port $port)" >&2
	rc=0
	out=$(timeout -k 5 $((secs + 120)) "$wsload" --url "ws://127.0.0.1:$port/" \
		--db "$DATABASE_URL" --clients "$n" --rate "$rate" --seconds "$secs" \
		--rows-per-tx "$r" --relay-pid "$relay_pid" --connect-timeout 40s \
		--drain-timeout 10s --json 2>&1) || rc=$?
	stop_relay
	grep -v '^{' <<<"$out" | sed 's/^/  /' >&2
	j=$(grep '^{' <<<"$out" | tail -n 1 || true)
	if [ -z "$j" ]; then
		rows+=("$(printf '%-20s %s' "$name" "wsload failed (exit $rc)")")
		failed=1
		continue
	fi
	[ "$rc" -eq 0 ] || failed=1
	p99=$(jget "$j" p99_ms)
	rss=$(awk -v k="$(jget "$j" relay_hwm_kb)" 'BEGIN { printf "%.0f", k / 1024 }')
	us=$(jget "$j" relay_us_per_delivery)
	verdict=$(awk -v ok="$(jget "$j" ok)" -v p="$p99" -v pt="$p99t" -v m="$rss" -v mt="$rsst" \
		-v u="$us" 'BEGIN {
			v = ok == "true" ? "" : "LOSS ";
			if (p > pt) v = v "p99>" pt "ms ";
			if (mt != "-" && m > mt) v = v "rss>" mt "MB ";
			if (u > 3) v = v "cpu>3us";
			print v == "" ? "ok" : v }')
	rows+=("$(printf '%-20s %9s %9s %6s %4s %4s %8.1f %8.1f %8.1f %7s %7.2f %6s  %s' \
		"$name" "$(jget "$j" expected)" "$(jget "$j" received)" "$(jget "$j" missing)" \
		"$(jget "$j" duplicates)" "$(jget "$j" out_of_order)" "$(jget "$j" p50_ms)" \
		"$p99" "$(jget "$j" max_ms)" "$rss" "$us" "$(jget "$j" tool_cpu_pct)%" "$verdict")")
done

printf '\n%-20s %9s %9s %6s %4s %4s %8s %8s %8s %7s %7s %6s  %s\n' "scenario" "expected" \
	"received" "miss" "dup" "ooo" "p50 ms" "p99 ms" "max ms" "RSS MB" "us/dlv" "wsload" "targets"
for row in "${rows[@]}"; do
	echo "$row"
done
echo "(RSS: relay peak; us/dlv: relay CPU time per delivery; wsload: its CPU, % of one core;"
echo " targets: p99 50/250/100 ms, RSS 400 MB at N=10000, at most 3 us per delivery)"
exit "$failed"
