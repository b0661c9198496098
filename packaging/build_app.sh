#!/usr/bin/env bash
# Build the one-folder desktop app into dist/netwright and check that it starts.
set -euo pipefail
cd "$(dirname "$0")/.."
make install
.venv/bin/python -m pip install --quiet -c constraints.txt pyinstaller
.venv/bin/pyinstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller packaging/netwright.spec
QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/check_app.py dist/netwright/netwright
