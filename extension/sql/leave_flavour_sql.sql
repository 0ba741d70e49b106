/*
 * extension/sql/leave_flavour_sql.sql
 *
 * Switching from the SQL-only flavour to the C flavour (ALTER EXTENSION
 * pg_rotate UPDATE TO 'X.Y' from 'X.Y-sql'): the C flavour's pieces
 * replace the functions both flavours have; this drops what only the
 * SQL-only flavour has.  The tables, and so the audit log, are kept.
 */
DROP FUNCTION rotate.audit_append(text, name, text, text, jsonb);
DROP FUNCTION rotate.role_refusal(oid, name, oid, boolean);
DROP FUNCTION rotate.mark_role(oid, boolean);
DROP FUNCTION rotate.marks_kept();
DROP FUNCTION rotate.marks();
