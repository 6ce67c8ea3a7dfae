#!/bin/bash
# Run certgen uninstalled on a private bus: see tests/scripts/private-bus.py.
#   tests/scripts/private-bus.sh                 # prints the environment, runs until Ctrl-C
#   tests/scripts/private-bus.sh -- certgenctl generate --data ada.json --output ada.pdf
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
PYTHONPATH="$here/.." exec /usr/bin/python3 "$here/private-bus.py" "$@"
