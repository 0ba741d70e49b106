
-- ===================================================================
-- Part 2, C flavour: the functions are in the shared library
-- (extension/*.c); shared_bind.sql comments, grants and binds them
-- ===================================================================

CREATE OR REPLACE FUNCTION rotate.set_password(
	target name, verifier text,
	secret_id text DEFAULT NULL, version_id text DEFAULT NULL)
RETURNS bigint
LANGUAGE C VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pg_rotate_set_password';

CREATE OR REPLACE FUNCTION rotate.log_event(
	target name, event text, secret_id text, version_id text,
	detail jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE C VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'pg_rotate_log_event';

CREATE OR REPLACE FUNCTION rotate.audit_log_append_only()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'pg_rotate_audit_log_append_only';

CREATE OR REPLACE FUNCTION rotate.managed_role_audit()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'pg_rotate_managed_role_audit';

CREATE OR REPLACE FUNCTION rotate.managed_role_check()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'pg_rotate_managed_role_check';

CREATE OR REPLACE FUNCTION rotate.enforcement()
RETURNS jsonb
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'pg_rotate_enforcement';
