
-- ===================================================================
-- Part 3: shared by every flavour: what the flavour's functions are
-- for, who may run them, and the triggers that use them
-- ===================================================================

COMMENT ON FUNCTION rotate.set_password(name, text, text, text) IS
	'set an allow-listed role''s password to a SCRAM-SHA-256 verifier; returns the audit row id';
COMMENT ON FUNCTION rotate.log_event(name, text, text, text, jsonb) IS
	'record a later rotation step (tested, finished, rolled_back, failed); returns the audit row id';
COMMENT ON FUNCTION rotate.enforcement() IS
	'is the ban on self-change in force here? {flavour, mechanism, state: on or off, why}';

REVOKE ALL ON FUNCTION rotate.set_password(name, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION rotate.log_event(name, text, text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION rotate.audit_log_append_only() FROM PUBLIC;
REVOKE ALL ON FUNCTION rotate.managed_role_audit() FROM PUBLIC;
REVOKE ALL ON FUNCTION rotate.managed_role_check() FROM PUBLIC;

CREATE OR REPLACE TRIGGER audit_log_append_only
	BEFORE UPDATE OR DELETE ON rotate.audit_log
	FOR EACH ROW EXECUTE FUNCTION rotate.audit_log_append_only();
CREATE OR REPLACE TRIGGER audit_log_no_truncate
	BEFORE TRUNCATE ON rotate.audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION rotate.audit_log_append_only();
-- ALWAYS: session_replication_role = replica does not switch them off
ALTER TABLE rotate.audit_log ENABLE ALWAYS TRIGGER audit_log_append_only;
ALTER TABLE rotate.audit_log ENABLE ALWAYS TRIGGER audit_log_no_truncate;

-- every entry names an existing role that may be managed, and holds its OID
CREATE OR REPLACE TRIGGER managed_role_check
	BEFORE INSERT OR UPDATE ON rotate.managed_role
	FOR EACH ROW EXECUTE FUNCTION rotate.managed_role_check();
ALTER TABLE rotate.managed_role ENABLE ALWAYS TRIGGER managed_role_check;
CREATE OR REPLACE TRIGGER managed_role_audit
	AFTER INSERT OR UPDATE OR DELETE ON rotate.managed_role
	FOR EACH ROW EXECUTE FUNCTION rotate.managed_role_audit();
CREATE OR REPLACE TRIGGER managed_role_audit_truncate
	AFTER TRUNCATE ON rotate.managed_role
	FOR EACH STATEMENT EXECUTE FUNCTION rotate.managed_role_audit();

COMMENT ON FUNCTION rotate.audit_anchor() IS
	'the audit log''s tip as ''<id>:<row_hash>'': keep it outside the database and check the log against it with rotate.verify_audit_log(anchor)';
COMMENT ON FUNCTION rotate.verify_audit_log(text) IS
	'verify_audit_log(), and that the log still holds the anchor''s row with the anchor''s hash';
GRANT EXECUTE ON FUNCTION rotate.audit_anchor(), rotate.verify_audit_log(text) TO PUBLIC;
REVOKE ALL ON FUNCTION rotate.audit_log_guard() FROM PUBLIC;

/*
 * The DDL guard of the audit log (rotate.audit_log_guard, shared.sql):
 * ENABLE ALWAYS, so that session_replication_role = replica does not
 * switch it off.  Creating an event trigger needs a superuser (on Amazon
 * RDS, the master user); whoever installs pg_rotate without that right is
 * warned that the log has no guard.  Run again by every update, it keeps
 * the triggers it finds.
 */
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_event_trigger
					WHERE evtname = 'pg_rotate_audit_log_guard') THEN
		CREATE EVENT TRIGGER pg_rotate_audit_log_guard ON ddl_command_end
			EXECUTE FUNCTION rotate.audit_log_guard();
	END IF;
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_event_trigger
					WHERE evtname = 'pg_rotate_audit_log_guard_drop') THEN
		CREATE EVENT TRIGGER pg_rotate_audit_log_guard_drop ON sql_drop
			EXECUTE FUNCTION rotate.audit_log_guard();
	END IF;
	ALTER EVENT TRIGGER pg_rotate_audit_log_guard ENABLE ALWAYS;
	ALTER EVENT TRIGGER pg_rotate_audit_log_guard_drop ENABLE ALWAYS;
EXCEPTION WHEN insufficient_privilege THEN
	RAISE WARNING 'the audit log of pg_rotate has no DDL guard'
		USING DETAIL = 'Creating its event triggers needs a superuser (on Amazon RDS, the master user).',
			  HINT = 'Install pg_rotate as such a role.';
END
$$;
