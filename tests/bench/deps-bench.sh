#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Dependencies of the renderer comparison (tests/bench/compare-renderers.py),
# installed only when missing:
#   - Debian: weasyprint, python3-reportlab, python3-qrcode, python3-pil,
#     poppler-utils (pdftoppm, pdftocairo), zbar-tools (zbarimg: the harness
#     scans every tool's QR code); nodejs/npm only if node is absent.
#   - npm: pdfkit, pdf-lib, qrcode, fontkit, @pdf-lib/fontkit into
#     tests/bench/node (`npm ci`, from its package-lock.json).
#   - Typst: PyPI `typst` into a virtual environment (tests/bench/venv)
#     first; where PyPI is not reachable, npm
#     @myriaddreamin/typst-ts-node-compiler (Typst's compiler as a native
#     Node module) into tests/bench/node. compare-renderers.py runs the Node
#     peer (peer_typst.mjs); a venv alone is reported, not run.
# python3-pdfrw is not packaged in Debian 12, so ReportLab imports the
# background as a raster image (see peer_reportlab.py).
#
#   sh tests/bench/deps-bench.sh        (as root, or with sudo available)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
debs="weasyprint python3-reportlab python3-qrcode python3-pil poppler-utils zbar-tools"
command -v node >/dev/null 2>&1 || debs="$debs nodejs npm"

missing=""
for p in $debs; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "deps-bench: installing$missing" >&2
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
fi

cd "$here/node"
need_npm=0
for m in pdfkit pdf-lib qrcode fontkit @pdf-lib/fontkit; do
	[ -d "node_modules/$m" ] || need_npm=1
done
if [ "$need_npm" -eq 1 ]; then
	echo "deps-bench: npm ci in tests/bench/node" >&2
	if [ -f package-lock.json ]; then
		npm ci --no-audit --no-fund --loglevel=error
	else
		npm install --no-audit --no-fund --loglevel=error pdfkit pdf-lib qrcode fontkit \
			@pdf-lib/fontkit
	fi
fi

# Typst: PyPI first, npm when PyPI has no distribution for us.
typst_npm="@myriaddreamin/typst-ts-node-compiler@0.7.0"
if [ ! -d "$here/node/node_modules/@myriaddreamin/typst-ts-node-compiler" ]; then
	if [ ! -x "$here/venv/bin/python3" ] || ! "$here/venv/bin/python3" -c "import typst" 2>/dev/null; then
		echo "deps-bench: pip install typst into tests/bench/venv" >&2
		if python3 -m venv "$here/venv" >/dev/null 2>&1 &&
			"$here/venv/bin/pip" install --quiet typst; then
			echo "deps-bench: PyPI typst installed in tests/bench/venv" >&2
		else
			echo "deps-bench: PyPI typst not available; npm $typst_npm" >&2
		fi
	fi
	# the peer that compare-renderers.py runs is the Node one
	npm install --no-save --no-audit --no-fund --loglevel=error "$typst_npm"
fi
