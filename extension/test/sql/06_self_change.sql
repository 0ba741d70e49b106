--
-- 06_self_change: a managed role cannot change its own password by any
-- path; a superuser can, audited as direct_change.  The C flavour's
-- preloaded hook enforces it; the SQL-only flavour's password check does
-- under pg_tle (06_self_change_2.out: refusals are counted, not rows;
-- PASSWORD NULL is not seen), and without pg_tle nothing does
-- (06_self_change_1.out: the attacks succeed)
--
-- the flavour under test (C or SQL-only); cases that need C are marked
-- with \if :c_flavour
\i test/sql/flavour.psql

\set v1 'SCRAM-SHA-256$4096:cmVncmVzcy1zYWx0LTAwMQ==$PwW+YYSFo3b0fEYlQZnxBTb2jNQW3DsrZueETaPdWkM=:ZTV6pCV4vRKdR29acqQUp2RwOBYOWxC4RiF9Xd1Kk6E='
\set v2 'SCRAM-SHA-256$4096:cmVncmVzcy1zYWx0LTAwMg==$DcvZfQtKRNWk7TFCi9EfbwDLPD/rCBWeFKPBiS3qpbI=:jbK+fH+eOQwpijld9b6/34+ZL4jzShr5bPY2sqAQEPw='

SELECT e->>'state' AS enforcement, e->>'mechanism' AS mechanism
  FROM rotate.enforcement() AS e;

ALTER ROLE regress_app PASSWORD :'v1';
SELECT * FROM public.regress_new_audit();

SET SESSION AUTHORIZATION regress_app;
ALTER ROLE regress_app PASSWORD 'my own choice';
ALTER USER regress_app WITH ENCRYPTED PASSWORD 'my own choice';
ALTER ROLE CURRENT_USER PASSWORD :'v2';
ALTER ROLE regress_app LOGIN PASSWORD 'x' VALID UNTIL 'infinity';
DO $$ BEGIN EXECUTE 'ALTER ROLE regress_app PASSWORD ''from plpgsql'''; END $$;
-- other changes are not this hook's business
ALTER ROLE regress_app SET work_mem = '8MB';
ALTER ROLE regress_app RESET work_mem;
RESET SESSION AUTHORIZATION;

-- a CREATEROLE role may not change it either
SET SESSION AUTHORIZATION regress_creator;
ALTER ROLE regress_app PASSWORD 'x';
ALTER ROLE regress_app CONNECTION LIMIT 5;
ALTER ROLE regress_app CONNECTION LIMIT -1;
RESET SESSION AUTHORIZATION;

-- an unmanaged role changes its own password as usual
SET SESSION AUTHORIZATION regress_unmanaged;
ALTER ROLE regress_unmanaged PASSWORD :'v2';
RESET SESSION AUTHORIZATION;

-- the password is still the superuser's
SELECT rolpassword = :'v1' AS unchanged FROM pg_authid WHERE rolname = 'regress_app';

-- PASSWORD NULL: PostgreSQL calls no password check hook for it, so only
-- the C flavour's hook sees it
SET SESSION AUTHORIZATION regress_app;
ALTER USER SESSION_USER PASSWORD NULL;
RESET SESSION AUTHORIZATION;
SELECT rolpassword IS NULL AS removed FROM pg_authid WHERE rolname = 'regress_app';

-- a superuser's direct change rolled back leaves no row
BEGIN;
ALTER ROLE regress_app PASSWORD :'v2';
ROLLBACK;
SELECT * FROM public.regress_new_audit();

-- the refusals above: the C flavour's are denied rows, listed above; the
-- password check's are counted, and the next write (this committed direct
-- change) records how many
ALTER ROLE regress_app PASSWORD :'v2';
SELECT * FROM public.regress_new_audit();
SELECT * FROM rotate.verify_audit_log();
