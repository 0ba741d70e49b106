--
-- 02_policy: every rule of rotate.set_password and rotate.log_event, as
-- the low-privilege rotation role
--
-- the flavour under test (C or SQL-only); cases that need C are marked
-- with \if :c_flavour
\i test/sql/flavour.psql

\set v1 'SCRAM-SHA-256$4096:cmVncmVzcy1zYWx0LTAwMQ==$PwW+YYSFo3b0fEYlQZnxBTb2jNQW3DsrZueETaPdWkM=:ZTV6pCV4vRKdR29acqQUp2RwOBYOWxC4RiF9Xd1Kk6E='
\set v2 'SCRAM-SHA-256$4096:cmVncmVzcy1zYWx0LTAwMg==$DcvZfQtKRNWk7TFCi9EfbwDLPD/rCBWeFKPBiS3qpbI=:jbK+fH+eOQwpijld9b6/34+ZL4jzShr5bPY2sqAQEPw='
\set v_weak 'SCRAM-SHA-256$1000:cmVncmVzcy1zYWx0LTAwMw==$iCBKzz1HevoQU5OVljN8D1Q/+4yHdDl1/OsPB3JATWs=:kP5eHbPtsKl9Upfq5bET9fnBEkgM+3a9tAQoLZmm75g='

SET SESSION AUTHORIZATION regress_rotator;

-- the rotation role has no other privilege
SELECT count(*) FROM rotate.managed_role;
INSERT INTO rotate.audit_log (id, logged_at, actor, event, prev_hash, row_hash)
VALUES (1000, now(), 'x', 'denied', repeat('0', 64), repeat('0', 64));
\if :c_flavour
-- needs C: the preloaded hook refuses and records it
ALTER ROLE regress_app PASSWORD 'x';
\endif

-- success: returns the audit row id
SELECT rotate.set_password('regress_app', :'v1', 'arn:secret:app', 'v-0001') > 0 AS set;
RESET SESSION AUTHORIZATION;
SELECT rolpassword = :'v1' AS stored_as_given FROM pg_authid WHERE rolname = 'regress_app';
SELECT * FROM public.regress_new_audit();
SET SESSION AUTHORIZATION regress_rotator;

-- 22004: NULL arguments
SELECT rotate.set_password(NULL, :'v1');
SELECT rotate.set_password('regress_app', NULL);

-- 42704: no such role
SELECT rotate.set_password('regress_nobody', :'v1');

-- 42501: not on the allow-list
SELECT rotate.set_password('regress_unmanaged', :'v1');

-- 42501: protected roles, even when listed
SELECT rotate.set_password('regress_super', :'v1');
SELECT rotate.set_password('regress_repl', :'v1');
SELECT rotate.set_password('regress_bypass', :'v1');
SELECT rotate.set_password('regress_creator', :'v1');
SELECT rotate.set_password('pg_monitor', :'v1');

-- 42501: the caller itself (session user, then current user)
SELECT rotate.set_password('regress_rotator', :'v1');
RESET SESSION AUTHORIZATION;
GRANT regress_app2 TO regress_rotator;
GRANT USAGE ON SCHEMA rotate TO regress_app2;
GRANT EXECUTE ON FUNCTION rotate.set_password(name, text, text, text) TO regress_app2;
SET SESSION AUTHORIZATION regress_rotator;
SET ROLE regress_app2;
SELECT session_user, current_user;
SELECT rotate.set_password('regress_app2', :'v1');
RESET ROLE;
RESET SESSION AUTHORIZATION;
REVOKE EXECUTE ON FUNCTION rotate.set_password(name, text, text, text) FROM regress_app2;
REVOKE USAGE ON SCHEMA rotate FROM regress_app2;
REVOKE regress_app2 FROM regress_rotator;

-- 42501: the function's owner (made a listed superuser for the test)
SELECT r.rolname AS orig_owner FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner
 WHERE p.oid = 'rotate.set_password(name, text, text, text)'::regprocedure \gset
ALTER FUNCTION rotate.set_password(name, text, text, text) OWNER TO regress_super;
SET SESSION AUTHORIZATION regress_rotator;
SELECT rotate.set_password('regress_super', :'v1');
RESET SESSION AUTHORIZATION;

-- 55000: the owner is not a superuser
ALTER FUNCTION rotate.set_password(name, text, text, text) OWNER TO regress_owner;
SET SESSION AUTHORIZATION regress_rotator;
SELECT rotate.set_password('regress_app', :'v1');
RESET SESSION AUTHORIZATION;
ALTER FUNCTION rotate.set_password(name, text, text, text) OWNER TO :"orig_owner";

-- 22023: anything but a well-formed SCRAM-SHA-256 verifier
SET SESSION AUTHORIZATION regress_rotator;
SELECT rotate.set_password('regress_app', 'correct horse battery staple');
SELECT rotate.set_password('regress_app', '');
SELECT rotate.set_password('regress_app', 'md5' || md5('secretregress_app'));
SELECT rotate.set_password('regress_app', 'SCRAM-SHA-256$4096:c2FsdA==$YQ==:YQ==');
SELECT rotate.set_password('regress_app', 'SCRAM-SHA-256$4096:cmVncmVzcy1zYWx0LTAwMQ==$PwW+YYSFo3b0fEYlQZnxBTb2jNQW3DsrZueETaPdWkM=');
SELECT rotate.set_password('regress_app', :'v1' || ' ');
SELECT rotate.set_password('regress_app', :'v1' || '$x');
SELECT rotate.set_password('regress_app', 'SCRAM-SHA-256$x:cmVncmVzcy1zYWx0LTAwMQ==$PwW+YYSFo3b0fEYlQZnxBTb2jNQW3DsrZueETaPdWkM=:ZTV6pCV4vRKdR29acqQUp2RwOBYOWxC4RiF9Xd1Kk6E=');
SELECT rotate.set_password('regress_app', 'SCRAM-SHA-256$4096:$PwW+YYSFo3b0fEYlQZnxBTb2jNQW3DsrZueETaPdWkM=:ZTV6pCV4vRKdR29acqQUp2RwOBYOWxC4RiF9Xd1Kk6E=');
SELECT rotate.set_password('regress_app', 'scram-sha-256$4096:cmVncmVzcy1zYWx0LTAwMQ==$PwW+YYSFo3b0fEYlQZnxBTb2jNQW3DsrZueETaPdWkM=:ZTV6pCV4vRKdR29acqQUp2RwOBYOWxC4RiF9Xd1Kk6E=');
-- too few iterations
SELECT rotate.set_password('regress_app', :'v_weak');
-- the count as the server reads it: strtol() into an int, so a count it
-- would misread (4294967297 is stored and used as 1), a sign, a blank and
-- more than pg_rotate.max_iterations (100000) are refused
SELECT rotate.set_password('regress_app', replace(:'v1', '$4096:', '$4294967297:'));
SELECT rotate.set_password('regress_app', replace(:'v1', '$4096:', '$2147483648:'));
SELECT rotate.set_password('regress_app', replace(:'v1', '$4096:', '$2147483647:'));
SELECT rotate.set_password('regress_app', replace(:'v1', '$4096:', '$100001:'));
SELECT rotate.set_password('regress_app', replace(:'v1', '$4096:', '$12345678901:'));
SELECT rotate.set_password('regress_app', replace(:'v1', '$4096:', '$+4096:'));
SELECT rotate.set_password('regress_app', replace(:'v1', '$4096:', '$-4096:'));
SELECT rotate.set_password('regress_app', replace(:'v1', '$4096:', '$ 4096:'));
SELECT rotate.set_password('regress_app', replace(:'v1', '$4096:', '$4095:'));
-- at most 512 bytes (here: a long salt)
SELECT rotate.set_password('regress_app',
                           replace(:'v1', ':cmVn', ':' || repeat('QUFB', 120) || 'cmVn'));

-- none of these changed the password
RESET SESSION AUTHORIZATION;
SELECT rolpassword = :'v1' AS unchanged FROM pg_authid WHERE rolname = 'regress_app';

-- every refusal left a denied row (committed by the audit writer)
\if :c_flavour
SELECT * FROM public.regress_new_audit();
\else
\echo skipped: needs C (denied rows that survive the ERROR)
\endif

-- a denied row survives the caller's rollback
\if :c_flavour
SET SESSION AUTHORIZATION regress_rotator;
BEGIN;
SELECT rotate.set_password('regress_unmanaged', :'v2', 'arn:secret:x', 'v-rollback');
ROLLBACK;
BEGIN;
SAVEPOINT s;
SELECT rotate.set_password('regress_unmanaged', :'v2', 'arn:secret:x', 'v-savepoint');
ROLLBACK TO SAVEPOINT s;
COMMIT;
RESET SESSION AUTHORIZATION;
SELECT * FROM public.regress_new_audit();
\else
\echo skipped: needs C (denied rows that survive a rollback)
\endif

-- a successful change rolled back leaves neither password nor row
SET SESSION AUTHORIZATION regress_rotator;
BEGIN;
SELECT rotate.set_password('regress_app', :'v2', 'arn:secret:app', 'v-undone') > 0 AS set;
ROLLBACK;
RESET SESSION AUTHORIZATION;
SELECT rolpassword = :'v1' AS unchanged FROM pg_authid WHERE rolname = 'regress_app';
SELECT * FROM public.regress_new_audit();

-- A refusal after a successful call in the same transaction: that
-- transaction holds the chain lock, so the refusal cannot be committed
-- ahead of its uncommitted row (the chain would fork).  It is kept on disk
-- and chained once the transaction ends, by the audit writer or by the
-- next write, whichever takes the lock first: its row is listed below,
-- ahead of the next write's.  (The SQL-only flavour counts it instead.)
SET SESSION AUTHORIZATION regress_rotator;
BEGIN;
SELECT rotate.set_password('regress_app', :'v2', 'arn:secret:app', 'v-0002') > 0 AS set;
SELECT rotate.set_password('regress_unmanaged', :'v2');
ROLLBACK;
RESET SESSION AUTHORIZATION;

-- the later steps of a rotation: rotate.log_event
SET SESSION AUTHORIZATION regress_rotator;
SELECT rotate.set_password('regress_app', :'v2', 'arn:secret:app', 'v-0002') > 0 AS set;
SELECT rotate.log_event('regress_app', 'tested', 'arn:secret:app', 'v-0002') > 0 AS logged;
SELECT rotate.log_event('regress_app', 'finished', 'arn:secret:app', 'v-0002',
                        '{"lag_ms": 12.5, "tip": "abc"}') > 0 AS logged;
SELECT rotate.set_password('regress_app', :'v2', 'arn:secret:app', 'v-0003') > 0 AS set;
SELECT rotate.log_event('regress_app', 'rolled_back', 'arn:secret:app', 'v-0003',
                        '{"why": "test login failed"}') > 0 AS logged;
SELECT rotate.log_event('regress_app', 'failed', 'arn:secret:app', 'v-0004', NULL) > 0 AS logged;
-- every refusal of log_event is audited, as set_password's are
SELECT rotate.log_event('regress_app', 'password_set', 'arn:secret:app', 'v-0002');
SELECT rotate.log_event('regress_app', 'bogus', 'arn:secret:app', 'v-0002');
SELECT rotate.log_event(NULL, 'tested', 'arn:secret:app', 'v-0002');
SELECT rotate.log_event('regress_app', NULL, 'arn:secret:app', 'v-0002');
SELECT rotate.log_event('regress_nobody', 'tested', 'arn:secret:app', 'v-0002');
SELECT rotate.log_event('regress_unmanaged', 'tested', 'arn:secret:app', 'v-0002');
SELECT rotate.log_event('regress_app', 'tested', 'arn:secret:app', 'v-0002', '[1, 2]');
SELECT rotate.log_event('regress_app', 'tested', 'arn:secret:app', 'v-0002', '"x"');
-- tested, finished and rolled_back need the rotation's password_set row:
-- a refused attempt cannot be relabelled as a finished rotation
SELECT rotate.set_password('regress_unmanaged', :'v1', 'arn:secret:app', 'v-0005');
SELECT rotate.log_event('regress_app', 'finished', 'arn:secret:app', 'v-0005');
SELECT rotate.log_event('regress_unmanaged', 'finished', 'arn:secret:app', 'v-0005');
SELECT rotate.log_event('regress_app', 'tested', 'arn:secret:app', 'v-0004');
SELECT rotate.log_event('regress_app', 'rolled_back', 'arn:secret:app', NULL);
-- no field of an audit row may hold a verifier, its keys or an MD5 hash, in
-- any letter case; the refusal names the field, never the value, and the
-- denied row holds "<redacted>" in its place
SELECT rotate.log_event('regress_app', 'tested', 'arn:secret:app', 'v-0002',
                        jsonb_build_object('oops', :'v1'));
SELECT rotate.log_event('regress_app', 'tested', 'arn:secret:app', 'v-0002',
                        jsonb_build_object('oops', lower(:'v1')));
SELECT rotate.log_event('regress_app', 'tested', :'v1', 'v-0002');
SELECT rotate.log_event('regress_app', 'tested', 'arn:secret:app', lower(:'v1'));
SELECT rotate.log_event('regress_app', 'tested', 'arn:secret:app',
                        'MD5' || upper(md5('secretregress_app')));
SELECT rotate.log_event('regress_app', 'tested', 'arn:secret:app',
                        split_part(:'v1', '$', 3));
SELECT rotate.log_event('regress_app', :'v1', 'arn:secret:app', 'v-0002');
SELECT rotate.log_event(:'v1', 'tested', 'arn:secret:app', 'v-0002');
SELECT rotate.set_password('regress_app', :'v1', 'arn:secret:app', :'v1');
SELECT left(:'v1', 60) AS v1_app \gset
SET application_name = :'v1_app';
SELECT rotate.log_event('regress_app', 'tested', 'arn:secret:app', 'v-0002');
RESET application_name;
RESET SESSION AUTHORIZATION;
SELECT * FROM public.regress_new_audit();

-- pg_rotate.min_iterations can only be raised
\if :c_flavour
-- needs C: the setting's range (the SQL-only flavour ignores values below 4096)
SET pg_rotate.min_iterations = 1000;
\endif
SET pg_rotate.min_iterations = 10000;
SELECT rotate.set_password('regress_app', :'v2');
RESET pg_rotate.min_iterations;
SELECT * FROM public.regress_new_audit();

-- the bounds themselves are accepted; pg_rotate.max_iterations can be lowered
SET SESSION AUTHORIZATION regress_rotator;
SELECT rotate.set_password('regress_app', replace(:'v2', '$4096:', '$100000:')) > 0 AS set;
SELECT rotate.set_password('regress_app', replace(:'v2', '$4096:', '$0004096:')) > 0 AS set;
RESET SESSION AUTHORIZATION;
SET pg_rotate.max_iterations = 50000;
SELECT rotate.set_password('regress_app', replace(:'v2', '$4096:', '$100000:'));
RESET pg_rotate.max_iterations;

-- listing: an existing role that is not, and cannot become through any
-- membership, a role set_password refuses (test_extension_membership.py
-- tries each kind in each flavour)
INSERT INTO rotate.managed_role (role_name) VALUES ('regress_nobody');
INSERT INTO rotate.managed_role (role_name) VALUES ('pg_monitor');
UPDATE rotate.managed_role SET role_name = role_name WHERE role_name = 'regress_super';
CREATE ROLE regress_member LOGIN;
CREATE ROLE regress_middle;
GRANT regress_middle TO regress_member;
GRANT regress_super TO regress_middle;
INSERT INTO rotate.managed_role (role_name) VALUES ('regress_member');
REVOKE regress_super FROM regress_middle;
GRANT pg_write_server_files TO regress_middle;
INSERT INTO rotate.managed_role (role_name) VALUES ('regress_member');
REVOKE pg_write_server_files FROM regress_middle;
GRANT pg_monitor TO regress_middle;
INSERT INTO rotate.managed_role (role_name) VALUES ('regress_member');
\if :c_flavour
-- needs C: with the library preloaded the GRANT itself is refused
GRANT regress_super TO regress_middle;
\else
\echo skipped: needs C (a hook refuses the GRANT; here set_password does)
GRANT regress_super TO regress_middle;
SET SESSION AUTHORIZATION regress_rotator;
SELECT rotate.set_password('regress_member', :'v1');
RESET SESSION AUTHORIZATION;
REVOKE regress_super FROM regress_middle;
\endif
SELECT * FROM public.regress_new_audit();

-- the four protected roles leave the list (03_audit copies what is left)
DELETE FROM rotate.managed_role
 WHERE role_name IN ('regress_super', 'regress_repl', 'regress_bypass', 'regress_creator',
                     'regress_member');

SELECT * FROM rotate.verify_audit_log();
