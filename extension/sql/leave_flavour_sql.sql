/*
 * extension/sql/leave_flavour_sql.sql
 *
 * Switching from the SQL-only flavour to the C flavour (ALTER EXTENSION
 * pg_rotate UPDATE TO 'X.Y' from 'X.Y-sql'): the C flavour's pieces
 * replace the functions both flavours have; this drops what only the
 * SQL-only flavour has.  The tables, and so the audit log, are kept.
 * The DDL guard's sql_drop trigger refuses drops in the schema outside an
 * extension script it can recognize, so it is off while they run (the
 * C flavour's hook allows that within the extension's scripts).
 */
ALTER EVENT TRIGGER pg_rotate_audit_log_guard_drop DISABLE;

-- pg_tle's password check (flavour_sql_passcheck.sql): the C flavour's hook
-- takes over.  pg_tle refuses to drop a registered function.
DO $unregister$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_tle') THEN
		PERFORM pgtle.unregister_feature_if_exists('rotate_hook.passcheck', 'passcheck');
	END IF;
END
$unregister$;
DROP FUNCTION rotate_hook.passcheck(text, text, anyenum, timestamptz, boolean);
DROP FUNCTION rotate_hook.refuse(text, text);
DROP FUNCTION rotate_hook.is_managed(text);
DROP SCHEMA rotate_hook;

DROP FUNCTION rotate.audit_append(text, name, text, text, jsonb);
DROP FUNCTION rotate.role_refusal(oid, name, oid, boolean);
DROP FUNCTION rotate.mark_role(oid, boolean);
DROP FUNCTION rotate.marks_kept();
DROP FUNCTION rotate.marks();
DROP FUNCTION rotate.deny_secret_fields(text, text, name, text, text, jsonb);
DROP FUNCTION rotate.audit_secret_field(text, name, text, text, jsonb);
DROP FUNCTION rotate.holds_secret(text);
DROP FUNCTION rotate.refuse(text, name, text, text, text, text, text);
DROP FUNCTION rotate.require_set_up();
ALTER EVENT TRIGGER pg_rotate_audit_log_guard_drop ENABLE ALWAYS;
