/*-------------------------------------------------------------------------
 *
 * set_password.c
 *	  rotate.set_password() and rotate.log_event(), the two functions a
 *	  rotation role is granted.
 *
 * set_password sets an allow-listed role's password to a SCRAM-SHA-256
 * verifier the client computed, through PostgreSQL's own AlterRole() with
 * a statement node built here: the verifier never appears in SQL text.
 * Calls for one role are serialized by a lock on the role itself; the
 * audit row is chained under the audit log's own lock (audit.c).
 *
 * extension/set_password.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/user.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_node.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "compat.h"
#include "pg_rotate.h"

PG_FUNCTION_INFO_V1(pg_rotate_set_password);
PG_FUNCTION_INFO_V1(pg_rotate_log_event);

/* "enforcement is off" is logged once per backend */
static bool enforcement_off_logged = false;

/* Owner of the function being executed (set_password's SECURITY DEFINER). */
static Oid
function_owner(FunctionCallInfo fcinfo)
{
	HeapTuple	tup;
	Oid			owner;

	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fcinfo->flinfo->fn_oid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for function %u",
			 fcinfo->flinfo->fn_oid);
	owner = ((Form_pg_proc) GETSTRUCT(tup))->proowner;
	ReleaseSysCache(tup);
	return owner;
}

/* A text argument as a C string, or NULL. */
static char *
text_arg_or_null(FunctionCallInfo fcinfo, int n)
{
	if (PG_ARGISNULL(n))
		return NULL;
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/* Deny a NULL argument (22004). */
static void
deny_null_argument(const char *function, const AuditEvent *ev,
				   const char *argname)
{
	PolicyDenial d;

	d.sqlerrcode = ERRCODE_NULL_VALUE_NOT_ALLOWED;
	d.reason = "null_argument";
	d.message = psprintf("argument \"%s\" must not be null", argname);
	d.detail = NULL;
	d.hint = NULL;
	policy_deny(function, ev, &d);
}

/*
 * deny_secret_fields
 *		Deny a call whose audit row would hold a password hash or SCRAM
 *		keys in any field (audit.c, audit_secret_field), before any check
 *		that quotes a value: neither the ERROR nor the "denied" row (whose
 *		offending fields are redacted) carries the value.
 */
static void
deny_secret_fields(const char *function, const AuditEvent *ev)
{
	const char *field = audit_secret_field(ev);
	PolicyDenial d;

	if (field == NULL)
		return;
	audit_secret_denial(field, &d);
	policy_deny(function, ev, &d);
}

/*
 * rotation_has_password_set
 *		Does rotate.audit_log hold a password_set row for target with this
 *		secret_id and version_id?  Read as the log's owner.
 */
static bool
rotation_has_password_set(const RotateObjects *objs, const AuditEvent *ev)
{
	static SPIPlanPtr plan = NULL;
	Oid			save_userid;
	int			save_sec_context;
	Datum		values[3];
	bool		found;
	int			rc;

	if (ev->secret_id == NULL || ev->version_id == NULL)
		return false;
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(objs->owner,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (plan == NULL)
	{
		Oid			types[3] = {TEXTOID, TEXTOID, NAMEOID};

		plan = rotate_keep_plan("SELECT 1 FROM rotate.audit_log a"
								" WHERE a.secret_id OPERATOR(pg_catalog.=) $1"
								"   AND a.version_id OPERATOR(pg_catalog.=) $2"
								"   AND a.target OPERATOR(pg_catalog.=) $3"
								"   AND a.event OPERATOR(pg_catalog.=) 'password_set'"
								" LIMIT 1", 3, types);
	}
	values[0] = CStringGetTextDatum(ev->secret_id);
	values[1] = CStringGetTextDatum(ev->version_id);
	values[2] = DirectFunctionCall1(namein, CStringGetDatum(ev->target));
	rc = SPI_execute_plan(plan, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read rotate.audit_log: %s",
			 SPI_result_code_string(rc));
	found = (SPI_processed > 0);
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec_context);
	return found;
}

/*
 * alter_role_password
 *		Set roleid's password to verifier through AlterRole(), exactly as
 *		ALTER ROLE ... PASSWORD would, but from a statement node: no SQL
 *		text holds the verifier.  Our copy of it is wiped afterwards.
 */
static void
alter_role_password(const char *rolename, Oid roleid, const char *verifier)
{
	AlterRoleStmt *stmt = makeNode(AlterRoleStmt);
	RoleSpec   *spec = makeNode(RoleSpec);
	ParseState *pstate = make_parsestate(NULL);
	char	   *copy = pstrdup(verifier);
	Oid			altered;

	spec->roletype = ROLESPEC_CSTRING;
	spec->rolename = pstrdup(rolename);
	spec->location = -1;
	stmt->role = spec;
	stmt->options = list_make1(makeDefElem("password",
										   (Node *) makeString(copy), -1));
	stmt->action = +1;

	altered = compat_AlterRole(pstate, stmt);
	explicit_bzero(copy, strlen(copy));

	if (altered != roleid)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("role \"%s\" was replaced concurrently", rolename),
				 errhint("Retry the call.")));
	CommandCounterIncrement();
}

/*
 * pg_rotate_set_password
 *		rotate.set_password(target name, verifier text, secret_id text,
 *		version_id text) RETURNS bigint: the audit row id.
 *
 * Checks the policy (policy.c), locks the role, checks it again, changes
 * the password and appends a password_set row.  Every refusal goes through
 * policy_deny(): ERROR plus a "denied" row that survives the rollback.
 */
Datum
pg_rotate_set_password(PG_FUNCTION_ARGS)
{
	const char *fn = "set_password";
	char	   *target = PG_ARGISNULL(0) ? NULL : pstrdup(NameStr(*PG_GETARG_NAME(0)));
	char	   *verifier;
	RotateObjects objs;
	AuditEvent	ev;
	PolicyDenial d;
	Oid			owner;
	Oid			roleid = InvalidOid;
	Oid			locked = InvalidOid;
	const char *pairs[2];
	int64		id;
	int			attempt;

	audit_event_init(&ev, "password_set", target);
	ev.secret_id = text_arg_or_null(fcinfo, 2);
	ev.version_id = text_arg_or_null(fcinfo, 3);

	rotate_require_objects(&objs);
	deny_secret_fields(fn, &ev);
	if (target == NULL)
		deny_null_argument(fn, &ev, "target");
	if (PG_ARGISNULL(1))
		deny_null_argument(fn, &ev, "verifier");

	owner = function_owner(fcinfo);
	if (!superuser_arg(owner))
	{
		d.sqlerrcode = ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
		d.reason = "owner_not_superuser";
		d.message = pstrdup("pg_rotate is not set up correctly");
		d.detail = psprintf("The owner of rotate.set_password, role \"%s\", is not a superuser.",
							GetUserNameFromId(owner, false));
		d.hint = pstrdup("A superuser must own the extension's functions: ALTER FUNCTION rotate.set_password(name, text, text, text) OWNER TO a superuser.");
		policy_deny(fn, &ev, &d);
	}

	if (!pg_rotate_preloaded && !enforcement_off_logged)
	{
		ereport(LOG,
				(errmsg("pg_rotate is not in shared_preload_libraries: managed roles can still change their own passwords"),
				 errhint("Add pg_rotate to shared_preload_libraries and restart the server to enforce the ban on self-change.")));
		enforcement_off_logged = true;
	}

	/*
	 * Check, lock the role (serializing calls for it), check again: its
	 * attributes, name or allow-list entry may change until we hold the
	 * lock.  A name that now means another role is locked anew.
	 */
	for (attempt = 0;; attempt++)
	{
		if (!policy_check_target(target, owner, &roleid, &d))
		{
			if (OidIsValid(locked))
				UnlockSharedObject(AuthIdRelationId, locked, 0,
								   AccessExclusiveLock);
			policy_deny(fn, &ev, &d);
		}
		if (roleid == locked)
			break;
		if (OidIsValid(locked))
			UnlockSharedObject(AuthIdRelationId, locked, 0,
							   AccessExclusiveLock);
		if (attempt >= 3)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("role \"%s\" keeps changing concurrently", target),
					 errhint("Retry the call.")));
		LockSharedObject(AuthIdRelationId, roleid, 0, AccessExclusiveLock);
		locked = roleid;
	}

	verifier = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (!policy_check_verifier(target, verifier, &d))
	{
		explicit_bzero(verifier, strlen(verifier));
		UnlockSharedObject(AuthIdRelationId, locked, 0, AccessExclusiveLock);
		policy_deny(fn, &ev, &d);
	}

	alter_role_password(target, roleid, verifier);
	explicit_bzero(verifier, strlen(verifier));
	pfree(verifier);

	pairs[0] = "enforcement";
	pairs[1] = pg_rotate_preloaded ? "on" : "off";
	ev.detail = audit_json_object(1, pairs);
	id = audit_append(&ev);
	PG_RETURN_INT64(id);
}

/*
 * pg_rotate_log_event
 *		rotate.log_event(target name, event text, secret_id text,
 *		version_id text, detail jsonb) RETURNS bigint: records one of the
 *		client's later steps for a managed role and returns the row id.
 *
 * Every refusal goes through policy_deny(), as set_password's do: ERROR
 * plus a "denied" row.  tested, finished and rolled_back follow a password
 * change, so they are refused for a rotation (target, secret_id,
 * version_id) without a password_set row: a refused attempt cannot be
 * relabelled as a finished rotation in rotate.rotations.
 */
Datum
pg_rotate_log_event(PG_FUNCTION_ARGS)
{
	static const char *const events[] = {"tested", "finished", "rolled_back",
	"failed"};
	const char *fn = "log_event";
	char	   *target = PG_ARGISNULL(0) ? NULL : pstrdup(NameStr(*PG_GETARG_NAME(0)));
	char	   *event = text_arg_or_null(fcinfo, 1);
	RotateObjects objs;
	AuditEvent	ev;
	PolicyDenial d;
	Jsonb	   *jb = PG_ARGISNULL(4) ? NULL : PG_GETARG_JSONB_P(4);
	bool		known = false;
	int			i;

	audit_event_init(&ev, event, target);
	ev.secret_id = text_arg_or_null(fcinfo, 2);
	ev.version_id = text_arg_or_null(fcinfo, 3);
	if (jb != NULL)
		ev.detail = DatumGetCString(DirectFunctionCall1(jsonb_out,
														JsonbPGetDatum(jb)));

	rotate_require_objects(&objs);
	deny_secret_fields(fn, &ev);
	if (target == NULL)
		deny_null_argument(fn, &ev, "target");
	if (event == NULL)
		deny_null_argument(fn, &ev, "event");

	for (i = 0; i < lengthof(events); i++)
		if (strcmp(event, events[i]) == 0)
			known = true;
	memset(&d, 0, sizeof(d));
	d.sqlerrcode = ERRCODE_INVALID_PARAMETER_VALUE;
	if (!known)
	{
		d.reason = "invalid_event";
		d.message = psprintf("invalid event \"%s\"", event);
		d.hint = pstrdup("Valid events are tested, finished, rolled_back and failed.");
		policy_deny(fn, &ev, &d);
	}
	if (!OidIsValid(get_role_oid(target, true)))
	{
		d.sqlerrcode = ERRCODE_UNDEFINED_OBJECT;
		d.reason = "no_such_role";
		d.message = psprintf("role \"%s\" does not exist", target);
		policy_deny(fn, &ev, &d);
	}
	if (!policy_role_is_managed(target))
	{
		d.sqlerrcode = ERRCODE_INSUFFICIENT_PRIVILEGE;
		d.reason = "not_managed";
		d.message = psprintf("role \"%s\" is not managed by pg_rotate", target);
		d.detail = pstrdup("Only roles listed in rotate.managed_role can be rotated.");
		policy_deny(fn, &ev, &d);
	}
	if (jb != NULL && (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb)))
	{
		d.reason = "invalid_detail";
		d.message = pstrdup("event detail must be a JSON object");
		policy_deny(fn, &ev, &d);
	}
	if (strcmp(event, "failed") != 0 && !rotation_has_password_set(&objs, &ev))
	{
		d.sqlerrcode = ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
		d.reason = "no_password_set";
		d.message = psprintf("cannot record \"%s\" for a rotation whose password was not set",
							 event);
		d.detail = psprintf("rotate.audit_log has no password_set row for role \"%s\" with this secret_id and version_id.",
							target);
		d.hint = pstrdup("Record tested, finished and rolled_back after rotate.set_password succeeded for the same role, secret_id and version_id.");
		policy_deny(fn, &ev, &d);
	}

	PG_RETURN_INT64(audit_append(&ev));
}
