#!/bin/bash
# Install what is needed, build, and run a live demo generation on a private
# system bus (no system install, no running systemd). Usage: tests/scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
tests/scripts/deps.sh
[ -d build ] || meson setup build >/dev/null
meson compile -C build >/dev/null
PYTHONPATH=tests exec /usr/bin/python3 tests/scripts/demo.py build certgen-demo.pdf
