/*-------------------------------------------------------------------------
 *
 * pg_rotate.c
 *	  Module entry point of the pg_rotate extension: _PG_init, the GUCs,
 *	  and the lookup of the extension's objects in the current database.
 *
 * Loaded through shared_preload_libraries the module installs its
 * ProcessUtility_hooks (no managed role may change its own password; the
 * audit log's DDL guard cannot be switched off) and its emit_log_hook (no
 * SCRAM verifier reaches the server log).  Loaded on first use instead,
 * everything else works; rotate.set_password() then says in the server log
 * that the self-change ban is off.
 *
 * extension/pg_rotate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_database.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_trigger.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "compat.h"
#include "pg_rotate.h"

PG_MODULE_MAGIC;

bool		pg_rotate_preloaded = false;
bool		pg_rotate_redact_log = true;
int			pg_rotate_min_iterations = PG_ROTATE_MIN_ITERATIONS;
int			pg_rotate_max_iterations = PG_ROTATE_MAX_ITERATIONS;
int			pg_rotate_writer_timeout = 10;
static bool pg_rotate_managed_mark = false;	/* GUC storage; read via role_mark.c */

void		_PG_init(void);

/*
 * _PG_init
 *		Define the GUCs; install the hooks.
 *
 * The self-change hook is installed only from shared_preload_libraries, so
 * that enforcement is either on for every session or visibly off.
 */
void
_PG_init(void)
{
	DefineCustomBoolVariable("pg_rotate.redact_log",
							 "Removes SCRAM-SHA-256 verifiers from server log messages.",
							 "Statements that carry a verifier (rotate.set_password, "
							 "ALTER ROLE ... PASSWORD) are logged with the verifier "
							 "replaced.",
							 &pg_rotate_redact_log,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("pg_rotate.min_iterations",
							"Lowest SCRAM iteration count rotate.set_password accepts.",
							NULL,
							&pg_rotate_min_iterations,
							PG_ROTATE_MIN_ITERATIONS,
							PG_ROTATE_MIN_ITERATIONS,
							INT_MAX,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	/*
	 * A verifier's count is what every login with it costs: the client's
	 * work under SCRAM, the server's own under password authentication
	 * (and there without a check for interrupts on 14 and 15), for
	 * successful and failed attempts alike.  About 30 ms at the default
	 * on one core, against about 1 ms at PostgreSQL's 4096.
	 */
	DefineCustomIntVariable("pg_rotate.max_iterations",
							"Highest SCRAM iteration count rotate.set_password accepts.",
							"Each login with the password costs that many rounds of "
							"HMAC-SHA-256; keep it at or above pg_rotate.min_iterations.",
							&pg_rotate_max_iterations,
							PG_ROTATE_MAX_ITERATIONS,
							PG_ROTATE_MIN_ITERATIONS,
							INT_MAX,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_rotate.writer_timeout",
							"Seconds the audit writer waits for a worker slot and for the audit log lock.",
							"Denied requests are kept on disk and chained by a background "
							"worker; past this the next write to the log chains them.",
							&pg_rotate_writer_timeout,
							10,
							1,
							3600,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	/*
	 * Set per role by rotate.managed_role's trigger (see role_mark.c);
	 * superuser-only, so a managed role cannot clear its own mark.
	 */
	DefineCustomBoolVariable(PG_ROTATE_MARK,
							 "Marks a role whose password only rotate.set_password may change.",
							 "Set for each role in rotate.managed_role; the self-change "
							 "ban reads it in every database.",
							 &pg_rotate_managed_mark,
							 false,
							 PGC_SUSET,
							 GUC_NOT_IN_SAMPLE,
							 NULL, NULL, NULL);

	MarkGUCPrefixReserved("pg_rotate");

	if (process_shared_preload_libraries_in_progress)
	{
		pg_rotate_preloaded = true;
		self_change_hook_install();
		audit_guard_install();
	}
	log_redact_install();
}

/*
 * rotate_lookup_objects
 *		Fill *objs with the OIDs of the extension's audit table, its
 *		sequence and its owner; objs->ok is false when any is missing.
 *
 * Only syscache lookups: cheap enough for every call and every ALTER ROLE.
 */
void
rotate_lookup_objects(RotateObjects *objs)
{
	Oid			nsp;
	HeapTuple	tup;

	memset(objs, 0, sizeof(*objs));
	nsp = get_namespace_oid(PG_ROTATE_SCHEMA, true);
	if (!OidIsValid(nsp))
		return;
	objs->audit_log = get_relname_relid("audit_log", nsp);
	objs->audit_seq = get_relname_relid("audit_log_id_seq", nsp);
	objs->managed_role = get_relname_relid("managed_role", nsp);
	objs->refusal_seq = get_relname_relid("unrecorded_refusal_seq", nsp);
	if (!OidIsValid(objs->audit_log) || !OidIsValid(objs->audit_seq) ||
		!OidIsValid(objs->managed_role))
		return;
	/* 1.1 keeps each listed role's OID; 1.0's tables name roles only */
	objs->listing_by_oid = (get_attnum(objs->managed_role, "role_oid") !=
							InvalidAttrNumber);

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(objs->audit_log));
	if (!HeapTupleIsValid(tup))
		return;
	objs->owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(objs->managed_role));
	if (!HeapTupleIsValid(tup))
		return;
	objs->list_owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	objs->ok = true;
}

/*
 * rotate_require_objects
 *		Like rotate_lookup_objects, but raise SQLSTATE 55000 when the
 *		extension is not (or no longer completely) set up here.
 */
void
rotate_require_objects(RotateObjects *objs)
{
	rotate_lookup_objects(objs);
	if (!objs->ok)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_rotate is not set up in this database"),
				 errdetail("A table or sequence of the extension is missing from schema \"%s\".",
						   PG_ROTATE_SCHEMA),
				 errhint("Run DROP EXTENSION pg_rotate and CREATE EXTENSION pg_rotate as a superuser.")));
}

/* The owner of extension extoid, or InvalidOid when it is gone. */
static Oid
extension_owner(Oid extoid)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			owner = InvalidOid;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return owner;
}

/*
 * rotate_extension_owner
 *		The role that created pg_rotate in this database (a superuser, or on
 *		RDS the master user), or InvalidOid without the extension.
 */
Oid
rotate_extension_owner(void)
{
	Oid			extoid = get_extension_oid(PG_ROTATE_EXTENSION, true);

	return OidIsValid(extoid) ? extension_owner(extoid) : InvalidOid;
}

/*
 * object_owner
 *		The owner of object (classid, objid), through the catalog cache, or
 *		InvalidOid for a kind of object without one (a cast, ...).
 */
static Oid
object_owner(Oid classid, Oid objid)
{
	int			cache = get_object_catcache_oid(classid);
	AttrNumber	attnum = get_object_attnum_owner(classid);
	HeapTuple	tup;
	Datum		owner;
	bool		isnull;

	if (cache == -1 || attnum == InvalidAttrNumber)
		return InvalidOid;
	tup = SearchSysCache1(cache, ObjectIdGetDatum(objid));
	if (!HeapTupleIsValid(tup))
		return InvalidOid;
	owner = SysCacheGetAttr(cache, tup, attnum, &isnull);
	ReleaseSysCache(tup);
	return isnull ? InvalidOid : DatumGetObjectId(owner);
}

/* Append (owner, object) to *list when the object has an owner. */
static void
add_controller(List **list, Oid owner, Oid classid, Oid objid)
{
	LogController *c;

	if (!OidIsValid(owner))
		return;
	c = palloc(sizeof(LogController));
	c->owner = owner;
	c->object.classId = classid;
	c->object.objectId = objid;
	c->object.objectSubId = 0;
	*list = lappend(*list, c);
}

/* The owners of the functions of every trigger on table relid. */
static void
add_trigger_functions(List **list, Oid relid)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	rel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, TriggerRelidNameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Oid			fn = ((Form_pg_trigger) GETSTRUCT(tup))->tgfoid;

		add_controller(list, object_owner(ProcedureRelationId, fn),
					   ProcedureRelationId, fn);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/*
 * rotate_log_controllers
 *		Every object whose owner could drop, rewrite or silence the audit
 *		log of this database, with its owner (a List of LogController):
 *		the database, the extension, its schema and member objects (tables,
 *		sequence, view, functions, types), and the functions of every
 *		trigger on its tables, the extension's or not.  NIL without the
 *		extension.  Index scans and cache lookups only: a set_password call
 *		runs it twice.
 */
List *
rotate_log_controllers(const RotateObjects *objs)
{
	List	   *list = NIL;
	Oid			extoid = get_extension_oid(PG_ROTATE_EXTENSION, true);
	Oid			nsp = get_rel_namespace(objs->audit_log);
	HeapTuple	tup;
	Relation	rel;
	ScanKeyData key[2];
	SysScanDesc scan;

	if (!OidIsValid(extoid) || !objs->ok)
		return NIL;

	add_controller(&list, object_owner(DatabaseRelationId, MyDatabaseId),
				   DatabaseRelationId, MyDatabaseId);
	add_controller(&list, extension_owner(extoid), ExtensionRelationId, extoid);
	add_controller(&list, object_owner(NamespaceRelationId, nsp),
				   NamespaceRelationId, nsp);

	rel = table_open(DependRelationId, AccessShareLock);
	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(ExtensionRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, DependReferenceIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);

		if (dep->deptype == DEPENDENCY_EXTENSION)
			add_controller(&list, object_owner(dep->classid, dep->objid),
						   dep->classid, dep->objid);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	add_trigger_functions(&list, objs->audit_log);
	add_trigger_functions(&list, objs->managed_role);
	return list;
}

/*
 * rotate_keep_plan
 *		SPI_prepare sql and keep the plan for the life of the backend (the
 *		plan cache re-plans it when the objects it uses change), or raise.
 *		The caller is connected to SPI.
 */
SPIPlanPtr
rotate_keep_plan(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s",
			 SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	return plan;
}
