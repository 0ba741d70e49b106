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
 * that rows were cut from its end, nor that it was rewritten and
 * re-chained from some row on: keep rotate.audit_anchor() outside the
 * database and check against it with rotate.verify_audit_log(anchor).
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
 * rotate.audit_anchor(): the chain's tip as '<id>:<row_hash>' (NULL while
 * the log is empty), for keeping outside the database: the client records
 * it with each rotation.  Anyone may read it: it is a hash.
 */
CREATE OR REPLACE FUNCTION rotate.audit_anchor()
RETURNS text
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT a.id::text || ':' || a.row_hash
	FROM rotate.audit_log a
	ORDER BY a.id DESC
	LIMIT 1
$$;

/*
 * rotate.verify_audit_log(anchor): verify_audit_log(), and then that the
 * log still holds the anchor's row with the anchor's hash.  Since each
 * row's hash covers the one before it, that row's hash proves every row up
 * to it is exactly what it was when the anchor was taken; a log that was
 * cut before the anchor's row, rewritten and re-chained up to it, or
 * restarted by DROP EXTENSION and CREATE EXTENSION fails.  Rows after the
 * anchor's are only as good as the chain (a later anchor covers them).  A
 * NULL anchor is that of an empty log: every log extends it.  It reads the
 * log as its owner, so that the rotation role, which cannot read the log,
 * can check it: it says no more than whether the log matches.
 */
CREATE OR REPLACE FUNCTION rotate.verify_audit_log(
	anchor text,
	OUT ok boolean, OUT rows_checked bigint,
	OUT first_bad_id bigint, OUT problem text)
RETURNS record
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	parts		text[];
	anchor_id	bigint;
	stored		text;
	last_id		bigint;
BEGIN
	SELECT v.ok, v.rows_checked, v.first_bad_id, v.problem
	  INTO ok, rows_checked, first_bad_id, problem
	  FROM rotate.verify_audit_log() v;
	IF anchor IS NULL OR NOT ok THEN
		RETURN;
	END IF;

	parts := regexp_match(anchor, '^([0-9]{1,18}):([0-9a-f]{64})$');
	IF parts IS NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'invalid audit log anchor',
			DETAIL = 'An anchor is "<id>:<row_hash>", as rotate.audit_anchor() returns it.';
	END IF;
	anchor_id := parts[1]::bigint;

	SELECT a.row_hash INTO stored FROM rotate.audit_log a WHERE a.id = anchor_id;
	IF stored = parts[2] THEN
		RETURN;
	END IF;
	ok := false;
	first_bad_id := anchor_id;
	IF stored IS NOT NULL THEN
		problem := format('row %s no longer has the anchor''s hash: the log was rewritten and re-chained up to that row, or restarted (DROP EXTENSION and CREATE EXTENSION)',
						  anchor_id);
		RETURN;
	END IF;
	SELECT max(a.id) INTO last_id FROM rotate.audit_log a;
	IF last_id IS NULL OR last_id < anchor_id THEN
		problem := format('the log ends %s, before the anchor''s row %s: rows were removed from its end, or it was restarted (DROP EXTENSION and CREATE EXTENSION)',
						  coalesce('at row ' || last_id, 'before its first row'), anchor_id);
	ELSE
		problem := format('the anchor''s row %s is missing: the log was rewritten and re-chained',
						  anchor_id);
	END IF;
END
$$;

/*
 * rotate.audit_log_guard(): the function of the event triggers
 * pg_rotate_audit_log_guard (ddl_command_end) and
 * pg_rotate_audit_log_guard_drop (sql_drop), created by shared_bind.sql.
 * Outside the extension's own scripts it refuses DDL that could rewrite
 * history undetected in the database: on the tables, views and sequences
 * in the extension's schema and the extension's own (ALTER TABLE, ALTER
 * COLUMN ... TYPE, DISABLE TRIGGER, RENAME, SET SCHEMA, ...), on their
 * triggers, rules and policies (CREATE TRIGGER, DROP TRIGGER, CREATE RULE,
 * CREATE POLICY, ...), on the functions in the schema (CREATE OR REPLACE,
 * ALTER, DROP) but for set_password and log_event, whose owner a DBA may
 * need to change, on the schema itself (indexes may come and go), and any
 * ALTER EXTENSION pg_rotate that leaves an object of the schema, or a
 * guard trigger, outside the extension.  "The schema" is also any other
 * schema that holds the extension's functions or is the extension's own:
 * the SQL-only flavour's rotate_hook, whose password check lets
 * set_password's changes through and writes direct_change rows
 * (flavour_sql_passcheck.sql).  DROP EXTENSION pg_rotate stays
 * allowed: rotate.audit_anchor() kept outside detects the restarted log.
 * A superuser (or, on Amazon RDS, the master user, who owns the triggers)
 * can still switch the guard off; with the C library preloaded, the
 * ProcessUtility hook refuses that (extension/audit_guard.c), and only
 * editing the catalogs is left.
 */
CREATE OR REPLACE FUNCTION rotate.audit_log_guard()
RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	ext			oid;
	nsp			oid;
	nsps		oid[];
	nspnames	name[];
	what		text;
BEGIN
	SELECT e.oid, e.extnamespace INTO ext, nsp
	  FROM pg_extension e WHERE e.extname = 'pg_rotate';
	IF NOT FOUND OR TG_TAG = 'DROP EXTENSION' THEN
		RETURN;
	END IF;
	-- the extension's schema, its member schemas and its functions' schemas
	SELECT array_agg(n.oid), array_agg(n.nspname) INTO nsps, nspnames
	  FROM pg_namespace n
	 WHERE n.oid = nsp
		OR n.oid IN (SELECT CASE d.classid
								WHEN 'pg_namespace'::regclass THEN d.objid
								ELSE (SELECT p.pronamespace FROM pg_proc p
									   WHERE p.oid = d.objid) END
					   FROM pg_depend d
					  WHERE d.refclassid = 'pg_extension'::regclass
						AND d.refobjid = ext AND d.deptype = 'e'
						AND d.classid IN ('pg_namespace'::regclass, 'pg_proc'::regclass));

	IF TG_EVENT = 'sql_drop' THEN
		SELECT TG_TAG || ' ' || d.object_identity INTO what
		  FROM pg_event_trigger_dropped_objects() d
		 WHERE (d.address_names[1] = ANY (nspnames) AND d.object_type <> 'index')
			OR (d.object_type = 'schema' AND d.object_name = ANY (nspnames))
		 LIMIT 1;
	ELSE
		SELECT c.command_tag || ' ' || coalesce(c.object_identity, '') INTO what
		  FROM pg_event_trigger_ddl_commands() c
		 WHERE NOT c.in_extension
		   AND ((c.classid = 'pg_namespace'::regclass AND c.objid = ANY (nsps)
				 -- CREATE EXTENSION creates its schema outside the script
				 -- (not in_extension); it is listed here when another
				 -- event trigger was already in the database
				 AND c.command_tag <> 'CREATE SCHEMA')
				OR (c.classid = 'pg_class'::regclass AND c.objid IN (
						SELECT r.oid FROM pg_class r
						 WHERE r.relkind NOT IN ('i', 'I')
						   AND (r.relnamespace = ANY (nsps)
								OR EXISTS (SELECT FROM pg_depend d
											WHERE d.classid = 'pg_class'::regclass
											  AND d.objid = r.oid
											  AND d.refclassid = 'pg_extension'::regclass
											  AND d.refobjid = ext AND d.deptype = 'e'))))
				OR (c.classid = 'pg_trigger'::regclass AND EXISTS (
						SELECT FROM pg_trigger t JOIN pg_class r ON r.oid = t.tgrelid
						 WHERE t.oid = c.objid AND r.relnamespace = ANY (nsps)))
				OR (c.classid = 'pg_rewrite'::regclass AND EXISTS (
						SELECT FROM pg_rewrite w JOIN pg_class r ON r.oid = w.ev_class
						 WHERE w.oid = c.objid AND r.relnamespace = ANY (nsps)))
				OR (c.classid = 'pg_policy'::regclass AND EXISTS (
						SELECT FROM pg_policy p JOIN pg_class r ON r.oid = p.polrelid
						 WHERE p.oid = c.objid AND r.relnamespace = ANY (nsps)))
				OR (c.classid = 'pg_proc'::regclass AND EXISTS (
						SELECT FROM pg_proc p
						 WHERE p.oid = c.objid AND p.pronamespace = ANY (nsps)
						   AND p.proname NOT IN ('set_password', 'log_event')))
				OR (c.classid = 'pg_extension'::regclass AND c.objid = ext AND (
						EXISTS (SELECT FROM pg_class r
								 WHERE r.relnamespace = ANY (nsps) AND r.relkind NOT IN ('i', 'I')
								   AND NOT EXISTS (SELECT FROM pg_depend d
												WHERE d.classid = 'pg_class'::regclass
												  AND d.objid = r.oid
												  AND d.refobjid = ext AND d.deptype = 'e'))
						OR EXISTS (SELECT FROM pg_proc p
									WHERE p.pronamespace = ANY (nsps)
									  AND NOT EXISTS (SELECT FROM pg_depend d
												   WHERE d.classid = 'pg_proc'::regclass
													 AND d.objid = p.oid
													 AND d.refobjid = ext AND d.deptype = 'e'))
						OR (SELECT count(*) FROM pg_event_trigger g JOIN pg_depend d
								ON d.classid = 'pg_event_trigger'::regclass AND d.objid = g.oid
							   AND d.refobjid = ext AND d.deptype = 'e'
							 WHERE g.evtname IN ('pg_rotate_audit_log_guard',
												 'pg_rotate_audit_log_guard_drop')) < 2)))
		 LIMIT 1;
	END IF;

	IF what IS NOT NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'insufficient_privilege',
			MESSAGE = format('pg_rotate does not allow %s', what),
			DETAIL = 'The audit log''s tables, triggers and functions change only through the extension''s own scripts (ALTER EXTENSION pg_rotate UPDATE).',
			HINT = 'To remove pg_rotate with its audit log, dump rotate.audit_log first, then run DROP EXTENSION pg_rotate.';
	END IF;
END
$$;

/*
 * rotate.rotations: one row per (secret_id, version_id).  lag is the time
 * between the password being set and the rotation being finished as the
 * database saw it; measured_lag_ms is what the client measured and
 * reported in the "finished" row's detail ("lag_ms").  outcome is the
 * latest of finished, rolled_back and failed; else denied (refusals, and
 * the password never set) or in_progress.  tested, finished and rolled_back count only for a
 * target whose password was set in that rotation (rotate.log_event refuses
 * the others, but rows written before 1.1 or inserted by the log's owner
 * could still relabel a refused attempt).
 */
CREATE OR REPLACE VIEW rotate.rotations AS
SELECT a.secret_id,
	   a.version_id,
	   (array_agg(a.target ORDER BY a.id DESC)
			FILTER (WHERE a.target IS NOT NULL))[1] AS target,
	   min(a.logged_at) FILTER (WHERE a.event = 'password_set') AS set_at,
	   max(a.logged_at) FILTER (WHERE a.event = 'tested' AND a.was_set) AS tested_at,
	   max(a.logged_at) FILTER (WHERE a.event = 'finished' AND a.was_set) AS finished_at,
	   max(a.logged_at) FILTER (WHERE a.event = 'finished' AND a.was_set)
		 - min(a.logged_at) FILTER (WHERE a.event = 'password_set') AS lag,
	   (array_agg(CASE WHEN a.detail->>'lag_ms' ~ '^[0-9]{1,15}(\.[0-9]{1,6})?$'
					   THEN (a.detail->>'lag_ms')::numeric END ORDER BY a.id DESC)
			FILTER (WHERE a.event = 'finished' AND a.was_set))[1] AS measured_lag_ms,
	   coalesce((array_agg(a.event ORDER BY a.id DESC)
					FILTER (WHERE a.event = 'failed'
							   OR (a.event IN ('finished', 'rolled_back') AND a.was_set)))[1],
				CASE WHEN bool_or(a.event = 'denied') AND NOT bool_or(a.was_set)
					 THEN 'denied' ELSE 'in_progress' END) AS outcome,
	   count(*) FILTER (WHERE a.event = 'denied') AS denials
FROM (SELECT r.id, r.logged_at, r.target, r.event, r.secret_id, r.version_id,
			 r.detail,
			 bool_or(r.event = 'password_set')
				 OVER (PARTITION BY r.secret_id, r.version_id, r.target) AS was_set
		FROM rotate.audit_log r
	   WHERE r.secret_id IS NOT NULL AND r.version_id IS NOT NULL) a
GROUP BY a.secret_id, a.version_id;

COMMENT ON VIEW rotate.rotations IS
	'one row per rotation (secret_id, version_id): set, tested, finished, lag, outcome';

-- Nothing for PUBLIC: a DBA grants USAGE on the schema and what each role needs.
REVOKE ALL ON rotate.rotations FROM PUBLIC;
