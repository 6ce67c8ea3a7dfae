#!/bin/bash
# Install the Debian 12 packages certgen needs to build, demo and test.
# Runs apt-get only when something is missing; needs root for that.
set -euo pipefail

packages=(
	build-essential pkg-config meson ninja-build
	libglib2.0-dev libglib2.0-dev-bin libsystemd-dev libjson-glib-dev libcsv-dev
	libpoppler-glib-dev libcairo2-dev libpango1.0-dev libqrencode-dev libsoup-3.0-dev
	libharfbuzz-dev zlib1g-dev
	dbus python3 python3-dbusmock python3-dbus python3-gi python3-prometheus-client
	poppler-utils tesseract-ocr tesseract-ocr-eng zbar-tools valgrind util-linux passwd
	fonts-dejavu-core fonts-noto-core fonts-noto-cjk
	scdoc libdbus-1-dev libsqlite3-dev libxml2-utils systemd polkitd libarchive-dev libqpdf-dev qpdf
	chromium nodejs
	clang libclang-rt-14-dev
	redis-server libhiredis-dev python3-redis
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm comes with nodesource's nodejs; Debian packages it apart.
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
	echo "Installing: ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps.sh: run as root (or install the packages above yourself)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Multi-host mode: XAUTOCLAIM needs Redis >= 6.2 (Debian 12 has 7.0).
redis_version=$(redis-server --version | sed -n 's/.* v=\([0-9]*\.[0-9]*\).*/\1/p')
if ! printf '6.2\n%s\n' "$redis_version" | sort -V -C; then
	echo "deps.sh: redis-server >= 6.2 is needed, found ${redis_version:-none}" >&2
	exit 1
fi

# Browser tests: playwright-core (drives Debian's chromium), pinned by
# tests/browser/package-lock.json to a release whose engines field accepts
# Debian 12's Node.js 18. Installed again when the installed copy is not the
# pinned one (a machine left with another version).
require_node_major=18
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt "$require_node_major" ]; then
	echo "deps.sh: Node.js >= $require_node_major is needed for the browser tests, found $(node --version 2>&1)" >&2
	exit 1
fi
browser_dir="$(dirname "$0")/../browser"
if [ -f "$browser_dir/package-lock.json" ]; then
	pinned=$(node -p 'require(process.argv[1]).packages["node_modules/playwright-core"].version' \
		"$(realpath "$browser_dir/package-lock.json")")
	installed=$(node -p 'require(process.argv[1]).version' \
		"$(realpath "$browser_dir")/node_modules/playwright-core/package.json" 2>/dev/null || true)
	if [ "$installed" != "$pinned" ]; then
		npm ci --prefix "$browser_dir" --no-audit --no-fund
	fi
	# the pinned release must accept this Node.js
	node -e '
		const [need, have] = [process.argv[1], process.versions.node];
		const min = (need.match(/>=\s*(\d+)/) || [0, 0])[1];
		if (Number(have.split(".")[0]) < Number(min)) {
			console.error(`deps.sh: playwright-core needs Node.js ${need}, this is ${have}`);
			process.exit(1);
		}' "$(node -p 'require(process.argv[1]).engines.node' \
		"$(realpath "$browser_dir")/node_modules/playwright-core/package.json")"
fi
