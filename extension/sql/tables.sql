/*
 * extension/sql/tables.sql
 *
 * pg_rotate's tables and sequence, shared by every flavour: run once, by
 * the install script of a version.  Everything else (functions, views,
 * triggers, comments, grants) is in the re-runnable pieces, which the
 * upgrade scripts run again; a change to these tables for a new version
 * goes here (for new installs) and into sql/upgrade/OLD--NEW.sql (for
 * upgrades).  See extension/Makefile for how the scripts are assembled.
 *
 * Objects live in schema "rotate" (created by CREATE EXTENSION, owned by
 * the extension owner, no privileges for PUBLIC).
 */

/*
 * The allow-list: only these roles may be rotated.  Changes are audited.
 * role_oid is the role that role_name named when the entry was written,
 * set by the managed_role_check trigger whatever the statement says: a
 * role created later under a dropped or renamed role's name is not it.
 * NULL only in an entry kept from 1.0 whose role did not exist then.
 */
CREATE TABLE rotate.managed_role (
	role_name	name PRIMARY KEY,
	added_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	added_by	name NOT NULL DEFAULT SESSION_USER,
	note		text,
	role_oid	oid UNIQUE
);

COMMENT ON TABLE rotate.managed_role IS
	'roles whose passwords rotate.set_password may set (superuser-managed)';

/*
 * The audit log.  Append-only for everyone (triggers refuse UPDATE, DELETE
 * and TRUNCATE), hash-chained: row_hash is the SHA-256 of the row's
 * canonical serialization, which includes prev_hash, the row_hash of the
 * row before it (see rotate.audit_row_hash).  Writers hold a SHARE ROW
 * EXCLUSIVE lock on the table from before they draw the id until they
 * commit, so id order is chain order.  Never holds a password, a verifier
 * or anything derived from one.
 */
CREATE SEQUENCE rotate.audit_log_id_seq;

CREATE TABLE rotate.audit_log (
	id					bigint PRIMARY KEY,
	logged_at			timestamptz NOT NULL,
	actor				name NOT NULL,		-- the session user who called
	target				name,
	event				text NOT NULL CHECK (event IN (
							'password_set', 'denied', 'direct_change',
							'tested', 'finished', 'rolled_back', 'failed',
							'role_added', 'role_changed', 'role_removed',
							'refusals_unrecorded')),
	secret_id			text,
	version_id			text,
	client_addr			inet,
	application_name	text,
	detail				jsonb NOT NULL DEFAULT '{}',
	prev_hash			text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
	row_hash			text NOT NULL CHECK (row_hash ~ '^[0-9a-f]{64}$')
);

ALTER SEQUENCE rotate.audit_log_id_seq OWNED BY rotate.audit_log.id;

CREATE INDEX audit_log_rotation_idx
	ON rotate.audit_log (secret_id, version_id) WHERE secret_id IS NOT NULL;
CREATE INDEX audit_log_target_idx ON rotate.audit_log (target);

/*
 * Refusals whose own row could not be written (the SQL-only flavour's
 * always: its ERROR rolls the row back; the C flavour's only when it cannot
 * save the refusal to disk): each calls nextval(), which survives the
 * rollback, and the next write to the log records how many in a
 * "refusals_unrecorded" row ({"count": n, "through": value}).  The index
 * finds the latest such row.
 */
CREATE SEQUENCE rotate.unrecorded_refusal_seq;
CREATE INDEX audit_log_refusals_unrecorded_idx
	ON rotate.audit_log (id) WHERE event = 'refusals_unrecorded';

COMMENT ON TABLE rotate.audit_log IS
	'append-only, hash-chained audit trail of pg_rotate';

-- pg_dump/pg_restore keep the allow-list and the audit trail.
SELECT pg_catalog.pg_extension_config_dump('rotate.managed_role', '');
SELECT pg_catalog.pg_extension_config_dump('rotate.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('rotate.audit_log_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('rotate.unrecorded_refusal_seq', '');

-- Nothing for PUBLIC: a DBA grants USAGE on the schema and what each role needs.
REVOKE ALL ON rotate.managed_role, rotate.audit_log FROM PUBLIC;
REVOKE ALL ON SEQUENCE rotate.audit_log_id_seq, rotate.unrecorded_refusal_seq FROM PUBLIC;
