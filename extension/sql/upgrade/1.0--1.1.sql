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
