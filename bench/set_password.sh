#!/usr/bin/env bash
# set_password throughput next to a bare ALTER ROLE ... PASSWORD '<verifier>'
# (pgbench, 1 and 8 clients, same run, same server).  Prints both TPS and
# their ratio; the target is ratio >= 0.5.  A benchmark, not a test: it
# never fails on speed.
#
# Needs a running server with pg_rotate installable: PGHOST, PGPORT and
# PGUSER (a superuser) in the environment, as bench/run.sh sets them.
# Each client rotates its own role (bench_app_<client_id>): set_password as
# a low-privilege rotation role, ALTER ROLE as the superuser on roles that
# are not managed (so the baseline is PostgreSQL's own statement).
set -euo pipefail

BINDIR=${PG_BINDIR:-$(pg_config --bindir)}
DURATION=${BENCH_SECONDS:-10}
DB=pg_rotate_bench
CLIENTS_MAX=8
PY=/usr/bin/python3

work=$(mktemp -d /tmp/pg_rotate-bench-sp-XXXXXX)
chmod 755 "$work"
cleanup() {
	"$BINDIR/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
	for i in $(seq 0 $((CLIENTS_MAX - 1))); do
		"$BINDIR/psql" -X -q -d postgres -c "DROP ROLE IF EXISTS bench_app_$i, bench_plain_$i" >/dev/null 2>&1 || true
	done
	"$BINDIR/psql" -X -q -d postgres -c "DROP ROLE IF EXISTS bench_rotator" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

psql_q() { "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }

# A verifier for a random throwaway password, computed here (never sent).
verifier=$("$PY" - <<'PY'
import base64, hashlib, hmac, os
pw, salt = os.urandom(24), os.urandom(16)
s = hashlib.pbkdf2_hmac("sha256", pw, salt, 4096)
ck = hmac.new(s, b"Client Key", hashlib.sha256).digest()
b = lambda x: base64.b64encode(x).decode()
print(f"SCRAM-SHA-256$4096:{b(salt)}${b(hashlib.sha256(ck).digest())}:"
      f"{b(hmac.new(s, b'Server Key', hashlib.sha256).digest())}")
PY
)

psql_q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
{
	echo "CREATE EXTENSION pg_rotate;"
	echo "CREATE ROLE bench_rotator LOGIN;"
	echo "GRANT USAGE ON SCHEMA rotate TO bench_rotator;"
	echo "GRANT EXECUTE ON FUNCTION rotate.set_password(name, text, text, text) TO bench_rotator;"
	for i in $(seq 0 $((CLIENTS_MAX - 1))); do
		echo "CREATE ROLE bench_app_$i LOGIN; CREATE ROLE bench_plain_$i LOGIN;"
		echo "INSERT INTO rotate.managed_role (role_name) VALUES ('bench_app_$i');"
	done
} | psql_q -d "$DB" >/dev/null

# Script files, not argv, carry the verifier (pgbench substitutes :client_id).
umask 077
printf "SELECT rotate.set_password('bench_app_' || :client_id, '%s');\n" "$verifier" \
	>"$work/set_password.sql"
printf "ALTER ROLE bench_plain_:client_id PASSWORD '%s';\n" "$verifier" \
	>"$work/alter_role.sql"
chmod 644 "$work"/*.sql

tps() {	# tps <user> <script> <clients>
	"$BINDIR/pgbench" -n -M simple -U "$1" -c "$3" -j "$3" -T "$DURATION" \
		-f "$2" "$DB" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}

status=0
for clients in 1 8; do
	sp=$(tps bench_rotator "$work/set_password.sql" "$clients")
	ar=$(tps "$PGUSER" "$work/alter_role.sql" "$clients")
	if [ -z "$sp" ] || [ -z "$ar" ]; then
		echo "clients=$clients: pgbench failed" >&2
		status=1
		continue
	fi
	ratio=$(awk -v a="$sp" -v b="$ar" 'BEGIN { printf "%.2f", a / b }')
	printf "clients=%d  set_password: %.0f tps  bare ALTER ROLE: %.0f tps  ratio: %s (target >= 0.5)\n" \
		"$clients" "$sp" "$ar" "$ratio"
done
chk=$(psql_q -At -d "$DB" -c "SELECT ok FROM rotate.verify_audit_log()")
echo "audit chain after the run verifies: $chk"
exit $status
