
-- ===================================================================
-- Part 3: shared by every flavour: what the flavour's functions are
-- for, who may run them, and the triggers that use them
-- ===================================================================

COMMENT ON FUNCTION rotate.set_password(name, text, text, text) IS
	'set an allow-listed role''s password to a SCRAM-SHA-256 verifier; returns the audit row id';
COMMENT ON FUNCTION rotate.log_event(name, text, text, text, jsonb) IS
	'record a later rotation step (tested, finished, rolled_back, failed); returns the audit row id';

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
