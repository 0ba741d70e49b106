#!/usr/bin/env bash
# The server-backed part of "make check": start one throwaway cluster, run
# pg_regress against it, then the pytest suite (which reuses it and starts
# its own moto_server). Everything started here is stopped on exit, even when
# a test fails. Exits non-zero if any part failed.
set -uo pipefail
cd "$(dirname "$0")/.."

PYTHON=/usr/bin/python3
workdir=$(mktemp -d /tmp/pg_rotate-check-XXXXXX)
state="$workdir/cluster.json"
export PYTHONPATH="$PWD/test${PYTHONPATH:+:$PYTHONPATH}"

cleanup() {
	"$PYTHON" -m harness.pgcluster stop --state "$state" || true
	rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

exports=$("$PYTHON" -m harness.pgcluster start --state "$state") || {
	echo "run-checks: could not start the test cluster" >&2
	exit 1
}
eval "$exports"
export PG_ROTATE_CLUSTER_STATE="$state"

failed=()

echo "== pg_regress (extension)"
make -s installcheck PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" || {
	failed+=(pg_regress)
	[ -f extension/test/out/regression.diffs ] && head -n 200 extension/test/out/regression.diffs
}

# Under SANITIZE=1 every report goes to a file, so a finding fails the run even
# when a test ignores the exit code of the process that made it.
sanlogs=
if [ "${SANITIZE:-0}" = 1 ]; then
	sanlogs="$workdir/sanitizer"
	mkdir -p "$sanlogs"
	chmod 1777 "$sanlogs"
	export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=23:log_path=$sanlogs/asan"
	export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=23:log_path=$sanlogs/ubsan"
fi

echo "== pytest"
"$PYTHON" -m pytest test/ ${PYTEST_ARGS:-} || failed+=(pytest)

if [ -n "$sanlogs" ] && [ -n "$(ls -A "$sanlogs")" ]; then
	echo "== sanitizer reports"
	cat "$sanlogs"/*
	failed+=(sanitizers)
fi

if [ "${#failed[@]}" -gt 0 ]; then
	echo "make check: FAILED: ${failed[*]}"
	exit 1
fi
echo "make check: all tests passed"
