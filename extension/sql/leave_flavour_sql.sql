/*
 * extension/sql/leave_flavour_sql.sql
 *
 * Switching from the SQL-only flavour to the C flavour (ALTER EXTENSION
 * pg_rotate UPDATE TO 'X.Y' from 'X.Y-sql'): the C flavour's pieces
 * replace the functions both flavours have; this drops what only the
 * SQL-only flavour has.  The tables, and so the audit log, are kept.
 */
DROP FUNCTION rotate.audit_append(text, name, text, text, jsonb);

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
DROP FUNCTION rotate_hook.is_managed(text);
DROP SCHEMA rotate_hook;
