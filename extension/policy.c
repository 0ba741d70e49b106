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
#include "catalog/pg_database.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "libpq/crypt.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/syscache.h"

#include "compat.h"
#include "pg_rotate.h"

#define SCRAM_PREFIX "SCRAM-SHA-256$"

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
 * The predefined roles a managed role may be a member of, and why each of
 * the others is refused.  Roles of the kind set_password refuses are
 * those that reach beyond the objects granted to the role: the server's
 * programs and files, every table, other roles' sessions, other hosts.  A
 * name beginning with "pg_" that is not in this table (a later release's
 * role) is refused until it is judged here.
 */
static const struct
{
	const char *name;
	const char *why;			/* NULL: a managed role may be a member */
}			predefined_roles[] =
{
	/* the operating system and its files: as good as a superuser */
	{"pg_execute_server_program",
	"lets its members run programs on the database server"},
	{"pg_read_server_files",
	"lets its members read any file the database server can read"},
	{"pg_write_server_files",
	"lets its members write any file the database server can write"},
	/* every table of every database, rotate.managed_role included */
	{"pg_read_all_data", "lets its members read every table"},
	{"pg_write_all_data",
	"lets its members write every table, rotate.managed_role included"},
	/* LOCK TABLE, VACUUM FULL and CLUSTER on the audit log (17 and later) */
	{"pg_maintain",
	"lets its members lock and rewrite every table, the audit log included"},
	/* cancel or terminate any non-superuser's session */
	{"pg_signal_backend", "lets its members end other roles' sessions"},
	/* the server connects to hosts a subscription names (16 and later) */
	{"pg_create_subscription",
	"lets its members make the database server connect to other hosts"},

	/*
	 * Monitoring: statistics and settings, no data.  pg_read_all_stats shows
	 * other sessions' statements and pg_read_all_settings every setting
	 * (README: keep passwords out of both).  A monitoring agent's login is a
	 * typical rotation target.
	 */
	{"pg_monitor", NULL},
	{"pg_read_all_settings", NULL},
	{"pg_read_all_stats", NULL},
	{"pg_stat_scan_tables", NULL},
	/* a checkpoint: load any role can cause with writes (15 and later) */
	{"pg_checkpoint", NULL},
	/* connection slots set aside by reserved_connections (16 and later) */
	{"pg_use_reserved_connections", NULL},
	/* cannot be granted; owning the log's database is refused on its own */
	{"pg_database_owner", NULL},
};

/*
 * predefined_role_why
 *		Why a member of the predefined role name is refused, or NULL when a
 *		managed role may be one.
 */
static const char *
predefined_role_why(const char *name)
{
	for (int i = 0; i < lengthof(predefined_roles); i++)
	{
		if (strcmp(name, predefined_roles[i].name) == 0)
			return predefined_roles[i].why;
	}
	return "is a predefined role that pg_rotate does not know to be harmless";
}

/* What owning c's object means, for a message. */
static char *
controller_why(const LogController *c)
{
	if (c->object.classId == DatabaseRelationId)
		return psprintf("owns database \"%s\", which holds the pg_rotate audit log",
						get_database_name(c->object.objectId));
	return psprintf("owns %s", getObjectDescription(&c->object, false));
}

/*
 * policy_find_forbidden
 *		Is roleid, or a role it can become (reach.c), one that pg_rotate
 *		refuses?  If so fill *f with the nearest such role and return true.
 *
 * Refused: SUPERUSER, REPLICATION, BYPASSRLS and CREATEROLE roles; the
 * predefined roles of predefined_roles[] that say why; the owners of the
 * objects in scope->controllers; and, for roles other than roleid itself
 * (policy_check_target words those cases its own way), the owner of
 * set_password and the caller.  Anything a refused role can do, a role
 * that can become it can do: a rotation role that sets that role's
 * password would gain it.
 */
bool
policy_find_forbidden(Oid roleid, const ReachScope *scope, Forbidden *f)
{
	List	   *reach = reach_up(roleid);
	ListCell   *lc;

	memset(f, 0, sizeof(*f));
	foreach(lc, reach)
	{
		Oid			r = lfirst_oid(lc);
		HeapTuple	tup;
		Form_pg_authid form;
		const char *base = NULL;
		ListCell   *cc;

		tup = SearchSysCache1(AUTHOID, ObjectIdGetDatum(r));
		if (!HeapTupleIsValid(tup))
			continue;			/* dropped concurrently */
		form = (Form_pg_authid) GETSTRUCT(tup);
		if (form->rolsuper)
			f->attribute = "SUPERUSER";
		else if (form->rolreplication)
			f->attribute = "REPLICATION";
		else if (form->rolbypassrls)
			f->attribute = "BYPASSRLS";
		else if (form->rolcreaterole)
			f->attribute = "CREATEROLE";
		if (f->attribute != NULL)
		{
			base = form->rolsuper ? "superuser"
				: form->rolreplication ? "replication"
				: form->rolbypassrls ? "bypassrls" : "createrole";
			f->why = psprintf("has the %s attribute", f->attribute);
		}
		else if (r != roleid && IsReservedName(NameStr(form->rolname)) &&
				 (f->why = predefined_role_why(NameStr(form->rolname))) != NULL)
			base = "predefined_role";
		ReleaseSysCache(tup);

		foreach(cc, scope->controllers)
		{
			LogController *c = lfirst(cc);

			if (base == NULL && c->owner == r)
			{
				base = "log_owner";
				f->why = controller_why(c);
			}
		}
		if (base == NULL && r != roleid)
		{
			if (r == scope->func_owner)
			{
				base = "function_owner";
				f->why = pstrdup("owns rotate.set_password");
			}
			else if (scope->callers && r == GetSessionUserId())
			{
				base = "session_user";
				f->why = pstrdup("is the session user");
			}
			else if (scope->callers && r == GetOuterUserId())
			{
				base = "current_user";
				f->why = pstrdup("is the current user");
			}
		}

		if (base != NULL)
		{
			f->role = r;
			f->direct = (r == roleid);
			f->reason = f->direct ? base : psprintf("member_of_%s", base);
			return true;
		}
	}
	return false;
}

/*
 * find_forbidden_here
 *		policy_find_forbidden with this database's audit log in scope.
 */
static bool
find_forbidden_here(Oid roleid, Oid func_owner, bool callers, Forbidden *f)
{
	RotateObjects objs;
	ReachScope	scope;

	rotate_require_objects(&objs);
	scope.func_owner = func_owner;
	scope.callers = callers;
	scope.controllers = rotate_log_controllers(&objs);
	return policy_find_forbidden(roleid, &scope, f);
}

/*
 * deny_forbidden
 *		Fill *d for f, found for role target; message is the primary
 *		message of the caller's context.
 */
static bool
deny_forbidden(PolicyDenial *d, char *message, const char *target,
			   const Forbidden *f)
{
	char	   *detail;
	const char *hint;

	if (f->direct)
		detail = psprintf("Role \"%s\" %s.", target, f->why);
	else
		detail = psprintf("Role \"%s\" is a member of role \"%s\", directly or through other roles; role \"%s\" %s.",
						  target, GetUserNameFromId(f->role, false),
						  GetUserNameFromId(f->role, false), f->why);
	if (!f->direct)
		hint = "pg_rotate never manages a role that can become a role it refuses: revoke the membership.";
	else if (f->attribute != NULL)
		hint = "pg_rotate never rotates roles with SUPERUSER, REPLICATION, BYPASSRLS or CREATEROLE.";
	else
		hint = "pg_rotate never manages a role that controls its audit log: give the object to another role (ALTER ... OWNER TO).";
	return deny(d, ERRCODE_INSUFFICIENT_PRIVILEGE, f->reason, message,
				detail, pstrdup(hint));
}

/* The statement that lists rolename again, for a hint. */
static char *
relist_statement(const char *rolename)
{
	return psprintf("UPDATE rotate.managed_role SET role_name = role_name WHERE role_name = %s",
					quote_literal_cstr(rolename));
}

/*
 * policy_check_target
 *		May target's password be set by the current caller?  func_owner is
 *		the owner of the SECURITY DEFINER function being run.  On success
 *		sets *roleid and returns true; else fills *d and returns false.
 *
 * Order: existence, a reserved name (never rotated, listed or not), the
 * allow-list (this very role, not only its name), the mark that bans its
 * self-change (role_mark.c), who is asking, then what the role is and can
 * become.  Call it again after locking the role: its attributes,
 * memberships and listing may change until the lock is held.
 */
bool
policy_check_target(const char *target, Oid func_owner, Oid *roleid,
					PolicyDenial *d)
{
	Forbidden	f;
	Oid			oid;

	oid = get_role_oid(target, true);
	if (!OidIsValid(oid))
		return deny(d, ERRCODE_UNDEFINED_OBJECT, "no_such_role",
					psprintf("role \"%s\" does not exist", target),
					NULL, NULL);

	if (IsReservedName(target))
		return deny(d, ERRCODE_INSUFFICIENT_PRIVILEGE, "reserved_role",
					psprintf("cannot set the password of role \"%s\"", target),
					pstrdup("Role names beginning with \"pg_\" are reserved for the system."),
					NULL);

	switch (managed_role_listing(target, oid))
	{
		case LISTING_NONE:
			return deny(d, ERRCODE_INSUFFICIENT_PRIVILEGE, "not_managed",
						psprintf("role \"%s\" is not managed by pg_rotate", target),
						pstrdup("Only roles listed in rotate.managed_role can be rotated."),
						pstrdup("A superuser can add it with INSERT INTO rotate.managed_role (role_name)."));
		case LISTING_OTHER_ROLE:
			return deny(d, ERRCODE_INSUFFICIENT_PRIVILEGE, "listed_role_replaced",
						psprintf("role \"%s\" is not managed by pg_rotate", target),
						psprintf("rotate.managed_role lists the name \"%s\" for a role that was dropped or renamed since; role \"%s\" is another role.",
								 target, target),
						psprintf("If this role is to be managed, a superuser can list it: %s.",
								 relist_statement(target)));
		case LISTING_THIS_ROLE:
			break;
	}

	if (!role_is_marked_here(oid))
		return deny(d, ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "not_marked",
					psprintf("role \"%s\" is not marked as managed in database \"%s\"",
							 target, get_database_name(MyDatabaseId)),
					pstrdup("The role setting " PG_ROTATE_MARK " keeps a managed role from changing its own password in every database; it is set when the role is listed."),
					psprintf("A superuser can restore it by listing the role again: %s.",
							 relist_statement(target)));

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

	if (find_forbidden_here(oid, func_owner, true, &f))
		return deny_forbidden(d,
							  psprintf("cannot set the password of role \"%s\"", target),
							  target, &f);

	*roleid = oid;
	return true;
}

/*
 * policy_check_listing
 *		May rolename be added to this database's allow-list?  It must be a
 *		role (not a name: the mark and the OID are the role's), not a
 *		reserved one, and policy_find_forbidden must find nothing.  The
 *		caller is not looked at: whoever lists roles is trusted to.  On
 *		success sets *roleid and returns true; else fills *d.
 */
bool
policy_check_listing(const char *rolename, Oid *roleid, PolicyDenial *d)
{
	Forbidden	f;
	Oid			oid;
	char	   *message = psprintf("role \"%s\" cannot be managed by pg_rotate",
								   rolename);

	oid = get_role_oid(rolename, true);
	if (!OidIsValid(oid))
		return deny(d, ERRCODE_UNDEFINED_OBJECT, "no_such_role",
					psprintf("role \"%s\" does not exist", rolename),
					pstrdup("rotate.managed_role lists roles, not names: a role created later under this name would not be marked."),
					pstrdup("Create the role first, then list it."));
	if (IsReservedName(rolename))
		return deny(d, ERRCODE_INSUFFICIENT_PRIVILEGE, "reserved_role", message,
					pstrdup("Role names beginning with \"pg_\" are reserved for the system."),
					NULL);

	if (find_forbidden_here(oid, InvalidOid, false, &f))
		return deny_forbidden(d, message, rolename, &f);

	*roleid = oid;
	return true;
}

/*
 * policy_raise
 *		Raise a denial as a plain ERROR, without an audit row: for refusals
 *		of a superuser's own statement (an allow-list entry).
 */
void
policy_raise(const PolicyDenial *d)
{
	ereport(ERROR,
			(errcode(d->sqlerrcode),
			 errmsg_internal("%s", d->message),
			 d->detail ? errdetail_internal("%s", d->detail) : 0,
			 d->hint ? errhint("%s", d->hint) : 0));
	pg_unreachable();
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
 *		Is verifier a well-formed SCRAM-SHA-256 verifier whose iteration
 *		count PostgreSQL reads as written, within the bounds?  AlterRole()
 *		stores anything it does not recognize as a hash as a plaintext
 *		password (hashing it itself), so a typo would silently become the
 *		password: everything else is refused.
 *
 * The shape is checked here, strictly:
 *		SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>
 * and then PostgreSQL's own get_password_type() must agree (it decodes
 * the base64 parts and checks the key lengths).
 *
 * The server's parse_scram_secret() (14 to 18) reads the count with
 * strtol() into an int, checking only errno and the end: it skips leading
 * blanks, takes a sign, and keeps the low 32 bits of a value that fits in
 * a long, so "4294967297" is stored and used as 1 iteration.  Here the
 * count is decimal digits only, at most 10, read exactly and bounded by
 * pg_rotate.min_iterations and pg_rotate.max_iterations (at most INT_MAX):
 * whatever passes, the server reads as the same number.  The length is
 * bounded too (a verifier is stored in pg_authid and sent at each login).
 * No message ever quotes the verifier or any part of it.
 */
bool
policy_check_verifier(const char *target, const char *verifier,
					  PolicyDenial *d)
{
	const char *p = verifier;
	const char *colon;
	const char *dollar;
	const char *colon2;
	int64		iterations = 0;
	int			digits = 0;

	if (strlen(verifier) > PG_ROTATE_MAX_VERIFIER_LEN)
		return deny(d, ERRCODE_INVALID_PARAMETER_VALUE, "verifier_too_long",
					psprintf("password verifier for role \"%s\" is too long", target),
					psprintf("A verifier is at most %d bytes.",
							 PG_ROTATE_MAX_VERIFIER_LEN),
					NULL);

	if (strncmp(p, SCRAM_PREFIX, strlen(SCRAM_PREFIX)) != 0)
		goto malformed;
	p += strlen(SCRAM_PREFIX);

	/* <iterations>: 1 to 10 digits, nothing else */
	while (isdigit((unsigned char) *p) && digits <= 10)
	{
		iterations = iterations * 10 + (*p - '0');
		digits++;
		p++;
	}
	if (digits == 0 || digits > 10 || *p != ':')
		goto malformed;
	colon = p;

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
	if (iterations > pg_rotate_max_iterations)
		return deny(d, ERRCODE_INVALID_PARAMETER_VALUE, "excessive_iterations",
					psprintf("SCRAM-SHA-256 verifier for role \"%s\" has too many iterations",
							 target),
					psprintf("At most %d iterations are accepted (pg_rotate.max_iterations): every login computes them.",
							 pg_rotate_max_iterations),
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
