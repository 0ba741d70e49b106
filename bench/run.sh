#!/usr/bin/env bash
# make bench: start a throwaway cluster, then run every bench/*.sh against it
# (PGHOST/PGPORT/PGUSER exported). Benchmarks print figures; they never fail
# on speed. Everything started here is stopped on exit.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=/usr/bin/python3
workdir=$(mktemp -d /tmp/pg_rotate-bench-XXXXXX)
state="$workdir/cluster.json"
export PYTHONPATH="$PWD/test${PYTHONPATH:+:$PYTHONPATH}"
trap '"$PYTHON" -m harness.pgcluster stop --state "$state"; rm -rf "$workdir"' EXIT
eval "$("$PYTHON" -m harness.pgcluster start --state "$state")" || exit 1
export PG_ROTATE_CLUSTER_STATE="$state"
status=0
for b in bench/*.sh bench/*.py; do
	[ "$b" = bench/run.sh ] && continue
	echo "== $b"
	case "$b" in
	*.py) "$PYTHON" "$b" || status=1 ;;
	*) bash "$b" || status=1 ;;
	esac
done
exit $status
