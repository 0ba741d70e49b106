--
-- 01_setup: the extension's objects, privileges and the test roles
--
-- pg_regress created the extension (--load-extension=pg_rotate); for the
-- SQL-only flavour the test harness did (VERSION 'X.Y-sql').
-- the flavour under test (C or SQL-only); cases that need C are marked
-- with \if :c_flavour
\i test/sql/flavour.psql

SELECT extname, extversion, nspname
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'pg_rotate';

-- the interface: names, SECURITY DEFINER, fixed search_path
SELECT p.oid::regprocedure AS function, p.prosecdef, p.proconfig,
       pg_catalog.has_function_privilege('public', p.oid, 'EXECUTE') AS public_exec
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'rotate'
 ORDER BY p.oid::regprocedure::text;

SELECT c.relname, c.relkind,
       NOT has_table_privilege('public', c.oid, 'SELECT') AS no_public_select
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'rotate' AND c.relkind IN ('r', 'v', 'S')
 ORDER BY 1;

-- registered for pg_dump
SELECT unnest(extconfig)::regclass AS config_dump
  FROM pg_extension WHERE extname = 'pg_rotate' ORDER BY 1;

-- no PUBLIC access to the schema
SELECT has_schema_privilege('public', 'rotate', 'USAGE') AS public_usage;

-- the test roles
CREATE ROLE regress_rotator LOGIN;           -- the rotation role: no CREATEROLE
CREATE ROLE regress_auditor;
CREATE ROLE regress_app LOGIN;
CREATE ROLE regress_app2 LOGIN;
CREATE ROLE regress_unmanaged LOGIN;
CREATE ROLE regress_super;                  -- given their attributes below
CREATE ROLE regress_repl;
CREATE ROLE regress_bypass;
CREATE ROLE regress_creator;
CREATE ROLE regress_owner;                  -- a non-superuser, for 55000

GRANT USAGE ON SCHEMA rotate TO regress_rotator;
GRANT EXECUTE ON FUNCTION rotate.set_password(name, text, text, text),
                          rotate.log_event(name, text, text, text, jsonb)
   TO regress_rotator;
GRANT USAGE ON SCHEMA rotate TO regress_auditor;
GRANT SELECT ON ALL TABLES IN SCHEMA rotate TO regress_auditor;

INSERT INTO rotate.managed_role (role_name, note) VALUES
	('regress_app', 'the application'),
	('regress_app2', NULL),
	('regress_super', 'listed by mistake'),
	('regress_repl', NULL),
	('regress_bypass', NULL),
	('regress_creator', NULL),
	('regress_rotator', NULL);

-- Listing refuses what set_password refuses (02_policy), and with the
-- library preloaded so does ALTER ROLE on a listed role; a superuser who
-- edits pg_authid gets past both.  So set_password checks at every call,
-- and these four are listed roles given, that way, what it refuses.
UPDATE pg_authid SET rolsuper = true WHERE rolname = 'regress_super';
UPDATE pg_authid SET rolreplication = true WHERE rolname = 'regress_repl';
UPDATE pg_authid SET rolbypassrls = true WHERE rolname = 'regress_bypass';
UPDATE pg_authid SET rolcreaterole = true WHERE rolname = 'regress_creator';

-- each listed role is marked as listed here, by OID
SELECT m.role_name, m.role_oid = r.oid AS oid_bound,
       s.setconfig @> ARRAY['pg_rotate.managed=on'] AS marked_here
  FROM rotate.managed_role m
  JOIN pg_roles r ON r.rolname = m.role_name
  LEFT JOIN pg_db_role_setting s
         ON s.setrole = r.oid
        AND s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
 ORDER BY 1;

-- test helpers: the audit rows written since the last call (without the
-- refusing backend's pid and the time of a refusal, which vary)
CREATE TABLE public.regress_mark (id bigint NOT NULL);
INSERT INTO public.regress_mark VALUES (0);
CREATE FUNCTION public.regress_new_audit()
RETURNS TABLE (actor name, target name, event text, secret_id text,
               version_id text, detail jsonb)
LANGUAGE sql AS $$
	WITH r AS (SELECT a.* FROM rotate.audit_log a, public.regress_mark m
	            WHERE a.id > m.id),
	     u AS (UPDATE public.regress_mark
	              SET id = coalesce((SELECT max(r.id) FROM r), regress_mark.id)
	           RETURNING 1)
	SELECT r.actor, r.target, r.event, r.secret_id, r.version_id,
	       r.detail - ARRAY['pid', 'refused_at']
	  FROM r, (SELECT count(*) FROM u) AS done
	 ORDER BY r.id
$$;

-- adding roles to the allow-list is audited
SELECT * FROM public.regress_new_audit();
SELECT * FROM rotate.verify_audit_log();
