#!/bin/bash
# Install what is needed, build, and run the whole test suite: the normal
# build (and its unit tests under valgrind), then the AddressSanitizer/UBSan
# build, then the fuzz targets for 30 s each (clang, libFuzzer). Prints "N passed, N failed"
# last (counted from meson's test logs). Usage: tests/scripts/test.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

tests/scripts/deps.sh || exit 1

run_suite() { # builddir, extra meson setup args..., -- meson test args...
	local dir=$1
	shift
	local setup_args=() test_args=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do setup_args+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	test_args=("$@")
	if [ -d "$dir" ]; then
		meson setup --reconfigure "$dir" "${setup_args[@]}" >/dev/null || return 1
	else
		meson setup "$dir" "${setup_args[@]}" >/dev/null || return 1
	fi
	meson compile -C "$dir" || return 1
	meson test -C "$dir" --print-errorlogs --num-processes 2 "${test_args[@]}"
}

status=0
rm -f build*/meson-logs/testlog*.json # count only this run's results
run_suite build -Dwerror=true -- --no-suite bench || status=1
# the unit tests again under valgrind (the setup leaves out the bus suites)
meson test -C build --setup=valgrind --print-errorlogs --num-processes 2 --no-suite bench || status=1
run_suite build-sanitize -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
	-- --setup=sanitize --no-suite bench || status=1

# The fuzz targets (tests/fuzz) under libFuzzer for CG_FUZZ_SECONDS (30) s
# each, in a clang build of their own; skipped without clang.
fuzz_dirs=()
if command -v clang >/dev/null 2>&1; then
	CC=clang run_suite build-fuzz -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false \
		-- --suite fuzz || status=1
	fuzz_dirs=("$root/build-fuzz")
fi

logs=("$root/build/meson-logs/testlog.json" "$root/build/meson-logs/testlog-valgrind.json"
	"$root/build-sanitize/meson-logs/testlog-sanitize.json")
for d in "${fuzz_dirs[@]}"; do logs+=("$d/meson-logs/testlog.json"); done
summary=$(/usr/bin/python3 - "${logs[@]}" <<'PY'
import json, os, sys
passed = failed = skipped = 0
for log in sys.argv[1:]:
    if not os.path.exists(log):
        continue
    for line in open(log):
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{skipped} skipped")
print(f"{passed} passed, {failed} failed")
PY
)
# the last line is the plain "N passed, N failed"; the skips go before it
case "$(tail -n 1 <<<"$summary")" in
"0 passed, 0 failed") status=1 ;;
*", 0 failed") ;;
*) status=1 ;;
esac
echo "$summary"
exit $status
