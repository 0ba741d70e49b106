--
-- 04_search_path: objects planted on the caller's search_path (a fake
-- allow-list, a fake audit table, a hijacking = operator, temp objects)
-- change nothing
--
-- the flavour under test (C or SQL-only); cases that need C are marked
-- with \if :c_flavour
\i test/sql/flavour.psql

\set v1 'SCRAM-SHA-256$4096:cmVncmVzcy1zYWx0LTAwMQ==$PwW+YYSFo3b0fEYlQZnxBTb2jNQW3DsrZueETaPdWkM=:ZTV6pCV4vRKdR29acqQUp2RwOBYOWxC4RiF9Xd1Kk6E='

CREATE SCHEMA regress_evil AUTHORIZATION regress_rotator;
GRANT TEMPORARY ON DATABASE contrib_regression TO regress_rotator;

SET SESSION AUTHORIZATION regress_rotator;
CREATE TABLE regress_evil.managed_role (role_name name);
INSERT INTO regress_evil.managed_role VALUES ('regress_unmanaged');
CREATE TABLE regress_evil.audit_log (id bigint, logged_at timestamptz,
	actor name, target name, event text, secret_id text, version_id text,
	client_addr inet, application_name text, detail jsonb, prev_hash text,
	row_hash text);
CREATE FUNCTION regress_evil.always_true(name, name) RETURNS boolean
	LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR regress_evil.= (LEFTARG = name, RIGHTARG = name,
	FUNCTION = regress_evil.always_true);
CREATE TEMP TABLE managed_role (role_name name);
INSERT INTO pg_temp.managed_role VALUES ('regress_unmanaged');
CREATE FUNCTION pg_temp.sha256(bytea) RETURNS bytea
	LANGUAGE sql AS $$SELECT '\x00'::bytea$$;

SET search_path = pg_temp, regress_evil, rotate, pg_catalog;
SELECT rotate.set_password('regress_unmanaged', :'v1');
SELECT set_password('regress_unmanaged', :'v1');
SET search_path = regress_evil, pg_catalog, rotate;
SELECT rotate.set_password('regress_unmanaged', :'v1');
SELECT rotate.set_password('regress_app', :'v1', 'arn:secret:path', 'v-path') > 0 AS set;
SELECT count(*) AS evil_rows FROM regress_evil.audit_log;
RESET search_path;
RESET SESSION AUTHORIZATION;

SELECT * FROM public.regress_new_audit();
SET search_path = regress_evil, pg_catalog;
SELECT * FROM rotate.verify_audit_log();
RESET search_path;

DROP SCHEMA regress_evil CASCADE;
REVOKE TEMPORARY ON DATABASE contrib_regression FROM regress_rotator;
