#!/bin/bash
# Install what is needed, build, and run the whole test suite: the normal
# build, then the AddressSanitizer/UBSan build, then the fuzz targets for 30 s
# each (clang, libFuzzer). Prints "N passed, N failed"
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
run_suite build -Dwerror=true -- --no-suite bench || status=1
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

summary=$(/usr/bin/python3 - "$root/build" "$root/build-sanitize" "${fuzz_dirs[@]}" <<'PY'
import json, os, sys
passed = failed = skipped = 0
for d in sys.argv[1:]:
    log = os.path.join(d, "meson-logs", "testlog-sanitize.json")
    if not os.path.exists(log):
        log = os.path.join(d, "meson-logs", "testlog.json")
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
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
)
case "$summary" in
"0 passed, 0 failed"*) status=1 ;;
*", 0 failed"*) ;;
*) status=1 ;;
esac
echo "$summary"
exit $status
