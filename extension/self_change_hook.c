/*-------------------------------------------------------------------------
 *
 * self_change_hook.c
 *	  ProcessUtility_hook: only rotate.set_password changes a managed
 *	  role's password, and a managed role stays a role it may change.
 *
 * Installed only from shared_preload_libraries.  A role is managed when it
 * is listed in this database's rotate.managed_role, or marked by any
 * database's list (role_mark.c: so the rules also hold in databases
 * without pg_rotate).  For a managed role:
 *
 * ALTER ROLE / ALTER USER with a PASSWORD option (PASSWORD NULL included;
 * psql's \password sends ALTER USER ... PASSWORD too):
 *	- a superuser may do it; the change is recorded as "direct_change" in
 *	  the same transaction (with a WARNING instead where there is no audit
 *	  log);
 *	- anyone else is refused: the role itself (SQLSTATE 42501, "cannot
 *	  change its own password") and CREATEROLE roles alike, with a "denied"
 *	  row that survives the rollback where there is an audit log.
 *
 * ALTER ROLE ... RENAME: renaming clears an MD5 password (the name is its
 * salt), unaudited, and leaves the allow-list naming a role that is gone.
 * A superuser may do it, recorded as "direct_change" (old name, and
 * whether a password was cleared); anyone else is refused.
 *
 * GRANT role, ALTER ROLE / ALTER GROUP changing attributes or members,
 * CREATE ROLE ... ROLE / ADMIN: checked once it has run.  If it made a
 * managed role one that set_password refuses, or able to become one
 * (policy_find_forbidden: SUPERUSER, CREATEROLE, pg_execute_server_program,
 * ..., through any chain of memberships), it is refused, superusers
 * included: unlist the role first.  set_password checks the same at every
 * call, whatever changed the role; this says so when the change is made.
 *
 * rotate.set_password calls AlterRole() directly and is not seen here.
 *
 * extension/self_change_hook.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "libpq/crypt.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/syscache.h"

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
 * has_audit_log
 *		Does this database have pg_rotate's tables?  (Cheap: the hook asks
 *		for every statement it looks at.)
 */
static bool
has_audit_log(void)
{
	RotateObjects objs;

	if (!OidIsValid(get_extension_oid(PG_ROTATE_EXTENSION, true)))
		return false;
	rotate_lookup_objects(&objs);
	return objs.ok;
}

/* Is roleid managed: listed here (when audited) or marked anywhere? */
static bool
is_managed(Oid roleid, bool audited)
{
	if (audited && managed_role_is_listed(roleid))
		return true;
	return role_is_marked(roleid);
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
	if (!sets_password(stmt) || !IsTransactionState())
		return NULL;
	*roleid = get_rolespec_oid(stmt->role, true);
	if (!OidIsValid(*roleid))
		return NULL;			/* AlterRole reports it */
	*audited = has_audit_log();
	return is_managed(*roleid, *audited)
		? GetUserNameFromId(*roleid, false) : NULL;
}

/*
 * record_direct_change
 *		Record a superuser's change of managed role target (detail: npairs
 *		key/value pairs); where there is no audit log, warn instead, with
 *		unrecorded as the message.
 */
static void
record_direct_change(const char *target, bool audited, char *unrecorded,
					 int npairs, const char **pairs)
{
	AuditEvent	ev;

	if (!audited)
	{
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errhidestmt(true), /* it may hold a plaintext password */
				 errmsg_internal("%s", unrecorded),
				 errdetail("Database \"%s\" has no pg_rotate audit log.",
						   get_database_name(MyDatabaseId)),
				 errhint("Change managed roles with rotate.set_password(), or in a database where pg_rotate is installed.")));
		return;
	}
	audit_event_init(&ev, "direct_change", target);
	ev.detail = audit_json_object(npairs, pairs);
	audit_append(&ev);
}

/* Refuse statement for role target: a "denied" row, then the ERROR. */
static void
refuse(const char *statement, const char *target, const char *reason,
	   char *message, char *detail, char *hint)
{
	AuditEvent	ev;
	PolicyDenial d;

	audit_event_init(&ev, "denied", target);
	d.sqlerrcode = ERRCODE_INSUFFICIENT_PRIVILEGE;
	d.reason = reason;
	d.message = message;
	d.detail = detail;
	d.hint = hint;
	policy_deny(statement, &ev, &d);
}

/* Would renaming roleid clear its password (an MD5 hash salted by name)? */
static bool
has_md5_password(Oid roleid)
{
	HeapTuple	tup;
	Datum		value;
	bool		isnull;
	bool		md5 = false;

	tup = SearchSysCache1(AUTHOID, ObjectIdGetDatum(roleid));
	if (!HeapTupleIsValid(tup))
		return false;
	value = SysCacheGetAttr(AUTHOID, tup, Anum_pg_authid_rolpassword, &isnull);
	if (!isnull)
	{
		char	   *hash = TextDatumGetCString(value);

		md5 = (get_password_type(hash) == PASSWORD_TYPE_MD5);
		explicit_bzero(hash, strlen(hash));
		pfree(hash);
	}
	ReleaseSysCache(tup);
	return md5;
}

/*
 * changes_reach
 *		Can stmt make a role able to become another, or give one an
 *		attribute set_password refuses?  If so, the role whose members
 *		(itself included) are affected; else InvalidOid.  Called after the
 *		statement ran, so a created role exists.  GRANT is handled apart
 *		(several grantees).
 */
static Oid
changes_reach(Node *parsetree)
{
	ListCell   *lc;

	if (IsA(parsetree, CreateRoleStmt))
	{
		CreateRoleStmt *stmt = (CreateRoleStmt *) parsetree;

		/* CREATE ROLE ... ROLE / ADMIN: existing roles become members */
		foreach(lc, stmt->options)
		{
			DefElem    *def = (DefElem *) lfirst(lc);

			if (strcmp(def->defname, "rolemembers") == 0 ||
				strcmp(def->defname, "adminmembers") == 0)
				return get_role_oid(stmt->role, true);
		}
	}
	else if (IsA(parsetree, AlterRoleStmt))
	{
		AlterRoleStmt *stmt = (AlterRoleStmt *) parsetree;

		/* attributes, or ALTER GROUP ... ADD USER (rolemembers) */
		foreach(lc, stmt->options)
		{
			DefElem    *def = (DefElem *) lfirst(lc);

			if (strcmp(def->defname, "password") != 0)
				return get_rolespec_oid(stmt->role, true);
		}
	}
	return InvalidOid;
}

/*
 * check_managed_reach
 *		After statement ran: refuse it if a managed role among root and the
 *		roles that can become root now is, or can become, a role that
 *		set_password refuses.
 */
static void
check_managed_reach(const char *statement, Oid root)
{
	bool		audited;
	ReachScope	scope;
	ListCell   *lc;

	if (!OidIsValid(root))
		return;
	CommandCounterIncrement();	/* see what the statement did */
	audited = has_audit_log();
	scope.func_owner = InvalidOid;
	scope.callers = false;
	scope.controllers = NIL;
	if (audited)
	{
		RotateObjects objs;

		rotate_lookup_objects(&objs);
		scope.controllers = rotate_log_controllers(&objs);
	}

	foreach(lc, reach_down(root))
	{
		Oid			m = lfirst_oid(lc);
		Forbidden	f;
		char	   *name;
		char	   *reached;

		if (!is_managed(m, audited) || !policy_find_forbidden(m, &scope, &f))
			continue;
		name = GetUserNameFromId(m, false);
		reached = GetUserNameFromId(f.role, false);
		refuse(statement, name, f.reason,
			   f.direct
			   ? psprintf("managed role \"%s\" cannot have the %s attribute",
						  name, f.attribute ? f.attribute : "given")
			   : psprintf("managed role \"%s\" cannot become a member of role \"%s\"",
						  name, reached),
			   psprintf("Role \"%s\" is managed by pg_rotate; role \"%s\" %s.",
						name, reached, f.why),
			   psprintf("Remove role \"%s\" from rotate.managed_role first, in every database that lists it.",
						name));
	}
}

/*
 * pg_rotate_ProcessUtility
 *		The hook: refuse or audit changes to managed roles, around running
 *		the statement as usual.
 */
static void
pg_rotate_ProcessUtility(COMPAT_PU_ARGS_DECL)
{
	Node	   *parsetree = pstmt->utilityStmt;
	char	   *target = NULL;
	Oid			roleid = InvalidOid;
	bool		audited = false;
	bool		direct = false;
	char	   *renamed = NULL;
	bool		md5 = false;

	if (IsA(parsetree, AlterRoleStmt))
		target = managed_target((AlterRoleStmt *) parsetree, &roleid, &audited);

	if (target != NULL)
	{
		bool		self = (roleid == GetUserId() ||
							roleid == GetSessionUserId());

		if (superuser())
			direct = true;
		else
			refuse("ALTER ROLE", target, self ? "self_change" : "direct_change",
				   self
				   ? psprintf("role \"%s\" cannot change its own password", target)
				   : psprintf("permission denied to change the password of role \"%s\"",
							  target),
				   psprintf("Role \"%s\" is managed by pg_rotate: only rotate.set_password() or a superuser may change its password.",
							target),
				   NULL);
	}

	if (IsA(parsetree, RenameStmt) &&
		((RenameStmt *) parsetree)->renameType == OBJECT_ROLE &&
		IsTransactionState())
	{
		RenameStmt *stmt = (RenameStmt *) parsetree;

		roleid = get_role_oid(stmt->subname, true);
		audited = has_audit_log();
		if (OidIsValid(roleid) && is_managed(roleid, audited))
		{
			if (!superuser())
				refuse("ALTER ROLE RENAME", stmt->subname, "rename",
					   psprintf("permission denied to rename managed role \"%s\"",
								stmt->subname),
					   psprintf("Role \"%s\" is managed by pg_rotate: only a superuser may rename it.",
								stmt->subname),
					   pstrdup("Renaming a role clears an MD5 password and leaves rotate.managed_role naming a role that no longer exists."));
			renamed = stmt->subname;
			md5 = has_md5_password(roleid);
		}
	}

	if (prev_ProcessUtility)
		prev_ProcessUtility(COMPAT_PU_ARGS);
	else
		standard_ProcessUtility(COMPAT_PU_ARGS);

	if (direct)
	{
		const char *pairs[4];

		pairs[0] = "current_user";
		pairs[1] = GetUserNameFromId(GetUserId(), false);
		pairs[2] = "statement";
		pairs[3] = "ALTER ROLE";
		record_direct_change(target, audited,
							 psprintf("password of managed role \"%s\" changed without an audit row",
									  target),
							 2, pairs);
	}
	if (renamed != NULL)
	{
		const char *pairs[8];

		pairs[0] = "current_user";
		pairs[1] = GetUserNameFromId(GetUserId(), false);
		pairs[2] = "statement";
		pairs[3] = "ALTER ROLE RENAME";
		pairs[4] = "old_name";
		pairs[5] = renamed;
		pairs[6] = "password_cleared";
		pairs[7] = md5 ? "true" : "false";
		record_direct_change(((RenameStmt *) parsetree)->newname, audited,
							 psprintf("managed role \"%s\" renamed without an audit row",
									  renamed),
							 4, pairs);
	}

	if (!IsTransactionState())
		return;
	if (IsA(parsetree, GrantRoleStmt) && ((GrantRoleStmt *) parsetree)->is_grant)
	{
		ListCell   *lc;

		foreach(lc, ((GrantRoleStmt *) parsetree)->grantee_roles)
			check_managed_reach("GRANT", get_rolespec_oid(lfirst(lc), true));
	}
	else if (IsA(parsetree, CreateRoleStmt))
		check_managed_reach("CREATE ROLE", changes_reach(parsetree));
	else if (IsA(parsetree, AlterRoleStmt))
		check_managed_reach("ALTER ROLE", changes_reach(parsetree));
}

/* Install the hook (from _PG_init, when preloaded). */
void
self_change_hook_install(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = pg_rotate_ProcessUtility;
}
