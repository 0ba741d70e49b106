/*-------------------------------------------------------------------------
 *
 * pg_rotate.h
 *	  Declarations shared by the files of the pg_rotate extension.
 *
 * One file per concern:
 *	pg_rotate.c			_PG_init, GUCs, lookups of the extension's objects
 *	policy.c			who may be rotated, what a verifier must look like
 *	set_password.c		rotate.set_password() and rotate.log_event()
 *	audit.c				the hash chain and every insert into rotate.audit_log
 *	audit_worker.c		"denied" rows that survive the caller's rollback
 *	self_change_hook.c	ProcessUtility_hook: no self-change, direct_change
 *	log_redact.c		emit_log_hook: no SCRAM verifier in the server log
 *
 * extension/pg_rotate.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_ROTATE_H
#define PG_ROTATE_H

#include "postgres.h"

#include "compat.h"				/* pg_noreturn before PostgreSQL 18 */

#define PG_ROTATE_SCHEMA		"rotate"
#define PG_ROTATE_EXTENSION		"pg_rotate"
#define PG_ROTATE_MIN_ITERATIONS	4096

/* ----- pg_rotate.c ----- */

/* true when loaded through shared_preload_libraries (hook installed) */
extern bool pg_rotate_preloaded;
extern bool pg_rotate_redact_log;
extern int	pg_rotate_min_iterations;
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
} RotateObjects;

extern void rotate_lookup_objects(RotateObjects *objs);
extern void rotate_require_objects(RotateObjects *objs);

/* ----- audit.c ----- */

/*
 * One audit row before it is chained.  Every field is a NUL-terminated
 * string in the server encoding, or NULL.  detail is JSON text (NULL means
 * '{}'), client_addr the text form of an inet.  Nothing here may ever hold
 * a password, a verifier or anything derived from one.
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

#define AUDIT_NFIELDS 8

extern void audit_event_init(AuditEvent *ev, const char *event,
							 const char *target);
extern int64 audit_append(const AuditEvent *ev);
extern char *audit_json_object(int npairs, const char *const *pairs);

/* ----- role_mark.c ----- */

#define PG_ROTATE_MARK "pg_rotate.managed"

extern void role_mark_set(const char *role_name, bool managed);
extern bool role_is_marked(Oid roleid);

/* ----- audit_worker.c ----- */

extern bool audit_append_autonomous(const AuditEvent *ev, int64 *id,
									char **why_not);

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

extern bool policy_role_is_managed(const char *rolename);
extern bool policy_check_target(const char *target, Oid func_owner,
								Oid *roleid, PolicyDenial *denial);
extern bool policy_check_verifier(const char *target, const char *verifier,
								  PolicyDenial *denial);
pg_noreturn extern void policy_deny(const char *function, const AuditEvent *ev,
									const PolicyDenial *denial);

/* ----- self_change_hook.c ----- */

extern void self_change_hook_install(void);

/* ----- log_redact.c ----- */

extern void log_redact_install(void);

#endif							/* PG_ROTATE_H */
