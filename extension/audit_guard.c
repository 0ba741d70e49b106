/*-------------------------------------------------------------------------
 *
 * audit_guard.c
 *	  ProcessUtility_hook: the audit log's DDL guard cannot be switched off.
 *
 * The guard itself is SQL, the same in both flavours: two event triggers
 * that the extension's script creates, pg_rotate_audit_log_guard
 * (ddl_command_end) and pg_rotate_audit_log_guard_drop (sql_drop), both
 * ENABLE ALWAYS, run rotate.audit_log_guard(), which refuses DDL on the
 * log's tables, their triggers, rules and policies, and the functions that
 * write, protect and verify the log, outside the extension's own scripts
 * (sql/shared.sql).  Event triggers do not fire for DDL on event triggers,
 * so a superuser could switch the guard off with ALTER EVENT TRIGGER ...
 * DISABLE, or drop it.  When the library is preloaded this hook refuses
 * that: ALTER, RENAME, OWNER TO, DROP and ALTER EXTENSION ... DROP of
 * either trigger while it belongs to pg_rotate, outside the extension's
 * scripts.  DROP EXTENSION pg_rotate still removes them, with the log (the
 * anchor detects that: README.md, Security model).
 *
 * extension/audit_guard.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/dependency.h"
#include "catalog/pg_event_trigger.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"

#include "compat.h"
#include "pg_rotate.h"

static ProcessUtility_hook_type prev_ProcessUtility = NULL;

/* Is name one of pg_rotate's guard triggers (and still a member of it)? */
static bool
is_guard(const char *name)
{
	Oid			trigger;
	Oid			extension;

	if (strcmp(name, "pg_rotate_audit_log_guard") != 0 &&
		strcmp(name, "pg_rotate_audit_log_guard_drop") != 0)
		return false;
	trigger = get_event_trigger_oid(name, true);
	extension = get_extension_oid(PG_ROTATE_EXTENSION, true);
	return OidIsValid(trigger) && OidIsValid(extension) &&
		getExtensionOfObject(EventTriggerRelationId, trigger) == extension;
}

/* The guard trigger the statement would change or drop, or NULL. */
static const char *
guard_touched(Node *parsetree)
{
	Node	   *object = NULL;

	switch (nodeTag(parsetree))
	{
		case T_AlterEventTrigStmt:
			{
				char	   *name = ((AlterEventTrigStmt *) parsetree)->trigname;

				return is_guard(name) ? name : NULL;
			}
		case T_RenameStmt:
			if (((RenameStmt *) parsetree)->renameType == OBJECT_EVENT_TRIGGER)
				object = ((RenameStmt *) parsetree)->object;
			break;
		case T_AlterOwnerStmt:
			if (((AlterOwnerStmt *) parsetree)->objectType == OBJECT_EVENT_TRIGGER)
				object = ((AlterOwnerStmt *) parsetree)->object;
			break;
		case T_AlterExtensionContentsStmt:
			if (((AlterExtensionContentsStmt *) parsetree)->objtype == OBJECT_EVENT_TRIGGER)
				object = ((AlterExtensionContentsStmt *) parsetree)->object;
			break;
		case T_DropStmt:
			if (((DropStmt *) parsetree)->removeType == OBJECT_EVENT_TRIGGER)
			{
				ListCell   *lc;

				foreach(lc, ((DropStmt *) parsetree)->objects)
				{
					if (is_guard(strVal(lfirst(lc))))
						return strVal(lfirst(lc));
				}
			}
			break;
		default:
			break;
	}
	if (object != NULL && is_guard(strVal(object)))
		return strVal(object);
	return NULL;
}

/*
 * pg_rotate_guard_ProcessUtility
 *		The hook: refuse to change or drop the guard outside the
 *		extension's scripts, then run the statement as usual.
 */
static void
pg_rotate_guard_ProcessUtility(COMPAT_PU_ARGS_DECL)
{
	const char *guard = NULL;

	if (!creating_extension)
		guard = guard_touched(pstmt->utilityStmt);
	if (guard != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot alter or drop event trigger \"%s\"", guard),
				 errdetail("It keeps DDL away from the audit log of extension \"%s\".",
						   PG_ROTATE_EXTENSION),
				 errhint("DROP EXTENSION pg_rotate removes it together with the audit log.")));

	if (prev_ProcessUtility)
		prev_ProcessUtility(COMPAT_PU_ARGS);
	else
		standard_ProcessUtility(COMPAT_PU_ARGS);
}

/* Install the hook (from _PG_init, when preloaded). */
void
audit_guard_install(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = pg_rotate_guard_ProcessUtility;
}
