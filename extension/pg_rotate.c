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

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "compat.h"
#include "pg_rotate.h"

PG_MODULE_MAGIC;

bool		pg_rotate_preloaded = false;
bool		pg_rotate_redact_log = true;
int			pg_rotate_min_iterations = PG_ROTATE_MIN_ITERATIONS;
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

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(objs->audit_log));
	if (!HeapTupleIsValid(tup))
		return;
	objs->owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
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
