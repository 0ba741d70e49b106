/*
 * extension/sql/shared.sql
 *
 * The code every flavour shares: the chain's hash function,
 * verify_audit_log and the rotations view (shared_bind.sql binds the
 * flavour's functions: comments, grants, triggers).  SQL only, and
 * re-runnable: every object is created with CREATE OR REPLACE, because
 * the upgrade scripts run this piece again.  See extension/Makefile for
 * how the pieces make the install and upgrade scripts; this file is the
 * one source of truth for these objects.  Like the other pieces it must
 * stay free of psql meta-commands and of pg_tle's dollar-quote
 * delimiters: "make pg_tle" checks (extension/pg_tle.sh).
 *
 * Every function that runs SQL fixes its search_path.
 */

-- ===================================================================
-- Part 1: shared by every flavour
-- ===================================================================

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
CREATE OR REPLACE FUNCTION rotate.audit_row_hash(a rotate.audit_log)
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
CREATE OR REPLACE FUNCTION rotate.verify_audit_log(
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
CREATE OR REPLACE VIEW rotate.rotations AS
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
REVOKE ALL ON rotate.rotations FROM PUBLIC;
