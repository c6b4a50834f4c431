#!/usr/bin/env bash
# Run libFuzzer harnesses; print one summary line, "fuzz: N passed, M failed".
#   scripts/run-fuzz.sh SECONDS build/fuzz/fuzz_<target>...
# Each fuzzes for SECONDS (0: only replays its corpus) starting from the
# seeds in tests/fuzz/corpus/<target>/, which it never writes: new inputs
# go to build/fuzz/corpus/<target>/, a crash to build/fuzz/crashes/<target>/
# (its log names the file; replay it with build/fuzz/fuzz_<target> FILE).
# tests/fuzz/<target>.dict is used when present. FUZZ_ARGS adds libFuzzer
# flags.
set -u
cd "$(dirname "$0")/.." || exit 2
secs=${1:?usage: $0 SECONDS FUZZER...}
shift
passed=0
failed=0
for bin in "$@"; do
	name=$(basename "$bin")
	t=${name#fuzz_}
	seeds=tests/fuzz/corpus/$t
	work=build/fuzz/corpus/$t
	crashes=build/fuzz/crashes/$t
	log=build/fuzz/logs/$t.log
	mkdir -p "$work" "$crashes" "$(dirname "$log")"
	args=(-timeout=10 -rss_limit_mb=1024 -print_final_stats=1 "-artifact_prefix=$crashes/")
	if [ "$secs" -gt 0 ]; then
		args+=("-max_total_time=$secs")
	else
		args+=(-runs=0)
	fi
	[ -f "tests/fuzz/$t.dict" ] && args+=("-dict=tests/fuzz/$t.dict")
	dirs=("$work")
	[ -d "$seeds" ] && dirs+=("$seeds")
	# shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
	if "$bin" "${args[@]}" ${FUZZ_ARGS:-} "${dirs[@]}" >"$log" 2>&1; then
		passed=$((passed + 1))
		runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log" | tail -n 1)
		if [ "$secs" -gt 0 ]; then
			echo "  FUZZ    $t: ${runs:-?} runs in ${secs}s" >&2
		else
			echo "  FUZZ    $t: corpus replayed (${runs:-?} inputs)" >&2
		fi
	else
		failed=$((failed + 1))
		tail -n 40 "$log" >&2
		echo "FAIL $name (log: $log; crash inputs: $crashes/)" >&2
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
