/*-------------------------------------------------------------------------
 *
 * policy.c
 *	  The rules of rotate.set_password: which roles may be rotated, by
 *	  whom, and what a verifier must look like; and how a refusal is
 *	  reported (ERROR, server log, "denied" audit row).
 *
 * The checks only decide; they fill a PolicyDenial and return false.
 * policy_deny() turns a denial into the audit row and the ERROR, so every
 * refusal is reported the same way.
 *
 * extension/policy.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/htup_details.h"
#include "catalog/catalog.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "libpq/crypt.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/syscache.h"

#include "compat.h"
#include "pg_rotate.h"

#define SCRAM_PREFIX "SCRAM-SHA-256$"

static SPIPlanPtr managed_plan = NULL;

/* Fill *d; message, detail and hint are formatted by the caller. */
static bool
deny(PolicyDenial *d, int sqlerrcode, const char *reason, char *message,
	 char *detail, char *hint)
{
	d->sqlerrcode = sqlerrcode;
	d->reason = reason;
	d->message = message;
	d->detail = detail;
	d->hint = hint;
	return false;
}

/*
 * policy_role_is_managed
 *		Is rolename listed in rotate.managed_role?  Reads the table as its
 *		owner, so callers need no privilege on it.  The caller has checked
 *		that the extension's objects exist.
 */
bool
policy_role_is_managed(const char *rolename)
{
	RotateObjects objs;
	Oid			save_userid;
	int			save_sec_context;
	Datum		values[1];
	bool		found;
	int			rc;

	rotate_require_objects(&objs);
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(objs.owner,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (managed_plan == NULL)
	{
		Oid			types[1] = {NAMEOID};
		SPIPlanPtr	plan;

		plan = SPI_prepare("SELECT 1 FROM rotate.managed_role"
						   " WHERE role_name OPERATOR(pg_catalog.=) $1",
						   1, types);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s",
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		managed_plan = plan;
	}
	values[0] = DirectFunctionCall1(namein, CStringGetDatum(rolename));
	rc = SPI_execute_plan(managed_plan, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read rotate.managed_role: %s",
			 SPI_result_code_string(rc));
	found = (SPI_processed > 0);
	SPI_finish();

	SetUserIdAndSecContext(save_userid, save_sec_context);
	return found;
}

/*
 * policy_check_target
 *		May target's password be set by the current caller?  func_owner is
 *		the owner of the SECURITY DEFINER function being run.  On success
 *		sets *roleid and returns true; else fills *d and returns false.
 *
 * Order: existence, the allow-list, who is asking, then the attributes
 * that make a role too powerful to hand to a rotation job.  Call it again
 * after locking the role: attributes may change until the lock is held.
 */
bool
policy_check_target(const char *target, Oid func_owner, Oid *roleid,
					PolicyDenial *d)
{
	Oid			oid;
	HeapTuple	tup;
	Form_pg_authid form;
	const char *attr = NULL;
	const char *reason = NULL;

	oid = get_role_oid(target, true);
	if (!OidIsValid(oid))
		return deny(d, ERRCODE_UNDEFINED_OBJECT, "no_such_role",
					psprintf("role \"%s\" does not exist", target),
					NULL, NULL);

	if (!policy_role_is_managed(target))
		return deny(d, ERRCODE_INSUFFICIENT_PRIVILEGE, "not_managed",
					psprintf("role \"%s\" is not managed by pg_rotate", target),
					pstrdup("Only roles listed in rotate.managed_role can be rotated."),
					pstrdup("A superuser can add it with INSERT INTO rotate.managed_role (role_name)."));

	if (oid == GetSessionUserId())
		return deny(d, ERRCODE_INSUFFICIENT_PRIVILEGE, "session_user",
					psprintf("role \"%s\" cannot set its own password", target),
					psprintf("Role \"%s\" is the session user.", target),
					pstrdup("Call rotate.set_password as the rotation role, not as the role being rotated."));
	if (oid == GetOuterUserId())
		return deny(d, ERRCODE_INSUFFICIENT_PRIVILEGE, "current_user",
					psprintf("role \"%s\" cannot set its own password", target),
					psprintf("Role \"%s\" is the current user.", target),
					pstrdup("Call rotate.set_password as the rotation role, not as the role being rotated."));
	if (oid == func_owner)
		return deny(d, ERRCODE_INSUFFICIENT_PRIVILEGE, "function_owner",
					psprintf("cannot set the password of role \"%s\"", target),
					psprintf("Role \"%s\" owns rotate.set_password.", target),
					NULL);

	if (IsReservedName(target))
		return deny(d, ERRCODE_INSUFFICIENT_PRIVILEGE, "reserved_role",
					psprintf("cannot set the password of role \"%s\"", target),
					pstrdup("Role names beginning with \"pg_\" are reserved for the system."),
					NULL);

	tup = SearchSysCache1(AUTHOID, ObjectIdGetDatum(oid));
	if (!HeapTupleIsValid(tup))
		return deny(d, ERRCODE_UNDEFINED_OBJECT, "no_such_role",
					psprintf("role \"%s\" does not exist", target),
					NULL, NULL);
	form = (Form_pg_authid) GETSTRUCT(tup);
	if (form->rolsuper)
	{
		attr = "SUPERUSER";
		reason = "superuser";
	}
	else if (form->rolreplication)
	{
		attr = "REPLICATION";
		reason = "replication";
	}
	else if (form->rolbypassrls)
	{
		attr = "BYPASSRLS";
		reason = "bypassrls";
	}
	else if (form->rolcreaterole)
	{
		attr = "CREATEROLE";
		reason = "createrole";
	}
	ReleaseSysCache(tup);

	if (attr != NULL)
		return deny(d, ERRCODE_INSUFFICIENT_PRIVILEGE, reason,
					psprintf("cannot set the password of role \"%s\"", target),
					psprintf("Role \"%s\" has the %s attribute.", target, attr),
					pstrdup("pg_rotate never rotates roles with SUPERUSER, REPLICATION, BYPASSRLS or CREATEROLE."));

	*roleid = oid;
	return true;
}

/* Does s[0..len) consist of base64 characters only (and is non-empty)? */
static bool
is_base64(const char *s, size_t len)
{
	size_t		i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (!(isalnum(c) || c == '+' || c == '/' || c == '='))
			return false;
	}
	return true;
}

/*
 * policy_check_verifier
 *		Is verifier a well-formed SCRAM-SHA-256 verifier with enough
 *		iterations?  AlterRole() stores anything it does not recognize as
 *		a hash as a plaintext password (hashing it itself), so a typo would
 *		silently become the password: everything else is refused.
 *
 * The shape is checked here, strictly:
 *		SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>
 * and then PostgreSQL's own get_password_type() must agree (it decodes
 * the base64 parts and checks the key lengths).  No message ever quotes
 * the verifier or any part of it.
 */
bool
policy_check_verifier(const char *target, const char *verifier,
					  PolicyDenial *d)
{
	const char *p = verifier;
	const char *colon;
	const char *dollar;
	const char *colon2;
	long		iterations;
	char	   *end;

	if (strncmp(p, SCRAM_PREFIX, strlen(SCRAM_PREFIX)) != 0)
		goto malformed;
	p += strlen(SCRAM_PREFIX);

	/* <iterations>: 1 to 10 digits */
	if (!isdigit((unsigned char) *p))
		goto malformed;
	errno = 0;
	iterations = strtol(p, &end, 10);
	if (errno != 0 || *end != ':' || end - p > 10)
		goto malformed;
	colon = end;

	/* <salt>$<StoredKey>:<ServerKey> */
	dollar = strchr(colon + 1, '$');
	if (dollar == NULL || !is_base64(colon + 1, dollar - colon - 1))
		goto malformed;
	colon2 = strchr(dollar + 1, ':');
	if (colon2 == NULL || !is_base64(dollar + 1, colon2 - dollar - 1) ||
		!is_base64(colon2 + 1, strlen(colon2 + 1)))
		goto malformed;

	if (get_password_type(verifier) != PASSWORD_TYPE_SCRAM_SHA_256)
		goto malformed;

	if (iterations < pg_rotate_min_iterations)
		return deny(d, ERRCODE_INVALID_PARAMETER_VALUE, "weak_verifier",
					psprintf("SCRAM-SHA-256 verifier for role \"%s\" has too few iterations",
							 target),
					psprintf("At least %d iterations are required.",
							 pg_rotate_min_iterations),
					NULL);
	return true;

malformed:
	return deny(d, ERRCODE_INVALID_PARAMETER_VALUE, "invalid_verifier",
				psprintf("invalid password verifier for role \"%s\"", target),
				pstrdup("rotate.set_password accepts only a SCRAM-SHA-256 verifier: SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>."),
				pstrdup("Compute the verifier on the client, for example with libpq's PQencryptPasswordConn(); plaintext and MD5 passwords are refused."));
}

/*
 * policy_deny
 *		Report a refusal: record a "denied" row (ev, with the reason added
 *		to its detail) that survives the rollback (audit_worker.c), then
 *		raise the ERROR.
 *		The server log gets the ERROR with, in place of the detail, the
 *		detail plus where the denial was recorded.  Never returns.
 */
void
policy_deny(const char *function, const AuditEvent *ev,
			const PolicyDenial *d)
{
	AuditEvent	row = *ev;
	const char *pairs[6];
	char	   *where;

	pairs[0] = "reason";
	pairs[1] = d->reason;
	pairs[2] = "sqlstate";
	pairs[3] = unpack_sql_state(d->sqlerrcode);
	pairs[4] = "function";
	pairs[5] = function;
	row.event = "denied";
	row.detail = audit_json_object(3, pairs);

	where = audit_record_denial(&row);

	/*
	 * errhidestmt: the refused statement may hold a plaintext password
	 * (ALTER ROLE ... PASSWORD 'x', set_password(role, 'x')), which the log
	 * hook does not recognize; log_min_error_statement would log it.
	 */
	ereport(ERROR,
			(errcode(d->sqlerrcode),
			 errhidestmt(true),
			 errmsg_internal("%s", d->message),
			 d->detail ? errdetail_internal("%s", d->detail) : 0,
			 errdetail_log("%s%s%s", d->detail ? d->detail : "",
						   d->detail ? " " : "", where),
			 d->hint ? errhint("%s", d->hint) : 0));
	pg_unreachable();
}
