#!/usr/bin/env bash
# make demo: see test/demo.py.
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 test/demo.py
