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
	[ -f test/regress-out/regression.diffs ] && head -n 200 test/regress-out/regression.diffs
}

echo "== pytest"
"$PYTHON" -m pytest test/ ${PYTEST_ARGS:-} || failed+=(pytest)

if [ "${#failed[@]}" -gt 0 ]; then
	echo "make check: FAILED: ${failed[*]}"
	exit 1
fi
echo "make check: all tests passed"
