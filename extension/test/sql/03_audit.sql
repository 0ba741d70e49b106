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

-- tampering with a row's contents is found (a superuser switching the
-- trigger off, as an attacker with that power could)
SELECT min(id) + 3 AS tampered FROM rotate.audit_log \gset
CREATE TEMP TABLE orig AS SELECT * FROM rotate.audit_log WHERE id = :tampered;
ALTER TABLE rotate.audit_log DISABLE TRIGGER audit_log_append_only;
UPDATE rotate.audit_log SET target = 'regress_other' WHERE id = :tampered;
SELECT ok, first_bad_id = :tampered AS found_it, problem FROM rotate.verify_audit_log();
-- ... and so is a rehashed row: the next row no longer links to it
UPDATE rotate.audit_log a SET row_hash = rotate.audit_row_hash(a) WHERE id = :tampered;
SELECT ok, first_bad_id = :tampered + 1 AS found_it, problem FROM rotate.verify_audit_log();
-- put it back: the chain verifies again
UPDATE rotate.audit_log a SET target = o.target, row_hash = o.row_hash
  FROM orig o WHERE a.id = o.id;
SELECT * FROM rotate.verify_audit_log();
-- a deleted row is found too
SELECT min(id) + 5 AS deleted FROM rotate.audit_log \gset
CREATE TEMP TABLE saved AS SELECT * FROM rotate.audit_log WHERE id = :deleted;
DELETE FROM rotate.audit_log WHERE id = :deleted;
SELECT ok, first_bad_id = :deleted + 1 AS found_it, problem FROM rotate.verify_audit_log();
INSERT INTO rotate.audit_log SELECT * FROM saved;
ALTER TABLE rotate.audit_log ENABLE ALWAYS TRIGGER audit_log_append_only;
SELECT * FROM rotate.verify_audit_log();

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
