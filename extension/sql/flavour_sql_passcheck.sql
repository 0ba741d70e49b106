
/*
 * extension/sql/flavour_sql_passcheck.sql
 *
 * The SQL-only flavour's ban on self-change, through pg_tle's password
 * check hook ("passcheck": Amazon RDS and Aurora), and rotate.enforcement(),
 * which tells an auditor whether the ban is in force.  A re-runnable piece
 * of the SQL-only flavour (see extension/Makefile), run after
 * flavour_sql.sql; the C flavour has its own hook (self_change_hook.c) and
 * its own rotate.enforcement() (enforcement.c).
 *
 * What pg_tle 1.5 gives (its src/passcheck.c and docs/04_hooks.md):
 *
 *	- PostgreSQL's check_password_hook, which CREATE ROLE and ALTER ROLE call
 *	  when the statement carries a password that is not NULL (PASSWORD NULL
 *	  is never seen), with the role's name, the password as given
 *	  (plaintext, MD5 or SCRAM-SHA-256 verifier, cut at 255 bytes), its type
 *	  and its validity.  Not who runs the statement, nor which statement.
 *	- With pgtle.passcheck_db_name empty, the registered functions run in
 *	  the backend that runs the statement, inside its transaction, as the
 *	  role that runs it: they see session_user, current_user and the call
 *	  stack (GET DIAGNOSTICS ... = PG_CONTEXT), and whatever they write is
 *	  rolled back with the statement when they refuse it.  pg_tle re-raises
 *	  their error with its SQLSTATE, detail and hint, and keeps the
 *	  statement and the context out of the server log.
 *	- With pgtle.passcheck_db_name set, they run in a background worker,
 *	  connected to that database as the bootstrap superuser: no caller, no
 *	  stack, and a refusal rolls back the worker's subtransaction.  Nothing
 *	  there can tell rotate.set_password from an attack, so pg_rotate does
 *	  not check in that mode, and rotate.enforcement() says so.
 *	- pgtle.enable_password_check = require refuses every password change
 *	  in a database where pg_tle is not installed or no function is
 *	  registered, which closes the cluster's other databases; "on" leaves
 *	  them open.
 *
 * Hence rotate_hook.passcheck runs as the role that changes a password
 * (SECURITY INVOKER: current_user is that role's), so every role needs
 * EXECUTE on it and USAGE on its schema, which is why it is not in schema
 * rotate; it asks rotate_hook.is_managed (SECURITY DEFINER, a yes or no
 * from the allow-list and the marks) whether the role is managed, and
 * refuses through rotate_hook.refuse (SECURITY DEFINER, to count the
 * refusal).  The audit log's DDL guard (rotate.audit_log_guard, shared.sql)
 * covers schema rotate_hook as it covers schema rotate.
 *
 * Refusals leave no row in rotate.audit_log: the refusal is an ERROR, which
 * rolls back everything the transaction wrote, and PL/pgSQL cannot commit
 * a row of its own (the C flavour keeps it on disk for a background
 * worker).  They are counted, as rotate.refuse counts set_password's
 * (flavour_sql.sql): the next write to the log records how many.  Unlike
 * rotate.refuse they add no LOG line: a LOG line would carry the refused
 * statement (log_min_error_statement) and its context, plaintext password
 * included, which pg_tle keeps out of the log for the ERROR.  So what says
 * who was refused is the ERROR in the server log, with the user and the
 * database when log_line_prefix names them (%u, %d; RDS's default does).
 */

CREATE SCHEMA IF NOT EXISTS rotate_hook;
COMMENT ON SCHEMA rotate_hook IS
	'pg_rotate''s password check for pg_tle: usable by every role, since pg_tle runs it as the role that changes a password';
GRANT USAGE ON SCHEMA rotate_hook TO PUBLIC;

/*
 * rotate_hook.is_managed(role_name): is role_name an existing role that the
 * C flavour's hook would call managed (self_change_hook.c): on this
 * database's allow-list (by OID: the role the entry was written for), or
 * marked by any database's list (rotate.marks(): set where the extension's
 * owner is a superuser, so never on RDS)?  A role that does not exist yet
 * is being created (CREATE ROLE), which changes no managed role's
 * password.  Runs as the owner, so that any role may ask; the answer is no
 * more than pg_db_role_setting shows every role.
 */
CREATE OR REPLACE FUNCTION rotate_hook.is_managed(role_name text)
RETURNS boolean
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1 FROM pg_roles r
					WHERE r.rolname = $1
					  AND (EXISTS (SELECT 1 FROM rotate.managed_role m
									WHERE m.role_oid = r.oid)
						   OR EXISTS (SELECT 1 FROM rotate.marks() k
									   WHERE k.role = r.oid)))
$$;

/*
 * rotate_hook.refuse(username, reason): refuse the change of managed role
 * username's password, counted in rotate.unrecorded_refusal_seq first (see
 * the top of this file).  reason is the C flavour's: self_change,
 * direct_change (someone else, CREATEROLE roles included), or
 * invalid_verifier (a superuser's plaintext or MD5 password).  Runs as the
 * owner, who may draw from the sequence; any role may call it, as any role
 * may call the password check itself: the count is of refusals, and a call
 * is one (it cannot lower the count, nor write a row).  ALTER ROLE never
 * runs in a read-only transaction, so the count is always written.
 */
CREATE OR REPLACE FUNCTION rotate_hook.refuse(username text, reason text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM nextval('rotate.unrecorded_refusal_seq'::regclass);
	CASE reason
		WHEN 'invalid_verifier' THEN
			RAISE EXCEPTION USING
				ERRCODE = 'invalid_parameter_value',
				MESSAGE = format('password of role "%s" must be a SCRAM-SHA-256 verifier', username),
				DETAIL = format('Role "%s" is managed by pg_rotate: its password is never sent in plaintext or as an MD5 hash.', username),
				HINT = 'Use rotate.set_password(), or send a verifier computed on the client (psql''s \password does).';
		WHEN 'self_change' THEN
			RAISE EXCEPTION USING
				ERRCODE = 'insufficient_privilege',
				MESSAGE = format('role "%s" cannot change its own password', username),
				DETAIL = format('Role "%s" is managed by pg_rotate: only rotate.set_password() or a superuser may change its password.', username);
		ELSE
			RAISE EXCEPTION USING
				ERRCODE = 'insufficient_privilege',
				MESSAGE = format('permission denied to change the password of role "%s"', username),
				DETAIL = format('Role "%s" is managed by pg_rotate: only rotate.set_password() or a superuser may change its password.', username);
	END CASE;
END
$$;

/*
 * rotate_hook.passcheck(username, password, password_type, valid_until,
 * valid_null): the function pg_tle runs for every password given to CREATE
 * ROLE or ALTER ROLE in this database.  password_type is pg_tle's enum
 * pgtle.password_types, taken as anyenum so that the function exists
 * whether pg_tle is installed or not.  Returns when the change may go
 * ahead; raises otherwise.  The rules of the C flavour's hook:
 *
 *	- a role that is not managed is none of our business;
 *	- rotate.set_password's own change goes ahead (it writes its own row);
 *	- a superuser may change a managed role's password, to a SCRAM-SHA-256
 *	  verifier only (a plaintext password would be in the statement), and
 *	  the change is recorded as "direct_change" in the same transaction;
 *	- anyone else is refused: the role itself (session or current user,
 *	  42501 "cannot change its own password") and CREATEROLE roles alike.
 *
 * How a change is known to come from rotate.set_password, so that no one
 * can pretend to be it: the call stack must be exactly this function,
 * pg_tle's SELECT, the very statement set_password runs, ALTER ROLE %I
 * PASSWORD %L with this role and this verifier, and set_password's EXECUTE
 * (in schema rotate, which only the extension's owner can write to); and
 * the current user must be set_password's owner, as it is inside that
 * SECURITY DEFINER function.  A custom setting would not do: a role can set
 * any of them in its own session.  Pinning the whole statement text matters:
 * a statement of one's own may carry, in a comment, lines that look like
 * stack frames.  pg_tle passes at most 255 bytes of the password: the rest
 * of a longer verifier may only be verifier characters.  The stack holds the
 * statement, password included: it is compared, never shown.
 */
CREATE OR REPLACE FUNCTION rotate_hook.passcheck(
	username text, password text, password_type anyenum,
	valid_until timestamptz, valid_null boolean)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	executor	name := current_user;
	stack		text;
	frames		text[];
	statement	text;
	owner		name;
	scram		boolean := password_type::text = 'PASSWORD_TYPE_SCRAM_SHA_256';
BEGIN
	-- in pg_tle's background worker there is no caller to judge
	IF coalesce(current_setting('pgtle.passcheck_db_name', true), '') <> '' OR
	   NOT rotate_hook.is_managed(username) THEN
		RETURN;
	END IF;

	GET DIAGNOSTICS stack = PG_CONTEXT;
	-- this function, pg_tle's SELECT (one line each), then the rest
	frames := regexp_match(stack, '^[^\n]*\n(SQL statement "SELECT [^\n]*")\n(.*)$', 's');
	-- a verifier holds no quote, so %L is '...'
	statement := 'SQL statement "' ||
		format('ALTER ROLE %I PASSWORD ''', username) || password;
	SELECT r.rolname INTO owner
	  FROM pg_proc p
	  JOIN pg_namespace n ON n.oid = p.pronamespace
	  JOIN pg_roles r ON r.oid = p.proowner
	 WHERE n.nspname = 'rotate' AND p.proname = 'set_password'
	   AND oidvectortypes(p.proargtypes) = 'name, text, text, text';
	IF scram AND executor = owner AND frames IS NOT NULL AND
	   starts_with(frames[2], statement) AND
	   substr(frames[2], length(statement) + 1) ~
		('^' || CASE WHEN octet_length(password) >= 255 THEN '[A-Za-z0-9+/=:$]*' ELSE '' END ||
		 '''"\nPL/pgSQL function rotate\.set_password\(name,text,text,text\) line [0-9]+ at EXECUTE(\n|$)') THEN
		RETURN;
	END IF;

	IF (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = executor) THEN
		IF NOT scram THEN
			PERFORM rotate_hook.refuse(username, 'invalid_verifier');
		END IF;
		PERFORM rotate.audit_append('direct_change', username, NULL, NULL,
									jsonb_build_object('current_user', executor,
													   'statement', 'ALTER ROLE'));
		RETURN;
	END IF;

	PERFORM rotate_hook.refuse(username,
							   CASE WHEN username IN (session_user, executor)
									THEN 'self_change' ELSE 'direct_change' END);
END
$$;

COMMENT ON FUNCTION rotate_hook.passcheck(text, text, anyenum, timestamptz, boolean) IS
	'pg_tle passcheck: only rotate.set_password, or a superuser with a SCRAM verifier (audited), changes a managed role''s password';
GRANT EXECUTE ON FUNCTION rotate_hook.passcheck(text, text, anyenum, timestamptz, boolean),
						  rotate_hook.is_managed(text), rotate_hook.refuse(text, text) TO PUBLIC;

/*
 * rotate.enforcement(): is the ban on self-change in force in this
 * database?  {"flavour", "mechanism", "state": "on" or "off", "why"}.
 * "on" only when pg_tle is loaded and installed here, rotate_hook.passcheck
 * is registered, pgtle.enable_password_check is on or require, and
 * pgtle.passcheck_db_name is empty.  rotate.set_password records the state
 * in each password_set row.  pg_tle's settings count only when they are
 * real: where pg_tle is not loaded, anyone may SET a placeholder of the
 * same name in their own session, and a placeholder is NO_SHOW_ALL (not in
 * pg_settings).  pg_settings_get_flags() tells (PostgreSQL 15+; reading
 * pg_settings, as on 14, costs a third of a millisecond a call).
 */
CREATE OR REPLACE FUNCTION rotate.enforcement()
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	loaded		boolean;
	mode		text;
	registered	boolean := false;
	state		text := 'off';
	why			text;
BEGIN
	IF current_setting('server_version_num')::int >= 150000 THEN
		loaded := NOT 'NO_SHOW_ALL' = ANY (pg_settings_get_flags('pgtle.enable_password_check'));
	ELSE
		loaded := EXISTS (SELECT 1 FROM pg_settings s
						   WHERE s.name = 'pgtle.enable_password_check');
	END IF;
	IF loaded THEN
		mode := current_setting('pgtle.enable_password_check');
	END IF;
	IF mode IS NULL THEN
		why := 'pg_tle is not loaded: add it to shared_preload_libraries (the parameter group on RDS) and restart.';
	ELSIF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_tle') THEN
		why := 'pg_tle is not installed in this database: CREATE EXTENSION pg_tle, then register rotate_hook.passcheck.';
	ELSE
		SELECT EXISTS (SELECT 1 FROM pgtle.feature_info f
						WHERE f.feature::text = 'passcheck'
						  AND f.schema_name = 'rotate_hook'
						  AND f.proname = 'passcheck')
		  INTO registered;
		IF NOT registered THEN
			why := 'rotate_hook.passcheck is not registered with pg_tle: as a member of pgtle_admin, SELECT pgtle.register_feature(''rotate_hook.passcheck'', ''passcheck'').';
		ELSIF mode = 'off' THEN
			why := 'pgtle.enable_password_check is off: set it to require.';
		ELSIF current_setting('pgtle.passcheck_db_name') <> '' THEN
			why := 'pgtle.passcheck_db_name is set: pg_tle then runs password checks in a background worker, as a superuser, where nothing shows who changes a password; set it to an empty string.';
		ELSE
			state := 'on';
			why := CASE mode
				WHEN 'require' THEN 'rotate_hook.passcheck checks every password change in this database; pgtle.enable_password_check = require refuses password changes in databases without a registered password check.'
				ELSE 'rotate_hook.passcheck checks every password change in this database; pgtle.enable_password_check = on lets databases without a registered password check accept any change: set it to require.' END;
		END IF;
	END IF;
	RETURN jsonb_build_object('flavour', 'SQL-only',
							  'mechanism', 'pg_tle passcheck hook (rotate_hook.passcheck)',
							  'state', state, 'why', why);
END
$$;

/*
 * Register the password check when pg_tle is installed in this database.
 * pg_tle lets only members of pgtle_admin do it; on RDS the master user can
 * grant itself that role.  DROP EXTENSION pg_rotate unregisters it (pg_tle's
 * event trigger, again for members of pgtle_admin).
 */
DO $register$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_tle') THEN
		BEGIN
			PERFORM pgtle.register_feature_if_not_exists('rotate_hook.passcheck', 'passcheck');
		EXCEPTION WHEN insufficient_privilege THEN
			RAISE EXCEPTION USING
				ERRCODE = 'insufficient_privilege',
				MESSAGE = 'pg_rotate cannot register its password check with pg_tle',
				DETAIL = format('Role "%s" is not a member of pgtle_admin.', current_user),
				HINT = 'Create or update the extension as a member of pgtle_admin (GRANT pgtle_admin TO the master user).';
		END;
	END IF;
END
$register$;
