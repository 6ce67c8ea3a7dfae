#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Dependencies of the SSE fan-out benchmark (tests/bench/sse-fanout.py),
# installed only when missing: Debian's nginx and its nchan module
# (libnginx-mod-nchan), the reference fan-out server. The benchmark runs its
# own nginx in the foreground on a loopback port with a temporary config; the
# packaged service is neither needed nor started (where no policy-rc.d
# exists, one that refuses service starts is put in place for the install and
# removed afterwards).
#
#   sh tests/bench/deps-sse.sh        (as root, or with sudo available)
set -eu

debs="nginx libnginx-mod-nchan"

missing=""
for p in $debs; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -n "$missing" ] || exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "deps-sse: installing$missing" >&2
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
	$sudo chmod 755 "$policy"
	made_policy=1
fi
status=0
{
	$sudo apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
			--no-install-recommends $missing
} || status=$?
[ "$made_policy" -eq 0 ] || $sudo rm -f "$policy"
exit "$status"
