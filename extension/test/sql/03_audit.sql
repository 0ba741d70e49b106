--
-- 03_audit: append-only, the hash chain, tamper detection, the rotations
-- view, audited allow-list changes, read access for an auditor
--
-- the flavour under test (C or SQL-only); cases that need C are marked
-- with \if :c_flavour
\i test/sql/flavour.psql


-- append-only for everyone, the owner (a superuser) included
UPDATE rotate.audit_log SET actor = 'someone' WHERE id = (SELECT min(id) FROM rotate.audit_log);
DELETE FROM rotate.audit_log WHERE id = (SELECT max(id) FROM rotate.audit_log);
TRUNCATE rotate.audit_log;
-- ... also with triggers off for replication
SET session_replication_role = replica;
DELETE FROM rotate.audit_log;
RESET session_replication_role;

-- the C writer and the SQL definition of row_hash agree on every row
SELECT count(*) AS rows, bool_and(row_hash = rotate.audit_row_hash(a)) AS all_match
  FROM rotate.audit_log a;
SELECT * FROM rotate.verify_audit_log();

\if :c_flavour
-- needs C (denied rows): every one says which backend was refused, and when
SELECT bool_and(detail ? 'pid' AND detail ? 'refused_at') AS denials_say_who_and_when
  FROM rotate.audit_log WHERE event = 'denied';
\endif

-- DDL on the log, its triggers and its functions is refused, to a
-- superuser too (the guard's CONTEXT line is left out: it names a line)
\set SHOW_CONTEXT never
ALTER TABLE rotate.audit_log DISABLE TRIGGER audit_log_append_only;
ALTER TABLE rotate.audit_log ALTER COLUMN application_name TYPE varchar(8) USING 'someone';
ALTER TABLE rotate.audit_log RENAME TO audit_log_old;
CREATE FUNCTION public.regress_drop_row() RETURNS trigger LANGUAGE plpgsql
  AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER regress_drop_row BEFORE INSERT ON rotate.audit_log
  FOR EACH ROW EXECUTE FUNCTION public.regress_drop_row();
DROP TRIGGER audit_log_append_only ON rotate.audit_log;
CREATE RULE regress_no_insert AS ON INSERT TO rotate.audit_log DO INSTEAD NOTHING;
CREATE POLICY regress_hide ON rotate.audit_log USING (false);
CREATE OR REPLACE FUNCTION rotate.verify_audit_log(
	OUT ok boolean, OUT rows_checked bigint, OUT first_bad_id bigint, OUT problem text)
  LANGUAGE sql AS $$ SELECT true, 0::bigint, NULL::bigint, NULL::text $$;
ALTER FUNCTION rotate.audit_row_hash(rotate.audit_log) RENAME TO regress_hash;
ALTER EXTENSION pg_rotate DROP TABLE rotate.audit_log;
ALTER SEQUENCE rotate.unrecorded_refusal_seq RESTART;
ALTER SCHEMA rotate RENAME TO regress_rotate;
\if :c_flavour
-- needs C: the preloaded hook keeps the guard on
ALTER EVENT TRIGGER pg_rotate_audit_log_guard DISABLE;
DROP EVENT TRIGGER pg_rotate_audit_log_guard_drop;
ALTER EXTENSION pg_rotate DROP EVENT TRIGGER pg_rotate_audit_log_guard;
\endif
\set SHOW_CONTEXT :show_context
-- ... but not GRANT, nor CREATE INDEX or DROP INDEX
GRANT SELECT ON rotate.audit_log TO regress_auditor;
CREATE INDEX regress_idx ON rotate.audit_log (logged_at);
DROP INDEX rotate.regress_idx;

-- A superuser can still edit the catalogs: here it switches the guard off
-- and rewrites history.  The chain alone misses what follows; the anchor
-- kept outside the database does not.
SELECT rotate.audit_anchor() AS anchor \gset
SELECT :'anchor' ~ '^[0-9]+:[0-9a-f]{64}$' AS anchor_is_id_and_hash,
       split_part(:'anchor', ':', 1)::bigint = max(id) AS anchor_is_the_tip
  FROM rotate.audit_log;
SELECT * FROM rotate.verify_audit_log(:'anchor');
CREATE TABLE public.regress_log_copy AS SELECT * FROM rotate.audit_log;
UPDATE pg_catalog.pg_event_trigger SET evtenabled = 'D'
 WHERE evtname IN ('pg_rotate_audit_log_guard', 'pg_rotate_audit_log_guard_drop');
ALTER TABLE rotate.audit_log DISABLE TRIGGER audit_log_append_only;

-- a changed row is found by the chain ...
SELECT min(id) + 3 AS tampered FROM rotate.audit_log \gset
UPDATE rotate.audit_log SET target = 'regress_other' WHERE id = :tampered;
SELECT ok, first_bad_id = :tampered AS found_it, problem FROM rotate.verify_audit_log();
-- ... and so is a rehashed row: the next row no longer links to it
UPDATE rotate.audit_log a SET row_hash = rotate.audit_row_hash(a) WHERE id = :tampered;
SELECT ok, first_bad_id = :tampered + 1 AS found_it, problem FROM rotate.verify_audit_log();
-- ... but not a log re-chained from that row on: only the anchor finds it
CREATE FUNCTION public.regress_rechain() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	r		rotate.audit_log;
	prev	text;
BEGIN
	FOR r IN SELECT * FROM rotate.audit_log ORDER BY id LOOP
		r.prev_hash := coalesce(prev, r.prev_hash);
		r.row_hash := rotate.audit_row_hash(r);
		UPDATE rotate.audit_log SET prev_hash = r.prev_hash, row_hash = r.row_hash
		 WHERE id = r.id;
		prev := r.row_hash;
	END LOOP;
END
$$;
SELECT public.regress_rechain();
SELECT ok, problem FROM rotate.verify_audit_log();
SELECT ok, first_bad_id = split_part(:'anchor', ':', 1)::bigint AS at_anchor, problem
  FROM rotate.verify_audit_log(:'anchor');
-- the newest row deleted: the chain still verifies, the anchor does not
DELETE FROM rotate.audit_log;
INSERT INTO rotate.audit_log SELECT * FROM public.regress_log_copy;
SELECT * FROM rotate.verify_audit_log(:'anchor');
DELETE FROM rotate.audit_log WHERE id = (SELECT max(id) FROM rotate.audit_log);
SELECT ok, problem FROM rotate.verify_audit_log();
SELECT ok, first_bad_id = split_part(:'anchor', ':', 1)::bigint AS at_anchor,
       problem ~ '^the log ends at row [0-9]+, before the anchor''s row' AS ends_before
  FROM rotate.verify_audit_log(:'anchor');
-- a trigger that drops rows: the append fails instead of returning an id
-- that was never stored
CREATE TRIGGER regress_drop_row BEFORE INSERT ON rotate.audit_log
  FOR EACH ROW EXECUTE FUNCTION public.regress_drop_row();
SET SESSION AUTHORIZATION regress_rotator;
SELECT rotate.log_event('regress_app', 'failed', 'arn:secret:app', 'v-dropped');
RESET SESSION AUTHORIZATION;
DROP TRIGGER regress_drop_row ON rotate.audit_log;
-- put everything back: the log verifies against the anchor again
DELETE FROM rotate.audit_log;
INSERT INTO rotate.audit_log SELECT * FROM public.regress_log_copy;
ALTER TABLE rotate.audit_log ENABLE ALWAYS TRIGGER audit_log_append_only;
UPDATE pg_catalog.pg_event_trigger SET evtenabled = 'A'
 WHERE evtname IN ('pg_rotate_audit_log_guard', 'pg_rotate_audit_log_guard_drop');
DROP TABLE public.regress_log_copy;
DROP FUNCTION public.regress_rechain(), public.regress_drop_row();
SELECT * FROM rotate.verify_audit_log(:'anchor');
-- an anchor that is not '<id>:<row_hash>' is refused; NULL, the anchor of
-- an empty log, is extended by any log
\set SHOW_CONTEXT never
SELECT * FROM rotate.verify_audit_log('12:abc');
\set SHOW_CONTEXT :show_context
SELECT ok FROM rotate.verify_audit_log(NULL);
-- anyone may read the anchor (it is a hash) and check the log against it,
-- the rotation role too, which cannot read the log
SET SESSION AUTHORIZATION regress_rotator;
SELECT rotate.audit_anchor() = :'anchor' AS rotator_reads_anchor;
SELECT ok FROM rotate.verify_audit_log(:'anchor');
SELECT count(*) FROM rotate.audit_log;
RESET SESSION AUTHORIZATION;

-- one row per rotation
SELECT secret_id, version_id, target, set_at IS NOT NULL AS set,
       tested_at IS NOT NULL AS tested, finished_at IS NOT NULL AS finished,
       lag >= '0'::interval AS lag_ok, measured_lag_ms, outcome, denials
  FROM rotate.rotations ORDER BY secret_id, version_id;

-- changes to the allow-list are audited, in the same transaction
SELECT * FROM public.regress_new_audit();
UPDATE rotate.managed_role SET note = 'noted' WHERE role_name = 'regress_app2';
DELETE FROM rotate.managed_role WHERE role_name = 'regress_rotator';
BEGIN;
INSERT INTO rotate.managed_role (role_name) VALUES ('regress_unmanaged');
ROLLBACK;
CREATE TEMP TABLE keep AS SELECT * FROM rotate.managed_role;
TRUNCATE rotate.managed_role;
INSERT INTO rotate.managed_role SELECT * FROM keep;
SELECT * FROM public.regress_new_audit();

-- an auditor reads everything, changes nothing, cannot rotate
SET SESSION AUTHORIZATION regress_auditor;
SELECT count(*) > 0 AS can_read FROM rotate.audit_log;
SELECT count(*) > 0 AS can_read FROM rotate.rotations;
SELECT ok FROM rotate.verify_audit_log();
INSERT INTO rotate.managed_role (role_name) VALUES ('regress_unmanaged');
SELECT rotate.set_password('regress_app', 'x');
RESET SESSION AUTHORIZATION;

-- no audit row holds a verifier or a password
SELECT count(*) AS rows_with_secrets FROM rotate.audit_log
 WHERE detail::text LIKE '%SCRAM-SHA-256$%' OR detail::text LIKE '%md5%';
SELECT * FROM rotate.verify_audit_log();
