
-- ===================================================================
-- Part 2, SQL-only flavour: the same functions in PL/pgSQL, for servers
-- that cannot load the C library (Amazon RDS and Aurora, with pg_tle)
-- ===================================================================

/*
 * Same interface, policy rules, SQLSTATEs and messages as the C flavour.
 * What it cannot do, because only C can:
 *
 *	- ban self-change without help: that takes a ProcessUtility hook in
 *	  every session.  Under pg_tle, its password check hook does most of
 *	  it (flavour_sql_passcheck.sql); elsewhere a managed role can still
 *	  run ALTER ROLE ... PASSWORD on itself.  Audit rows say which
 *	  (rotate.enforcement()).
 *	- keep the "denied" row of a refusal: the ERROR rolls back everything
 *	  the caller's transaction wrote, and only C can keep the row apart
 *	  from it (a file and a background worker).  What survives is a count
 *	  (rotate.refuse): the next write to the log records how many refusals
 *	  it missed; who was refused, and why, is in the server log only.  In
 *	  a read-only transaction not even the count survives.
 *	- change the password without SQL text: ALTER ROLE is run through
 *	  EXECUTE, so the verifier is in a statement inside the server.
 *	  log_statement logs top-level statements only, and an error of that
 *	  statement is re-raised here without the CONTEXT line that would quote
 *	  it; but an extension that records nested statements
 *	  (pg_stat_statements.track = all, for instance) would see it.  Nor is
 *	  there a log hook that redacts a verifier the caller puts into its own
 *	  statement: pass it as the client does, through COPY.
 *	- serialize calls for one role across databases: the lock here is an
 *	  advisory lock, per database (C locks the role itself).
 *	- read the chain's tip with the latest snapshot: audit rows are
 *	  written in READ COMMITTED transactions only (see audit_append).
 *
 * The owner of set_password must be a superuser or, where there is none
 * (RDS, Aurora), a role with CREATEROLE such as the master user.
 */

/*
 * rotate.require_set_up(): SQLSTATE 55000 unless the extension's tables and
 * sequences are all here.
 */
CREATE OR REPLACE FUNCTION rotate.require_set_up()
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF (SELECT count(*) FROM pg_class c
		  JOIN pg_namespace n ON n.oid = c.relnamespace
		 WHERE n.nspname = 'rotate'
		   AND c.relname IN ('audit_log', 'audit_log_id_seq', 'managed_role',
							 'unrecorded_refusal_seq')) <> 4 THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = 'pg_rotate is not set up in this database',
			DETAIL = 'A table or sequence of the extension is missing from schema "rotate".',
			HINT = 'Run DROP EXTENSION pg_rotate and CREATE EXTENSION pg_rotate as a superuser.';
	END IF;
END
$$;

/*
 * rotate.holds_secret(value): does value contain, in any letter case, a
 * SCRAM-SHA-256 verifier's prefix, an MD5 password hash ("md5" and 32 hex
 * digits) or a SCRAM key pair ("<StoredKey>:<ServerKey>")?  The patterns of
 * holds_secret() in extension/audit.c.
 */
CREATE OR REPLACE FUNCTION rotate.holds_secret(value text)
RETURNS boolean
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(value ~* '(scram-sha-256\$|md5[0-9a-f]{32}|[a-z0-9+/]{43}=:[a-z0-9+/]{43}=)',
					false)
$$;

/*
 * rotate.audit_secret_field(event, target, secret_id, version_id, detail):
 * the name of the first field of the row these would make (the session's
 * actor and application_name included) that holds a secret, or NULL.
 */
CREATE OR REPLACE FUNCTION rotate.audit_secret_field(
	p_event text, p_target name, p_secret_id text, p_version_id text,
	p_detail jsonb)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT f.name
	  FROM (VALUES (1, 'actor', session_user::text),
				   (2, 'target', p_target::text),
				   (3, 'event', p_event),
				   (4, 'secret_id', p_secret_id),
				   (5, 'version_id', p_version_id),
				   (6, 'application_name', current_setting('application_name')),
				   (7, 'detail', p_detail::text)) AS f(n, name, value)
	 WHERE rotate.holds_secret(f.value)
	 ORDER BY f.n
	 LIMIT 1
$$;

/*
 * rotate.refuse(function, target, sqlstate, reason, message, detail, hint):
 * the one refusal path of set_password, log_event and audit_append.  The
 * refusal's own row cannot be kept: the ERROR rolls back everything the
 * caller's transaction wrote, and PL/pgSQL cannot commit apart from it.
 * What survives is a count: nextval() on rotate.unrecorded_refusal_seq is
 * not rolled back, and the next write to the log records how many
 * refusals it missed (rotate.audit_append).  In a read-only transaction
 * even that cannot be written.  The server log gets the function, the
 * target (unless it looks like a secret) and the reason; then the ERROR.
 * pg_tle's password check counts its refusals in the same sequence, but
 * without that LOG line (rotate_hook.refuse, flavour_sql_passcheck.sql).
 */
CREATE OR REPLACE FUNCTION rotate.refuse(
	p_function text, p_target name, p_code text, p_reason text,
	p_message text, p_detail text DEFAULT NULL, p_hint text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	counted		text := 'counted in rotate.unrecorded_refusal_seq for the next write to rotate.audit_log';
BEGIN
	BEGIN
		PERFORM nextval('rotate.unrecorded_refusal_seq'::regclass);
	EXCEPTION WHEN read_only_sql_transaction THEN
		counted := 'not counted: the transaction is read-only';
	END;
	RAISE LOG 'pg_rotate refused %() for role "%" (%): the SQL-only flavour cannot keep the refusal''s row; %',
		p_function,
		CASE WHEN rotate.holds_secret(p_target) THEN '<redacted>' ELSE p_target END,
		p_reason, counted;
	IF p_detail IS NULL AND p_hint IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = p_code, MESSAGE = p_message;
	ELSIF p_hint IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = p_code, MESSAGE = p_message, DETAIL = p_detail;
	ELSIF p_detail IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = p_code, MESSAGE = p_message, HINT = p_hint;
	ELSE
		RAISE EXCEPTION USING ERRCODE = p_code, MESSAGE = p_message,
			DETAIL = p_detail, HINT = p_hint;
	END IF;
END
$$;

/*
 * rotate.deny_secret_fields(function, event, target, secret_id, version_id,
 * detail): refuse (rotate.refuse) a row that would hold a secret in any
 * field, naming the field, never the value.  Called before any check that
 * quotes a value.
 */
CREATE OR REPLACE FUNCTION rotate.deny_secret_fields(
	p_function text, p_event text, p_target name, p_secret_id text,
	p_version_id text, p_detail jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	field		text := rotate.audit_secret_field(p_event, p_target, p_secret_id,
												  p_version_id, p_detail);
BEGIN
	IF field IS NOT NULL THEN
		PERFORM rotate.refuse(p_function, p_target, '22023', 'secret_in_field',
							  format('audit field "%s" must not contain a password verifier', field),
							  'rotate.audit_log never stores a SCRAM-SHA-256 verifier, SCRAM keys or an MD5 password hash, in any letter case.');
	END IF;
END
$$;

/*
 * rotate.audit_append(event, target, secret_id, version_id, detail): chain
 * one row onto rotate.audit_log in the current transaction and return its
 * id.  The SQL-only twin of audit_append() in extension/audit.c, and like
 * it the one writer: the actor is the session user, client_addr and
 * application_name are the session's, row_hash is rotate.audit_row_hash()
 * of the row.  A row that would hold a secret is refused.  Before its own
 * row it records the refusals counted since the last such record
 * (rotate.refuse).  Each row is read back after the INSERT: a trigger,
 * rule or policy that dropped or changed it makes the append fail instead
 * of returning an id that was never stored.
 *
 * The chain lock (SHARE ROW EXCLUSIVE, held until the transaction ends) is
 * taken before the id is drawn and the tip is read, so ids follow the
 * chain.  Each statement here takes a fresh snapshot only in READ
 * COMMITTED; in REPEATABLE READ or SERIALIZABLE the tip could be a row
 * older than the last one committed, and the chain would fork, so those
 * are refused.  Runs as the owner; nobody else may call it.
 */
CREATE OR REPLACE FUNCTION rotate.audit_append(
	p_event text, p_target name, p_secret_id text, p_version_id text,
	p_detail jsonb)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r			rotate.audit_log;
	missed		rotate.audit_log;
	stored		rotate.audit_log;
	queue		rotate.audit_log[] := '{}';
	tip			record;
	counted		bigint;
	recorded	bigint;
	n			bigint;
	isolation	text := current_setting('transaction_isolation');
BEGIN
	IF isolation <> 'read committed' THEN
		RAISE EXCEPTION USING
			ERRCODE = 'feature_not_supported',
			MESSAGE = format('cannot write to the pg_rotate audit log in a %s transaction',
							 upper(isolation)),
			DETAIL = 'The SQL-only flavour of pg_rotate chains audit rows in READ COMMITTED transactions only.',
			HINT = 'Call it in a READ COMMITTED transaction.';
	END IF;
	PERFORM rotate.deny_secret_fields('audit_append', p_event, p_target,
									  p_secret_id, p_version_id, p_detail);

	r.actor := session_user;
	r.target := p_target;
	r.event := p_event;
	r.secret_id := p_secret_id;
	r.version_id := p_version_id;
	r.client_addr := inet_client_addr();
	r.application_name := nullif(current_setting('application_name'), '');
	r.detail := coalesce(p_detail, '{}'::jsonb);

	LOCK TABLE rotate.audit_log IN SHARE ROW EXCLUSIVE MODE;

	-- refusals counted since the last record of them come first
	SELECT CASE WHEN s.is_called THEN s.last_value ELSE 0 END INTO counted
	  FROM rotate.unrecorded_refusal_seq s;
	recorded := coalesce((SELECT (a.detail->>'through')::bigint
							FROM rotate.audit_log a
						   WHERE a.event = 'refusals_unrecorded'
						   ORDER BY a.id DESC LIMIT 1), 0);
	IF counted <> recorded THEN
		missed.actor := r.actor;
		missed.event := 'refusals_unrecorded';
		missed.client_addr := r.client_addr;
		missed.application_name := r.application_name;
		missed.detail := jsonb_build_object('count', counted - recorded, 'through', counted);
		queue := ARRAY[missed];
	END IF;
	queue := queue || r;

	FOREACH r IN ARRAY queue LOOP
		r.id := nextval('rotate.audit_log_id_seq'::regclass);
		r.logged_at := clock_timestamp();
		SELECT a.id, a.row_hash INTO tip
		  FROM rotate.audit_log a ORDER BY a.id DESC LIMIT 1;
		IF NOT FOUND THEN
			r.prev_hash := repeat('0', 64);
		ELSE
			r.prev_hash := tip.row_hash;
			-- the sequence is behind the table after a restore: keep ids growing
			IF r.id <= tip.id THEN
				r.id := tip.id + 1;
				PERFORM setval('rotate.audit_log_id_seq'::regclass, r.id);
			END IF;
		END IF;
		r.row_hash := rotate.audit_row_hash(r);

		INSERT INTO rotate.audit_log VALUES (r.*);
		GET DIAGNOSTICS n = ROW_COUNT;
		SELECT a.* INTO stored FROM rotate.audit_log a WHERE a.id = r.id;
		IF n <> 1 OR stored IS DISTINCT FROM r THEN
			RAISE EXCEPTION USING
				ERRCODE = 'object_not_in_prerequisite_state',
				MESSAGE = 'audit row was not stored in rotate.audit_log as written',
				DETAIL = 'A trigger, rule or policy on rotate.audit_log dropped or changed the row: the log has been tampered with.',
				HINT = 'Remove what was added to rotate.audit_log, then check it with rotate.verify_audit_log().';
		END IF;
	END LOOP;
	RETURN r.id;
END
$$;

REVOKE ALL ON FUNCTION rotate.require_set_up() FROM PUBLIC;
REVOKE ALL ON FUNCTION rotate.holds_secret(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION rotate.audit_secret_field(text, name, text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION rotate.refuse(text, name, text, text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION rotate.deny_secret_fields(text, text, name, text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION rotate.audit_append(text, name, text, text, jsonb) FROM PUBLIC;

/*
 * rotate.role_refusal(role, name, func_owner, callers): why role (named
 * name) may not be managed, or NULLs.  The SQL-only twin of
 * policy_find_forbidden() in extension/policy.c, same order, reasons and
 * words: the role itself and every role it can become through
 * pg_auth_members (any grant, with or without INHERIT, SET or ADMIN),
 * nearest first, checked for SUPERUSER, REPLICATION, BYPASSRLS and
 * CREATEROLE, for the predefined roles that reach beyond the role's own
 * objects, for owning what controls the audit log, and (for roles other
 * than role itself) for being func_owner or, when callers, the caller.
 */
CREATE OR REPLACE FUNCTION rotate.role_refusal(
	p_role oid, p_name name, p_func_owner oid, p_callers boolean,
	OUT reason text, OUT detail text, OUT hint text)
RETURNS record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r			record;
	base		text;
	why			text;
	attr		text;
	caller		name := CASE current_setting('role')
							WHEN 'none' THEN session_user
							ELSE current_setting('role')::name END;
BEGIN
	FOR r IN
		WITH RECURSIVE up(oid, depth) AS (
			SELECT p_role, 0
			UNION
			SELECT m.roleid, up.depth + 1
			  FROM pg_auth_members m JOIN up ON m.member = up.oid
		)
		SELECT a.oid, a.rolname, a.rolsuper, a.rolreplication, a.rolbypassrls,
			   a.rolcreaterole, min(up.depth) AS depth
		  FROM up JOIN pg_roles a ON a.oid = up.oid
		 GROUP BY 1, 2, 3, 4, 5, 6
		 ORDER BY depth, a.oid
	LOOP
		base := NULL;
		attr := CASE WHEN r.rolsuper THEN 'SUPERUSER'
					 WHEN r.rolreplication THEN 'REPLICATION'
					 WHEN r.rolbypassrls THEN 'BYPASSRLS'
					 WHEN r.rolcreaterole THEN 'CREATEROLE' END;
		IF attr IS NOT NULL THEN
			base := lower(attr);
			why := format('has the %s attribute', attr);
		ELSIF r.oid <> p_role AND left(r.rolname, 3) = 'pg_' THEN
			-- as predefined_roles[] in extension/policy.c
			why := CASE r.rolname
				WHEN 'pg_execute_server_program' THEN 'lets its members run programs on the database server'
				WHEN 'pg_read_server_files' THEN 'lets its members read any file the database server can read'
				WHEN 'pg_write_server_files' THEN 'lets its members write any file the database server can write'
				WHEN 'pg_read_all_data' THEN 'lets its members read every table'
				WHEN 'pg_write_all_data' THEN 'lets its members write every table, rotate.managed_role included'
				WHEN 'pg_maintain' THEN 'lets its members lock and rewrite every table, the audit log included'
				WHEN 'pg_signal_backend' THEN 'lets its members end other roles'' sessions'
				WHEN 'pg_create_subscription' THEN 'lets its members make the database server connect to other hosts'
				WHEN 'pg_monitor' THEN NULL
				WHEN 'pg_read_all_settings' THEN NULL
				WHEN 'pg_read_all_stats' THEN NULL
				WHEN 'pg_stat_scan_tables' THEN NULL
				WHEN 'pg_checkpoint' THEN NULL
				WHEN 'pg_use_reserved_connections' THEN NULL
				WHEN 'pg_database_owner' THEN NULL
				ELSE 'is a predefined role that pg_rotate does not know to be harmless' END;
			IF why IS NOT NULL THEN
				base := 'predefined_role';
			END IF;
		END IF;
		IF base IS NULL THEN
			-- as rotate_log_controllers() in extension/pg_rotate.c
			SELECT 'log_owner', c.why INTO base, why FROM (
				SELECT d.datdba AS owner,
					   format('owns database "%s", which holds the pg_rotate audit log',
							  d.datname) AS why
				  FROM pg_database d WHERE d.datname = current_database()
				UNION ALL
				SELECT e.extowner, 'owns extension pg_rotate'
				  FROM pg_extension e WHERE e.extname = 'pg_rotate'
				UNION ALL
				SELECT n.nspowner, 'owns schema rotate'
				  FROM pg_namespace n WHERE n.nspname = 'rotate'
				UNION ALL
				SELECT CASE dep.classid
						   WHEN 'pg_class'::regclass THEN
							   (SELECT c.relowner FROM pg_class c WHERE c.oid = dep.objid)
						   WHEN 'pg_proc'::regclass THEN
							   (SELECT p.proowner FROM pg_proc p WHERE p.oid = dep.objid)
						   WHEN 'pg_type'::regclass THEN
							   (SELECT t.typowner FROM pg_type t WHERE t.oid = dep.objid)
						   WHEN 'pg_namespace'::regclass THEN
							   (SELECT n.nspowner FROM pg_namespace n WHERE n.oid = dep.objid)
					   END,
					   'owns ' || pg_describe_object(dep.classid, dep.objid, 0)
				  FROM pg_depend dep JOIN pg_extension e ON e.oid = dep.refobjid
				 WHERE dep.refclassid = 'pg_extension'::regclass
				   AND e.extname = 'pg_rotate' AND dep.deptype = 'e'
				UNION ALL
				SELECT p.proowner, 'owns ' || pg_describe_object('pg_proc'::regclass, p.oid, 0)
				  FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
				 WHERE t.tgrelid IN ('rotate.audit_log'::regclass,
									 'rotate.managed_role'::regclass)
			) c WHERE c.owner = r.oid LIMIT 1;
		END IF;
		IF base IS NULL AND r.oid <> p_role THEN
			IF r.oid = p_func_owner THEN
				base := 'function_owner'; why := 'owns rotate.set_password';
			ELSIF p_callers AND r.rolname = session_user THEN
				base := 'session_user'; why := 'is the session user';
			ELSIF p_callers AND r.rolname = caller THEN
				base := 'current_user'; why := 'is the current user';
			END IF;
		END IF;
		CONTINUE WHEN base IS NULL;

		IF r.oid = p_role THEN
			reason := base;
			detail := format('Role "%s" %s.', p_name, why);
			hint := CASE WHEN attr IS NOT NULL
						 THEN 'pg_rotate never rotates roles with SUPERUSER, REPLICATION, BYPASSRLS or CREATEROLE.'
						 ELSE 'pg_rotate never manages a role that controls its audit log: give the object to another role (ALTER ... OWNER TO).' END;
		ELSE
			reason := 'member_of_' || base;
			detail := format('Role "%s" is a member of role "%s", directly or through other roles; role "%s" %s.',
							 p_name, r.rolname, r.rolname, why);
			hint := 'pg_rotate never manages a role that can become a role it refuses: revoke the membership.';
		END IF;
		RETURN;
	END LOOP;
END
$$;

REVOKE ALL ON FUNCTION rotate.role_refusal(oid, name, oid, boolean) FROM PUBLIC;

/*
 * rotate.mark_role(role, managed): set (or clear) role's mark for this
 * database, as extension/role_mark.c does: the role setting
 * pg_rotate.managed = on IN DATABASE this one, which the C flavour's hook
 * reads in every database of a cluster that preloads the library.  Only a
 * superuser can set it; where the extension's owner is none (Amazon RDS
 * and Aurora) there are no marks, nor a hook to read them.  Clearing the
 * last mark also clears 1.0's cluster-wide one.
 */
CREATE OR REPLACE FUNCTION rotate.mark_role(p_role oid, p_managed boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	role_name	name := (SELECT a.rolname FROM pg_roles a WHERE a.oid = p_role);
BEGIN
	IF role_name IS NULL OR NOT rotate.marks_kept() THEN
		RETURN;
	END IF;
	EXECUTE format('ALTER ROLE %I IN DATABASE %I %s pg_rotate.managed%s',
				   role_name, current_database(),
				   CASE WHEN p_managed THEN 'SET' ELSE 'RESET' END,
				   CASE WHEN p_managed THEN ' = on' ELSE '' END);
	IF NOT p_managed
	   AND NOT EXISTS (SELECT 1 FROM rotate.marks() m
						WHERE m.role = p_role AND m.database <> 0) THEN
		EXECUTE format('ALTER ROLE %I RESET pg_rotate.managed', role_name);
	END IF;
END
$$;

REVOKE ALL ON FUNCTION rotate.mark_role(oid, boolean) FROM PUBLIC;

/*
 * rotate.marks(): every mark, as (database, role); database 0 is 1.0's
 * cluster-wide one.  As row_has_mark() in extension/role_mark.c.
 */
CREATE OR REPLACE FUNCTION rotate.marks(OUT database oid, OUT role oid)
RETURNS SETOF record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT s.setdatabase, s.setrole
	  FROM pg_db_role_setting s, unnest(s.setconfig) c
	 WHERE c ~* '^pg_rotate\.managed=(on|true|yes|1)$'
$$;

REVOKE ALL ON FUNCTION rotate.marks() FROM PUBLIC;

/*
 * rotate.marks_kept(): are marks set and required here, that is, is the
 * current user (inside the SECURITY DEFINER functions: the extension's
 * owner) a superuser?
 */
CREATE OR REPLACE FUNCTION rotate.marks_kept()
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce((SELECT a.rolsuper FROM pg_roles a WHERE a.rolname = current_user), false)
$$;

REVOKE ALL ON FUNCTION rotate.marks_kept() FROM PUBLIC;

/*
 * rotate.set_password(target, verifier, secret_id, version_id): set an
 * allow-listed role's password to a SCRAM-SHA-256 verifier and return the
 * audit row id.  The checks, their order and their messages are those of
 * extension/policy.c; each refusal ends in the one RAISE at the bottom.
 *
 * The caller's current user: inside a SECURITY DEFINER function
 * current_user is the owner, but the "role" setting still says what SET
 * ROLE chose ("none" when it is the session user).
 */
CREATE OR REPLACE FUNCTION rotate.set_password(
	target name, verifier text,
	secret_id text DEFAULT NULL, version_id text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	-- base64 as PostgreSQL writes it: no line breaks, padded
	b64			constant text := '(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?';
	-- 32 bytes (StoredKey, ServerKey) in base64
	key32		constant text := '[A-Za-z0-9+/]{43}=';
	caller		name;
	owner_oid	oid;
	owner		record;
	t			record;
	locked		oid;
	attempt		int := 0;
	parts		text[];
	min_iter	bigint := 4096;
	max_iter	bigint := 100000;
	setting		text;
	listed		record;
	refusal		record;
	-- a refusal
	d_code		text;
	d_reason	text;
	d_message	text;
	d_detail	text;
	d_hint		text;
	-- an error of ALTER ROLE
	e_code		text;
	e_message	text;
	e_detail	text;
	e_hint		text;
BEGIN
	/*
	 * The extension's helpers live in schema rotate: an owner that cannot
	 * use it (refused below as owner_not_superuser) can call none of them.
	 */
	IF has_schema_privilege('rotate', 'USAGE') THEN
		PERFORM rotate.require_set_up();
		PERFORM rotate.deny_secret_fields('set_password', 'password_set', target,
										  secret_id, version_id, NULL);
	END IF;

	<<policy>>
	BEGIN
		IF target IS NULL THEN
			d_code := '22004'; d_reason := 'null_argument';
			d_message := 'argument "target" must not be null';
			EXIT policy;
		END IF;
		IF verifier IS NULL THEN
			d_code := '22004'; d_reason := 'null_argument';
			d_message := 'argument "verifier" must not be null';
			EXIT policy;
		END IF;

		-- by name, not by a regprocedure cast: the owner may lack USAGE on rotate
		SELECT p.proowner INTO owner_oid
		  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		 WHERE n.nspname = 'rotate' AND p.proname = 'set_password'
		   AND oidvectortypes(p.proargtypes) = 'name, text, text, text';
		SELECT r.rolname, r.rolsuper, r.rolcreaterole INTO owner
		  FROM pg_roles r WHERE r.oid = owner_oid;
		IF NOT coalesce(owner.rolsuper OR owner.rolcreaterole, false) THEN
			d_code := '55000'; d_reason := 'owner_not_superuser';
			d_message := 'pg_rotate is not set up correctly';
			d_detail := format('The owner of rotate.set_password, role "%s", is neither a superuser nor a role with CREATEROLE.',
							   owner.rolname);
			d_hint := 'A superuser, or on Amazon RDS and Aurora the master user, must own the extension''s functions: ALTER FUNCTION rotate.set_password(name, text, text, text) OWNER TO that role.';
			EXIT policy;
		END IF;

		IF current_setting('pg_rotate_sql.off_logged', true) IS DISTINCT FROM 'on' AND
		   rotate.enforcement()->>'state' = 'off' THEN
			RAISE LOG 'pg_rotate is the SQL-only flavour: managed roles can still change their own passwords'
				USING HINT = 'The ban on self-change needs pg_tle''s password check or the C flavour: see rotate.enforcement().';
			PERFORM set_config('pg_rotate_sql.off_logged', 'on', false);
		END IF;

		caller := CASE current_setting('role')
					  WHEN 'none' THEN session_user
					  ELSE current_setting('role')::name END;

		/*
		 * Check, lock the role (serializing calls for it), check again: its
		 * attributes, name or allow-list entry may change until we hold the
		 * lock.  A name that now means another role is locked anew.
		 */
		LOOP
			SELECT r.oid INTO t FROM pg_roles r WHERE r.rolname = target;
			IF NOT FOUND THEN
				d_code := '42704'; d_reason := 'no_such_role';
				d_message := format('role "%s" does not exist', target);
				EXIT policy;
			END IF;
			IF left(target, 3) = 'pg_' THEN
				d_code := '42501'; d_reason := 'reserved_role';
				d_message := format('cannot set the password of role "%s"', target);
				d_detail := 'Role names beginning with "pg_" are reserved for the system.';
				EXIT policy;
			END IF;
			SELECT m.role_oid INTO listed FROM rotate.managed_role m
			 WHERE m.role_name = target;
			IF NOT FOUND THEN
				d_code := '42501'; d_reason := 'not_managed';
				d_message := format('role "%s" is not managed by pg_rotate', target);
				d_detail := 'Only roles listed in rotate.managed_role can be rotated.';
				d_hint := 'A superuser can add it with INSERT INTO rotate.managed_role (role_name).';
				EXIT policy;
			END IF;
			IF listed.role_oid IS DISTINCT FROM t.oid THEN
				d_code := '42501'; d_reason := 'listed_role_replaced';
				d_message := format('role "%s" is not managed by pg_rotate', target);
				d_detail := format('rotate.managed_role lists the name "%s" for a role that was dropped or renamed since; role "%s" is another role.',
								   target, target);
				d_hint := format('If this role is to be managed, a superuser can list it: UPDATE rotate.managed_role SET role_name = role_name WHERE role_name = %L.',
								 target);
				EXIT policy;
			END IF;
			-- the mark (see rotate.mark_role): this database's, or 1.0's
			IF rotate.marks_kept() AND NOT EXISTS (
					SELECT 1 FROM rotate.marks() m
					 WHERE m.role = t.oid
					   AND m.database IN (0, (SELECT d.oid FROM pg_database d
											   WHERE d.datname = current_database()))) THEN
				d_code := '55000'; d_reason := 'not_marked';
				d_message := format('role "%s" is not marked as managed in database "%s"',
									target, current_database());
				d_detail := 'The role setting pg_rotate.managed keeps a managed role from changing its own password in every database; it is set when the role is listed.';
				d_hint := format('A superuser can restore it by listing the role again: UPDATE rotate.managed_role SET role_name = role_name WHERE role_name = %L.',
								 target);
				EXIT policy;
			END IF;
			IF target = session_user THEN
				d_code := '42501'; d_reason := 'session_user';
				d_message := format('role "%s" cannot set its own password', target);
				d_detail := format('Role "%s" is the session user.', target);
				d_hint := 'Call rotate.set_password as the rotation role, not as the role being rotated.';
				EXIT policy;
			END IF;
			IF target = caller THEN
				d_code := '42501'; d_reason := 'current_user';
				d_message := format('role "%s" cannot set its own password', target);
				d_detail := format('Role "%s" is the current user.', target);
				d_hint := 'Call rotate.set_password as the rotation role, not as the role being rotated.';
				EXIT policy;
			END IF;
			IF t.oid = owner_oid THEN
				d_code := '42501'; d_reason := 'function_owner';
				d_message := format('cannot set the password of role "%s"', target);
				d_detail := format('Role "%s" owns rotate.set_password.', target);
				EXIT policy;
			END IF;
			refusal := rotate.role_refusal(t.oid, target, owner_oid, true);
			IF refusal.reason IS NOT NULL THEN
				d_code := '42501'; d_reason := refusal.reason;
				d_message := format('cannot set the password of role "%s"', target);
				d_detail := refusal.detail;
				d_hint := refusal.hint;
				EXIT policy;
			END IF;

			EXIT WHEN t.oid = locked;
			IF attempt >= 3 THEN
				RAISE EXCEPTION USING
					ERRCODE = 'object_not_in_prerequisite_state',
					MESSAGE = format('role "%s" keeps changing concurrently', target),
					HINT = 'Retry the call.';
			END IF;
			-- oid is unsigned; the lock's second key is a signed int4
			PERFORM pg_advisory_xact_lock(hashtext('pg_rotate.set_password'),
										  (t.oid::bigint - 2147483648)::int);
			locked := t.oid;
			attempt := attempt + 1;
		END LOOP;

		/*
		 * SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>, strictly:
		 * ALTER ROLE stores anything it does not recognize as a hash as a
		 * plaintext password, so a typo would silently become the password.
		 * The count is digits only and bounded (see policy_check_verifier:
		 * the server reads it into an int, so 4294967297 would be 1).
		 */
		IF octet_length(verifier) > 512 THEN
			d_code := '22023'; d_reason := 'verifier_too_long';
			d_message := format('password verifier for role "%s" is too long', target);
			d_detail := 'A verifier is at most 512 bytes.';
			EXIT policy;
		END IF;
		parts := regexp_match(verifier,
							  '^SCRAM-SHA-256\$([0-9]{1,10}):(' || b64 || ')\$' ||
							  key32 || ':' || key32 || '$');
		IF parts IS NULL OR parts[2] = '' THEN
			d_code := '22023'; d_reason := 'invalid_verifier';
			d_message := format('invalid password verifier for role "%s"', target);
			d_detail := 'rotate.set_password accepts only a SCRAM-SHA-256 verifier: SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>.';
			d_hint := 'Compute the verifier on the client, for example with libpq''s PQencryptPasswordConn(); plaintext and MD5 passwords are refused.';
			EXIT policy;
		END IF;
		-- pg_rotate.min_iterations can only raise the floor
		setting := current_setting('pg_rotate.min_iterations', true);
		IF setting ~ '^[0-9]{1,10}$' THEN
			min_iter := greatest(min_iter, setting::bigint);
		END IF;
		IF parts[1]::bigint < min_iter THEN
			d_code := '22023'; d_reason := 'weak_verifier';
			d_message := format('SCRAM-SHA-256 verifier for role "%s" has too few iterations', target);
			d_detail := format('At least %s iterations are required.', min_iter);
			EXIT policy;
		END IF;
		-- pg_rotate.max_iterations can only lower the ceiling
		setting := current_setting('pg_rotate.max_iterations', true);
		IF setting ~ '^[0-9]{1,10}$' THEN
			max_iter := least(max_iter, setting::bigint);
		END IF;
		IF parts[1]::bigint > max_iter THEN
			d_code := '22023'; d_reason := 'excessive_iterations';
			d_message := format('SCRAM-SHA-256 verifier for role "%s" has too many iterations', target);
			d_detail := format('At most %s iterations are accepted (pg_rotate.max_iterations): every login computes them.',
							   max_iter);
			EXIT policy;
		END IF;

		/*
		 * The change itself.  Its error, if any, is re-raised without the
		 * CONTEXT line, which would quote the statement and the verifier.
		 * pg_tle's password check (flavour_sql_passcheck.sql) knows
		 * set_password by this very statement: change both together.
		 */
		BEGIN
			EXECUTE format('ALTER ROLE %I PASSWORD %L', target, verifier);
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS e_code = RETURNED_SQLSTATE,
				e_message = MESSAGE_TEXT, e_detail = PG_EXCEPTION_DETAIL,
				e_hint = PG_EXCEPTION_HINT;
			e_message := regexp_replace(e_message, 'SCRAM-SHA-256\$[A-Za-z0-9+/=:$]*',
										'SCRAM-SHA-256$<redacted>', 'gi');
			e_detail := nullif(regexp_replace(e_detail, 'SCRAM-SHA-256\$[A-Za-z0-9+/=:$]*',
											  'SCRAM-SHA-256$<redacted>', 'gi'), '');
			e_hint := nullif(regexp_replace(e_hint, 'SCRAM-SHA-256\$[A-Za-z0-9+/=:$]*',
											'SCRAM-SHA-256$<redacted>', 'gi'), '');
			IF e_detail IS NULL AND e_hint IS NULL THEN
				RAISE EXCEPTION USING ERRCODE = e_code, MESSAGE = e_message;
			ELSIF e_hint IS NULL THEN
				RAISE EXCEPTION USING ERRCODE = e_code, MESSAGE = e_message, DETAIL = e_detail;
			ELSIF e_detail IS NULL THEN
				RAISE EXCEPTION USING ERRCODE = e_code, MESSAGE = e_message, HINT = e_hint;
			ELSE
				RAISE EXCEPTION USING ERRCODE = e_code, MESSAGE = e_message,
					DETAIL = e_detail, HINT = e_hint;
			END IF;
		END;
		IF NOT EXISTS (SELECT 1 FROM pg_roles r
						WHERE r.rolname = target AND r.oid = locked) THEN
			RAISE EXCEPTION USING
				ERRCODE = 'object_not_in_prerequisite_state',
				MESSAGE = format('role "%s" was replaced concurrently', target),
				HINT = 'Retry the call.';
		END IF;

		RETURN rotate.audit_append('password_set', target, secret_id, version_id,
								   jsonb_build_object('enforcement',
													  rotate.enforcement()->>'state'));
	END policy;

	-- a refusal: counted, not recorded (rotate.refuse), unless the owner
	-- cannot use schema rotate (owner_not_superuser, with detail and hint)
	IF has_schema_privilege('rotate', 'USAGE') THEN
		PERFORM rotate.refuse('set_password', target, d_code, d_reason, d_message,
							  d_detail, d_hint);
	END IF;
	RAISE EXCEPTION USING ERRCODE = d_code, MESSAGE = d_message,
		DETAIL = d_detail, HINT = d_hint;
END
$$;

/*
 * rotate.log_event(target, event, secret_id, version_id, detail): record
 * one of the client's later steps for a managed role; returns the row id.
 * As pg_rotate_log_event() in extension/set_password.c: its refusals go
 * through rotate.refuse, as set_password's do, and tested, finished and
 * rolled_back are refused for a rotation without a password_set row.
 */
CREATE OR REPLACE FUNCTION rotate.log_event(
	target name, event text, secret_id text, version_id text,
	detail jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM rotate.require_set_up();
	PERFORM rotate.deny_secret_fields('log_event', event, target, secret_id,
									  version_id, detail);
	IF target IS NULL THEN
		PERFORM rotate.refuse('log_event', target, '22004', 'null_argument',
							  'argument "target" must not be null');
	END IF;
	IF event IS NULL THEN
		PERFORM rotate.refuse('log_event', target, '22004', 'null_argument',
							  'argument "event" must not be null');
	END IF;
	IF event NOT IN ('tested', 'finished', 'rolled_back', 'failed') THEN
		PERFORM rotate.refuse('log_event', target, '22023', 'invalid_event',
							  format('invalid event "%s"', event), NULL,
							  'Valid events are tested, finished, rolled_back and failed.');
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = log_event.target) THEN
		PERFORM rotate.refuse('log_event', target, '42704', 'no_such_role',
							  format('role "%s" does not exist', target));
	END IF;
	IF NOT EXISTS (SELECT 1 FROM rotate.managed_role m
					WHERE m.role_name = log_event.target) THEN
		PERFORM rotate.refuse('log_event', target, '42501', 'not_managed',
							  format('role "%s" is not managed by pg_rotate', target),
							  'Only roles listed in rotate.managed_role can be rotated.');
	END IF;
	IF jsonb_typeof(detail) IS DISTINCT FROM 'object' AND detail IS NOT NULL THEN
		PERFORM rotate.refuse('log_event', target, '22023', 'invalid_detail',
							  'event detail must be a JSON object');
	END IF;
	IF event <> 'failed' AND NOT EXISTS (
			SELECT 1 FROM rotate.audit_log a
			 WHERE a.secret_id = log_event.secret_id
			   AND a.version_id = log_event.version_id
			   AND a.target = log_event.target
			   AND a.event = 'password_set') THEN
		PERFORM rotate.refuse('log_event', target, '55000', 'no_password_set',
							  format('cannot record "%s" for a rotation whose password was not set', event),
							  format('rotate.audit_log has no password_set row for role "%s" with this secret_id and version_id.', target),
							  'Record tested, finished and rolled_back after rotate.set_password succeeded for the same role, secret_id and version_id.');
	END IF;
	RETURN rotate.audit_append(event, target, secret_id, version_id, detail);
END
$$;

/*
 * rotate.audit_log_append_only(): BEFORE UPDATE OR DELETE (row) and
 * BEFORE TRUNCATE (statement) trigger on rotate.audit_log; always raises.
 */
CREATE OR REPLACE FUNCTION rotate.audit_log_append_only()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
		MESSAGE = format('cannot %s table "rotate.audit_log"',
						 CASE TG_OP WHEN 'UPDATE' THEN 'update'
									WHEN 'DELETE' THEN 'delete from'
									WHEN 'TRUNCATE' THEN 'truncate'
									ELSE 'modify' END),
		DETAIL = 'The audit log is append-only: rows can be added, never changed or removed.';
END
$$;

/*
 * rotate.managed_role_check(): BEFORE INSERT OR UPDATE (row) trigger on
 * rotate.managed_role, as pg_rotate_managed_role_check() in
 * extension/managed_role.c: the entry must name an existing role that may
 * be managed (rotate.role_refusal), and role_oid becomes that role's OID.
 * SECURITY DEFINER for the same reason as managed_role_audit: whoever may
 * write the list needs nothing on rotate.role_refusal.
 */
CREATE OR REPLACE FUNCTION rotate.managed_role_check()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	role_id		oid;
	refusal		record;
BEGIN
	SELECT a.oid INTO role_id FROM pg_roles a WHERE a.rolname = NEW.role_name;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_object',
			MESSAGE = format('role "%s" does not exist', NEW.role_name),
			DETAIL = 'rotate.managed_role lists roles, not names: a role created later under this name would not be marked.',
			HINT = 'Create the role first, then list it.';
	END IF;
	IF left(NEW.role_name, 3) = 'pg_' THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('role "%s" cannot be managed by pg_rotate', NEW.role_name),
			DETAIL = 'Role names beginning with "pg_" are reserved for the system.';
	END IF;
	refusal := rotate.role_refusal(role_id, NEW.role_name, NULL, false);
	IF refusal.reason IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('role "%s" cannot be managed by pg_rotate', NEW.role_name),
			DETAIL = refusal.detail, HINT = refusal.hint;
	END IF;
	NEW.role_oid := role_id;
	RETURN NEW;
END
$$;

/*
 * rotate.managed_role_audit(): AFTER INSERT/UPDATE/DELETE (row) and AFTER
 * TRUNCATE (statement) trigger on rotate.managed_role: role_added,
 * role_changed and role_removed rows, in the same transaction, and the
 * roles' marks for this database (rotate.mark_role).  SECURITY DEFINER so
 * that a role granted DML on the allow-list needs nothing on the audit log
 * (the C trigger switches to the owner inside).
 */
CREATE OR REPLACE FUNCTION rotate.managed_role_audit()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	marked		oid;
BEGIN
	IF TG_OP = 'TRUNCATE' THEN
		FOR marked IN SELECT m.role FROM rotate.marks() m
					   WHERE m.database = (SELECT d.oid FROM pg_database d
											WHERE d.datname = current_database()) LOOP
			PERFORM rotate.mark_role(marked, false);
		END LOOP;
		PERFORM rotate.audit_append('role_removed', NULL, NULL, NULL,
									'{"truncate": true}');
	ELSIF TG_OP = 'INSERT' THEN
		PERFORM rotate.mark_role(NEW.role_oid, true);
		PERFORM rotate.audit_append('role_added', NEW.role_name, NULL, NULL,
									jsonb_build_object('note', NEW.note));
	ELSIF TG_OP = 'UPDATE' THEN
		IF OLD.role_oid IS DISTINCT FROM NEW.role_oid AND OLD.role_oid IS NOT NULL THEN
			PERFORM rotate.mark_role(OLD.role_oid, false);
		END IF;
		PERFORM rotate.mark_role(NEW.role_oid, true);
		PERFORM rotate.audit_append('role_changed', NEW.role_name, NULL, NULL,
									jsonb_build_object('old_role_name', OLD.role_name,
													   'note', NEW.note));
	ELSE
		PERFORM rotate.mark_role(OLD.role_oid, false);
		PERFORM rotate.audit_append('role_removed', OLD.role_name, NULL, NULL,
									'{}');
	END IF;
	RETURN NULL;
END
$$;
