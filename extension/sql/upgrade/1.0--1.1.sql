/*
 * extension/sql/upgrade/1.0--1.1.sql
 *
 * What an update from 1.0 to 1.1 does besides running the re-runnable
 * pieces again (shared.sql, the flavour's functions, shared_bind.sql):
 * changes to the tables of tables.sql, and objects 1.1 no longer has.
 * Run before those pieces, in both flavours' update scripts
 * (pg_rotate--1.0--1.1.sql and pg_rotate--1.0-sql--1.1-sql.sql) and in
 * pg_tle's update path.  From 1.1 on, the audit log's DDL guard (event
 * triggers, sql/shared.sql) is in place when an update script runs: it
 * lets the script's own DDL through (in_extension), but it cannot tell a
 * script's DROP from anyone else's, so an update script that drops an
 * object of schema rotate disables pg_rotate_audit_log_guard_drop around
 * the drop (as sql/leave_flavour_sql.sql does).
 */

/*
 * rotate.managed_role.role_oid (see tables.sql): each entry is bound to
 * the role its name names now.  An entry whose role does not exist keeps
 * a NULL role_oid: set_password refuses it until a superuser lists the
 * role again (UPDATE ... SET role_name = role_name).  1.0's audit trigger
 * is held off: binding the entries changes nothing a reader of the list
 * sees, and must not add role_changed rows.
 */
ALTER TABLE rotate.managed_role ADD COLUMN role_oid oid UNIQUE;
ALTER TABLE rotate.managed_role DISABLE TRIGGER managed_role_audit;
UPDATE rotate.managed_role m SET role_oid = r.oid
  FROM pg_catalog.pg_roles r
 WHERE r.rolname OPERATOR(pg_catalog.=) m.role_name;
ALTER TABLE rotate.managed_role ENABLE TRIGGER managed_role_audit;

/*
 * The marks of 1.1 (extension/role_mark.c): one per database that lists a
 * role, where 1.0 set a single cluster-wide one (which still counts, and
 * goes when the role leaves its last list).  Set as the flavours set them:
 * by a superuser; on Amazon RDS, where nobody is one, there are no marks
 * (nor a hook to read them).
 */
DO $$
DECLARE
	r	record;
BEGIN
	IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles
			 WHERE rolname OPERATOR(pg_catalog.=) current_user) THEN
		RETURN;
	END IF;
	-- reserved roles cannot be altered (and set_password refuses them)
	FOR r IN SELECT m.role_name FROM rotate.managed_role m
			  WHERE m.role_oid IS NOT NULL
				AND pg_catalog.left(m.role_name, 3) OPERATOR(pg_catalog.<>) 'pg_' LOOP
		EXECUTE pg_catalog.format('ALTER ROLE %I IN DATABASE %I SET pg_rotate.managed = on',
								  r.role_name, pg_catalog.current_database());
	END LOOP;
END
$$;

-- the counter of refusals whose own row could not be written (tables.sql)
ALTER TABLE rotate.audit_log DROP CONSTRAINT audit_log_event_check;
ALTER TABLE rotate.audit_log ADD CONSTRAINT audit_log_event_check CHECK (event IN (
	'password_set', 'denied', 'direct_change',
	'tested', 'finished', 'rolled_back', 'failed',
	'role_added', 'role_changed', 'role_removed',
	'refusals_unrecorded'));
CREATE SEQUENCE rotate.unrecorded_refusal_seq;
CREATE INDEX audit_log_refusals_unrecorded_idx
	ON rotate.audit_log (id) WHERE event = 'refusals_unrecorded';
SELECT pg_catalog.pg_extension_config_dump('rotate.unrecorded_refusal_seq', '');
REVOKE ALL ON SEQUENCE rotate.unrecorded_refusal_seq FROM PUBLIC;
