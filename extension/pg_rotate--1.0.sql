/* extension/pg_rotate--1.0.sql: the released 1.0 script, frozen: never edit (see extension/Makefile) */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION pg_rotate" to load this file. \quit
/*
 * extension/sql/shared.sql
 *
 * The part of pg_rotate's install script that every flavour shares: the
 * tables, the chain's hash function, verify_audit_log, the rotations view
 * and the grants (shared_bind.sql has the rest: comments, grants and
 * triggers for the flavour's functions).  SQL only.  "make" builds the
 * install scripts from the pieces:
 *
 *	pg_rotate--1.0.sql		guard + shared + flavour_c + shared_bind
 *	pg_rotate--1.0-sql.sql	guard + shared + flavour_sql + shared_bind
 *	make pg_tle				shared + flavour_sql + shared_bind, for pg_tle
 *
 * so this file is the one source of truth for these objects.  Like the
 * other pieces it must stay free of psql meta-commands and of pg_tle's
 * dollar-quote delimiters: "make pg_tle" checks (extension/pg_tle.sh).
 *
 * Objects live in schema "rotate" (created by CREATE EXTENSION, owned by
 * the extension owner, no privileges for PUBLIC).  Every function that
 * runs SQL fixes its search_path.
 */

-- ===================================================================
-- Part 1: shared by every flavour
-- ===================================================================

-- The allow-list: only these roles may be rotated.  Changes are audited.
CREATE TABLE rotate.managed_role (
	role_name	name PRIMARY KEY,
	added_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	added_by	name NOT NULL DEFAULT SESSION_USER,
	note		text
);

COMMENT ON TABLE rotate.managed_role IS
	'roles whose passwords rotate.set_password may set (superuser-managed)';

/*
 * The audit log.  Append-only for everyone (triggers refuse UPDATE, DELETE
 * and TRUNCATE), hash-chained: row_hash is the SHA-256 of the row's
 * canonical serialization, which includes prev_hash, the row_hash of the
 * row before it (see rotate.audit_row_hash).  Writers hold a SHARE ROW
 * EXCLUSIVE lock on the table from before they draw the id until they
 * commit, so id order is chain order.  Never holds a password, a verifier
 * or anything derived from one.
 */
CREATE SEQUENCE rotate.audit_log_id_seq;

CREATE TABLE rotate.audit_log (
	id					bigint PRIMARY KEY,
	logged_at			timestamptz NOT NULL,
	actor				name NOT NULL,		-- the session user who called
	target				name,
	event				text NOT NULL CHECK (event IN (
							'password_set', 'denied', 'direct_change',
							'tested', 'finished', 'rolled_back', 'failed',
							'role_added', 'role_changed', 'role_removed')),
	secret_id			text,
	version_id			text,
	client_addr			inet,
	application_name	text,
	detail				jsonb NOT NULL DEFAULT '{}',
	prev_hash			text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
	row_hash			text NOT NULL CHECK (row_hash ~ '^[0-9a-f]{64}$')
);

ALTER SEQUENCE rotate.audit_log_id_seq OWNED BY rotate.audit_log.id;

CREATE INDEX audit_log_rotation_idx
	ON rotate.audit_log (secret_id, version_id) WHERE secret_id IS NOT NULL;
CREATE INDEX audit_log_target_idx ON rotate.audit_log (target);

COMMENT ON TABLE rotate.audit_log IS
	'append-only, hash-chained audit trail of pg_rotate';

-- pg_dump/pg_restore keep the allow-list and the audit trail.
SELECT pg_catalog.pg_extension_config_dump('rotate.managed_role', '');
SELECT pg_catalog.pg_extension_config_dump('rotate.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('rotate.audit_log_id_seq', '');

/*
 * rotate.audit_row_hash(row): the row_hash a row must carry.
 *
 * Canonical serialization, hashed as UTF-8:
 *   'pg_rotate.audit.v1' || E'\n', then for each field in the order below
 *   E'-\n' when it is NULL, else length(text) || ':' || text || E'\n'
 * with id in decimal, logged_at in UTC with microseconds, client_addr with
 * its mask (inet's text cast), detail as jsonb's canonical text.  The C
 * writer (extension/audit.c) produces exactly this; the SQL-only flavour's
 * writer (rotate.audit_append) calls this function.
 */
CREATE FUNCTION rotate.audit_row_hash(a rotate.audit_log)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT encode(sha256(convert_to(
		'pg_rotate.audit.v1' || E'\n' ||
		string_agg(CASE WHEN f.v IS NULL THEN E'-\n'
						ELSE length(f.v)::text || ':' || f.v || E'\n' END,
				   '' ORDER BY f.n),
		'UTF8')), 'hex')
	FROM unnest(ARRAY[
		a.id::text,
		to_char(a.logged_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
		a.actor::text,
		a.target::text,
		a.event,
		a.secret_id,
		a.version_id,
		a.client_addr::text,
		a.application_name,
		a.detail::text,
		a.prev_hash]) WITH ORDINALITY AS f(v, n)
$$;

/*
 * rotate.verify_audit_log(): recompute the chain.  ok is true when every
 * row's prev_hash is the row_hash of the row before it (64 zeros for the
 * first) and every row_hash matches the row; otherwise first_bad_id and
 * problem name the first row that does not.  A hash chain cannot show
 * that rows were cut from its end: keep the latest row_hash elsewhere
 * (the client logs it) to detect that.
 */
CREATE FUNCTION rotate.verify_audit_log(
	OUT ok boolean, OUT rows_checked bigint,
	OUT first_bad_id bigint, OUT problem text)
RETURNS record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	WITH chain AS (
		SELECT a.id, a.prev_hash, a.row_hash,
			   rotate.audit_row_hash(a) AS computed,
			   coalesce(lag(a.row_hash) OVER (ORDER BY a.id),
						repeat('0', 64)) AS expected_prev
		FROM rotate.audit_log a
	), bad AS (
		SELECT id,
			   CASE WHEN prev_hash IS DISTINCT FROM expected_prev
					THEN 'prev_hash does not match the row before it'
					ELSE 'row_hash does not match the row''s contents' END
				   AS problem
		FROM chain
		WHERE prev_hash IS DISTINCT FROM expected_prev
		   OR row_hash IS DISTINCT FROM computed
		ORDER BY id
		LIMIT 1
	)
	SELECT bad.id IS NULL,
		   (SELECT count(*) FROM rotate.audit_log),
		   bad.id,
		   bad.problem
	FROM (SELECT 1) AS one LEFT JOIN bad ON true
$$;

/*
 * rotate.rotations: one row per (secret_id, version_id).  lag is the time
 * between the password being set and the rotation being finished as the
 * database saw it; measured_lag_ms is what the client measured and
 * reported in the "finished" row's detail ("lag_ms").  outcome is the
 * latest of finished, rolled_back and failed; else denied (only refusals)
 * or in_progress.
 */
CREATE VIEW rotate.rotations AS
SELECT a.secret_id,
	   a.version_id,
	   (array_agg(a.target ORDER BY a.id DESC)
			FILTER (WHERE a.target IS NOT NULL))[1] AS target,
	   min(a.logged_at) FILTER (WHERE a.event = 'password_set') AS set_at,
	   max(a.logged_at) FILTER (WHERE a.event = 'tested') AS tested_at,
	   max(a.logged_at) FILTER (WHERE a.event = 'finished') AS finished_at,
	   max(a.logged_at) FILTER (WHERE a.event = 'finished')
		 - min(a.logged_at) FILTER (WHERE a.event = 'password_set') AS lag,
	   (array_agg(CASE WHEN a.detail->>'lag_ms' ~ '^[0-9]{1,15}(\.[0-9]{1,6})?$'
					   THEN (a.detail->>'lag_ms')::numeric END ORDER BY a.id DESC)
			FILTER (WHERE a.event = 'finished'))[1] AS measured_lag_ms,
	   coalesce((array_agg(a.event ORDER BY a.id DESC)
					FILTER (WHERE a.event IN ('finished', 'rolled_back', 'failed')))[1],
				CASE WHEN bool_and(a.event = 'denied') THEN 'denied'
					 ELSE 'in_progress' END) AS outcome,
	   count(*) FILTER (WHERE a.event = 'denied') AS denials
FROM rotate.audit_log a
WHERE a.secret_id IS NOT NULL AND a.version_id IS NOT NULL
GROUP BY a.secret_id, a.version_id;

COMMENT ON VIEW rotate.rotations IS
	'one row per rotation (secret_id, version_id): set, tested, finished, lag, outcome';

-- Nothing for PUBLIC: a DBA grants USAGE on the schema and what each role needs.
REVOKE ALL ON rotate.managed_role, rotate.audit_log, rotate.rotations FROM PUBLIC;
REVOKE ALL ON SEQUENCE rotate.audit_log_id_seq FROM PUBLIC;

-- ===================================================================
-- Part 2, C flavour: the functions are in the shared library
-- (extension/*.c); shared_bind.sql comments, grants and binds them
-- ===================================================================

CREATE FUNCTION rotate.set_password(
	target name, verifier text,
	secret_id text DEFAULT NULL, version_id text DEFAULT NULL)
RETURNS bigint
LANGUAGE C VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pg_rotate_set_password';

CREATE FUNCTION rotate.log_event(
	target name, event text, secret_id text, version_id text,
	detail jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE C VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pg_rotate_log_event';

CREATE FUNCTION rotate.audit_log_append_only()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'pg_rotate_audit_log_append_only';

CREATE FUNCTION rotate.managed_role_audit()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'pg_rotate_managed_role_audit';

-- ===================================================================
-- Part 3: shared by every flavour: what the flavour's functions are
-- for, who may run them, and the triggers that use them
-- ===================================================================

COMMENT ON FUNCTION rotate.set_password(name, text, text, text) IS
	'set an allow-listed role''s password to a SCRAM-SHA-256 verifier; returns the audit row id';
COMMENT ON FUNCTION rotate.log_event(name, text, text, text, jsonb) IS
	'record a later rotation step (tested, finished, rolled_back, failed); returns the audit row id';

REVOKE ALL ON FUNCTION rotate.set_password(name, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION rotate.log_event(name, text, text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION rotate.audit_log_append_only() FROM PUBLIC;
REVOKE ALL ON FUNCTION rotate.managed_role_audit() FROM PUBLIC;

CREATE TRIGGER audit_log_append_only
	BEFORE UPDATE OR DELETE ON rotate.audit_log
	FOR EACH ROW EXECUTE FUNCTION rotate.audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate
	BEFORE TRUNCATE ON rotate.audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION rotate.audit_log_append_only();
-- ALWAYS: session_replication_role = replica does not switch them off
ALTER TABLE rotate.audit_log ENABLE ALWAYS TRIGGER audit_log_append_only;
ALTER TABLE rotate.audit_log ENABLE ALWAYS TRIGGER audit_log_no_truncate;

CREATE TRIGGER managed_role_audit
	AFTER INSERT OR UPDATE OR DELETE ON rotate.managed_role
	FOR EACH ROW EXECUTE FUNCTION rotate.managed_role_audit();
CREATE TRIGGER managed_role_audit_truncate
	AFTER TRUNCATE ON rotate.managed_role
	FOR EACH STATEMENT EXECUTE FUNCTION rotate.managed_role_audit();
