#!/usr/bin/env bash
# Run a command as root (for "make install"): directly, or through sudo
# without a password prompt; otherwise say what to run.
set -euo pipefail
if [ "$(id -u)" -eq 0 ]; then
	exec "$@"
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
	exec sudo "$@"
fi
echo "installing into PostgreSQL's directories needs root. Run this first:" >&2
echo "    sudo $*" >&2
exit 1
