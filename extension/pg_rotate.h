/*-------------------------------------------------------------------------
 *
 * pg_rotate.h
 *	  Declarations shared by the files of the pg_rotate extension.
 *
 * One file per concern:
 *	pg_rotate.c			_PG_init, GUCs, lookups of the extension's objects
 *	policy.c			who may be rotated, what a verifier must look like
 *	reach.c				the roles a role can become through memberships
 *	managed_role.c		the allow-list: lookups, the trigger that checks entries
 *	role_mark.c			the per-database marks of managed roles
 *	set_password.c		rotate.set_password() and rotate.log_event()
 *	audit.c				the hash chain and every insert into rotate.audit_log
 *	audit_pending.c		refusals kept on disk until they are in the chain
 *	audit_worker.c		the writer that chains them at once, in its own
 *						transaction
 *	audit_guard.c		ProcessUtility_hook: the log's DDL guard stays on
 *	self_change_hook.c	ProcessUtility_hook: managed roles' passwords, renames,
 *						memberships
 *	log_redact.c		emit_log_hook: no password or verifier in the server log
 *	enforcement.c		rotate.enforcement(): is the ban on self-change on?
 *
 * extension/pg_rotate.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_ROTATE_H
#define PG_ROTATE_H

#include "postgres.h"

#include "catalog/objectaddress.h"
#include "nodes/pg_list.h"

#include "compat.h"				/* pg_noreturn before PostgreSQL 18 */
#include "datatype/timestamp.h"
#include "executor/spi.h"

#define PG_ROTATE_SCHEMA		"rotate"
#define PG_ROTATE_EXTENSION		"pg_rotate"
#define PG_ROTATE_MIN_ITERATIONS	4096
#define PG_ROTATE_MAX_ITERATIONS	100000
/* the longest verifier accepted: PostgreSQL's own are about 130 bytes */
#define PG_ROTATE_MAX_VERIFIER_LEN	512

/* ----- pg_rotate.c ----- */

/* true when loaded through shared_preload_libraries (hook installed) */
extern bool pg_rotate_preloaded;
extern bool pg_rotate_redact_log;
extern int	pg_rotate_min_iterations;
extern int	pg_rotate_max_iterations;
extern int	pg_rotate_writer_timeout;

/*
 * The extension's objects in the current database.  ok is false when the
 * extension (or one of its tables) is missing.
 */
typedef struct RotateObjects
{
	bool		ok;
	Oid			audit_log;		/* rotate.audit_log */
	Oid			audit_seq;		/* rotate.audit_log_id_seq */
	Oid			managed_role;	/* rotate.managed_role */
	Oid			owner;			/* owner of rotate.audit_log */
	Oid			list_owner;		/* owner of rotate.managed_role */
	bool		listing_by_oid; /* managed_role has role_oid (1.1 tables) */
	Oid			refusal_seq;	/* rotate.unrecorded_refusal_seq, or
								 * InvalidOid before version 1.1 */
} RotateObjects;

/* An object that controls the audit log, and its owner. */
typedef struct LogController
{
	Oid			owner;
	ObjectAddress object;
} LogController;

extern void rotate_lookup_objects(RotateObjects *objs);
extern void rotate_require_objects(RotateObjects *objs);
extern Oid	rotate_extension_owner(void);
extern List *rotate_log_controllers(const RotateObjects *objs);
extern SPIPlanPtr rotate_keep_plan(const char *sql, int nargs, Oid *argtypes);

/* ----- audit.c ----- */

/*
 * One audit row before it is chained.  Every field is a NUL-terminated
 * string in the server encoding, or NULL.  detail is JSON text (NULL means
 * '{}'), client_addr the text form of an inet.  Nothing here may ever hold
 * a password, a verifier or anything derived from one (audit_append
 * refuses it).
 */
typedef struct AuditEvent
{
	const char *actor;
	const char *target;
	const char *event;
	const char *secret_id;
	const char *version_id;
	const char *client_addr;
	const char *application_name;
	const char *detail;
} AuditEvent;

/*
 * The fields of an AuditEvent, in the order of the chain's serialization
 * (audit.c's header): the one list that the writer, the secret check and
 * the pending records walk.  type is the column's type in rotate.audit_log.
 */
typedef struct AuditField
{
	const char *name;
	size_t		offset;			/* of the field in AuditEvent */
	Oid			type;
} AuditField;

#define AUDIT_NFIELDS 8

extern const AuditField audit_fields[AUDIT_NFIELDS];

/* Field i of an AuditEvent, read and written through audit_fields. */
static inline const char *
audit_field_get(const AuditEvent *ev, int i)
{
	return *(const char *const *) ((const char *) ev + audit_fields[i].offset);
}

static inline void
audit_field_set(AuditEvent *ev, int i, const char *value)
{
	*(const char **) ((char *) ev + audit_fields[i].offset) = value;
}

extern void audit_event_init(AuditEvent *ev, const char *event,
							 const char *target);
extern const char *audit_secret_field(const AuditEvent *ev);
extern int64 audit_append(const AuditEvent *ev);
extern void audit_flush(void);
extern int64 audit_chain_row(const RotateObjects *objs, const AuditEvent *ev);
extern char *audit_json_object(int npairs, const char *const *pairs);
extern char *audit_timestamp_text(TimestampTz ts);

/* ----- audit_pending.c ----- */

extern char *audit_pending_save(const AuditEvent *ev, TimestampTz refused_at,
								int64 watermark);
extern bool audit_pending_exists(const char *name);
extern void audit_pending_flush(const RotateObjects *objs);

/* ----- role_mark.c ----- */

#define PG_ROTATE_MARK "pg_rotate.managed"

extern void role_mark_set(Oid roleid, bool managed);
extern void role_mark_clear_database(void);
extern bool role_is_marked(Oid roleid);
extern bool role_is_marked_here(Oid roleid);

/* ----- reach.c ----- */

extern List *reach_up(Oid roleid);
extern List *reach_down(Oid roleid);

/* ----- managed_role.c ----- */

/* What this database's allow-list says of a role, by name and OID. */
typedef enum Listing
{
	LISTING_NONE,				/* the name is not listed */
	LISTING_THIS_ROLE,			/* listed, and it is this role */
	LISTING_OTHER_ROLE			/* the name is listed for a role since
								 * dropped or renamed */
} Listing;

extern bool policy_role_is_managed(const char *rolename);
extern Listing managed_role_listing(const char *rolename, Oid roleid);
extern bool managed_role_is_listed(Oid roleid);
extern Oid	managed_role_check_entry(const char *rolename);

/* ----- audit_worker.c ----- */

extern char *audit_record_denial(const AuditEvent *ev);

/* ----- policy.c ----- */

/* Why a request was refused: what the ERROR and the audit row say. */
typedef struct PolicyDenial
{
	int			sqlerrcode;
	const char *reason;			/* short code stored in the audit row */
	char	   *message;
	char	   *detail;
	char	   *hint;
} PolicyDenial;

/*
 * A role that a managed role may not be or become, and why; filled by
 * policy_find_forbidden.
 */
typedef struct Forbidden
{
	Oid			role;			/* the role reached (maybe the role itself) */
	bool		direct;			/* it is the role itself */
	const char *reason;			/* the audit row's reason */
	const char *attribute;		/* "SUPERUSER", ... when that is why */
	const char *why;			/* "has the SUPERUSER attribute", ... */
} Forbidden;

/* What policy_find_forbidden holds against the roles reached. */
typedef struct ReachScope
{
	Oid			func_owner;		/* owner of set_password, or InvalidOid */
	bool		callers;		/* the session user and the current user */
	List	   *controllers;	/* LogControllers of this database's log */
} ReachScope;

extern bool policy_find_forbidden(Oid roleid, const ReachScope *scope,
								  Forbidden *f);
extern bool policy_check_target(const char *target, Oid func_owner,
								Oid *roleid, PolicyDenial *denial);
extern bool policy_check_listing(const char *rolename, Oid *roleid,
								 PolicyDenial *denial);
pg_noreturn extern void policy_raise(const PolicyDenial *denial);
extern bool policy_check_verifier(const char *target, const char *verifier,
								  PolicyDenial *denial);
pg_noreturn extern void policy_deny(const char *function, const AuditEvent *ev,
									const PolicyDenial *denial);

/* audit.c: the refusal of a field that holds a secret */
extern void audit_secret_denial(const char *field, PolicyDenial *d);

/* ----- self_change_hook.c ----- */

extern void self_change_hook_install(void);

/* ----- log_redact.c ----- */

extern void log_redact_install(void);

/* ----- audit_guard.c ----- */

extern void audit_guard_install(void);

#endif							/* PG_ROTATE_H */
