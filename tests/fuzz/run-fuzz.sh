#!/bin/sh
# run-fuzz.sh FUZZER WORKDIR SEEDDIR DICT: run a libFuzzer target for
# CG_FUZZ_SECONDS (default 30) seconds, new inputs going to WORKDIR (never
# the source tree), and print its execs. Fails on any finding.
set -eu
fuzzer=$1 work=$2 seeds=$3 dict=$4
seconds=${CG_FUZZ_SECONDS:-30}
mkdir -p "$work" "$work/artifacts"
log="$work/fuzz.log"
status=0
"$fuzzer" -max_total_time="$seconds" -timeout=10 -error_exitcode=1 -timeout_exitcode=1 -rss_limit_mb=2048 -print_final_stats=1 \
	-dict="$dict" -artifact_prefix="$work/artifacts/" "$work" "$seeds" >"$log" 2>&1 || status=$?
tail -n 25 "$log"
grep -E '^Done [0-9]+ runs' "$log" || true
exit $status
