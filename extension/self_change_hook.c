/*-------------------------------------------------------------------------
 *
 * self_change_hook.c
 *	  ProcessUtility_hook: only rotate.set_password changes a managed
 *	  role's password.
 *
 * Installed only from shared_preload_libraries.  For every ALTER ROLE /
 * ALTER USER that carries a PASSWORD option (PASSWORD NULL included; psql's
 * \password sends ALTER USER ... PASSWORD too) whose target is managed:
 * listed in this database's rotate.managed_role, or marked as managed for
 * the cluster (role_mark.c: listed in some database's allow-list, so the
 * ban also holds in databases without pg_rotate):
 *	- a superuser may do it; the change is recorded as "direct_change" in
 *	  the same transaction (with a WARNING instead where there is no audit
 *	  log);
 *	- anyone else is refused: the role itself (SQLSTATE 42501, "cannot
 *	  change its own password") and CREATEROLE roles alike, with a "denied"
 *	  row that survives the rollback where there is an audit log.
 * rotate.set_password calls AlterRole() directly and is not seen here.
 *
 * extension/self_change_hook.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/acl.h"

#include "compat.h"
#include "pg_rotate.h"

static ProcessUtility_hook_type prev_ProcessUtility = NULL;

/* Does the statement set (or clear) a password? */
static bool
sets_password(AlterRoleStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, "password") == 0)
			return true;
	}
	return false;
}

/*
 * managed_target
 *		If stmt changes the password of a managed role, return the role's
 *		name, and in *audited whether this database has pg_rotate's audit
 *		log; else NULL.
 */
static char *
managed_target(AlterRoleStmt *stmt, Oid *roleid, bool *audited)
{
	RotateObjects objs;
	char	   *name;

	if (!sets_password(stmt) || !IsTransactionState())
		return NULL;
	*roleid = get_rolespec_oid(stmt->role, true);
	if (!OidIsValid(*roleid))
		return NULL;			/* AlterRole reports it */
	name = GetUserNameFromId(*roleid, false);

	*audited = false;
	if (OidIsValid(get_extension_oid(PG_ROTATE_EXTENSION, true)))
	{
		rotate_lookup_objects(&objs);
		*audited = objs.ok;
	}
	if (*audited && policy_role_is_managed(name))
		return name;
	return role_is_marked(*roleid) ? name : NULL;
}

/*
 * pg_rotate_ProcessUtility
 *		The hook: refuse or audit password changes of managed roles, then
 *		run the statement as usual.
 */
static void
pg_rotate_ProcessUtility(COMPAT_PU_ARGS_DECL)
{
	Node	   *parsetree = pstmt->utilityStmt;
	char	   *target = NULL;
	Oid			roleid = InvalidOid;
	bool		audited = false;
	bool		direct = false;

	if (IsA(parsetree, AlterRoleStmt))
		target = managed_target((AlterRoleStmt *) parsetree, &roleid, &audited);

	if (target != NULL)
	{
		if (superuser())
			direct = true;
		else
		{
			AuditEvent	ev;
			PolicyDenial d;
			bool		self = (roleid == GetUserId() ||
								roleid == GetSessionUserId());

			audit_event_init(&ev, "denied", target);
			d.sqlerrcode = ERRCODE_INSUFFICIENT_PRIVILEGE;
			d.reason = self ? "self_change" : "direct_change";
			d.message = self
				? psprintf("role \"%s\" cannot change its own password", target)
				: psprintf("permission denied to change the password of role \"%s\"",
						   target);
			d.detail = psprintf("Role \"%s\" is managed by pg_rotate: only rotate.set_password() or a superuser may change its password.",
								target);
			d.hint = NULL;
			policy_deny("ALTER ROLE", &ev, &d);
		}
	}

	if (prev_ProcessUtility)
		prev_ProcessUtility(COMPAT_PU_ARGS);
	else
		standard_ProcessUtility(COMPAT_PU_ARGS);

	if (direct && !audited)
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errhidestmt(true),	/* it may hold a plaintext password */
				 errmsg("password of managed role \"%s\" changed without an audit row", target),
				 errdetail("Database \"%s\" has no pg_rotate audit log.",
						   get_database_name(MyDatabaseId)),
				 errhint("Change the passwords of managed roles with rotate.set_password(), or in a database where pg_rotate is installed.")));
	else if (direct)
	{
		AuditEvent	ev;
		const char *pairs[4];

		pairs[0] = "current_user";
		pairs[1] = GetUserNameFromId(GetUserId(), false);
		pairs[2] = "statement";
		pairs[3] = "ALTER ROLE";
		audit_event_init(&ev, "direct_change", target);
		ev.detail = audit_json_object(2, pairs);
		audit_append(&ev);
	}
}

/* Install the hook (from _PG_init, when preloaded). */
void
self_change_hook_install(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = pg_rotate_ProcessUtility;
}
