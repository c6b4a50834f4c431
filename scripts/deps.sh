#!/usr/bin/env bash
# Install the Debian packages orders needs, only those missing.
#   scripts/deps.sh [run|test|bench]   (default: test, which is the superset of run)
set -euo pipefail

profile=${1:-test}
# libssl-dev: orders-cli's https:// and wss:// (OpenSSL); ca-certificates:
# the system CA store it verifies servers against
run_pkgs=(gcc make pkg-config libpq-dev libcivetweb-dev libjson-c-dev libedit-dev libssl-dev
	ca-certificates postgresql postgresql-client)
# clang, libclang-rt-14-dev (libFuzzer) and llvm-14 (llvm-symbolizer, for
# readable crash stacks): the fuzzers of make test and make fuzz
test_pkgs=(python3 python3-pytest python3-websocket python3-psycopg2 python3-selenium
	chromium chromium-driver tmux valgrind nginx-light openssl curl
	clang libclang-rt-14-dev llvm-14)
bench_pkgs=(wrk postgresql-contrib)

case "$profile" in
run) want=("${run_pkgs[@]}") ;;
test) want=("${run_pkgs[@]}" "${test_pkgs[@]}") ;;
bench) want=("${run_pkgs[@]}" "${bench_pkgs[@]}") ;;
*) echo "usage: $0 [run|test|bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: missing packages: ${missing[*]} (no apt-get here: install them by hand)" >&2
	exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "deps: missing packages: ${missing[*]}; run as root or install sudo" >&2
		exit 1
	fi
	sudo=(sudo)
	echo "deps: installing ${missing[*]} with sudo (you may be asked for your password)" >&2
else
	echo "deps: installing ${missing[*]}" >&2
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >/dev/null
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed ${missing[*]}" >&2
# The tests start nginx on loopback ports of their own; Debian's package
# also starts its default site on port 80. Stop the service we brought in.
if [[ " ${missing[*]} " == *" nginx-light "* ]] && [ -d /run/systemd/system ]; then
	"${sudo[@]}" systemctl disable --now nginx >/dev/null 2>&1 || true
	echo "deps: stopped and disabled the nginx service the package started (the tests run their own)" >&2
fi
