/*-------------------------------------------------------------------------
 *
 * enforcement.c
 *	  rotate.enforcement(): is the ban on self-change in force?  For an
 *	  auditor, and the same shape in both flavours.
 *
 * The C flavour enforces the ban with its ProcessUtility hook, which is
 * installed only when the library is loaded through
 * shared_preload_libraries (see pg_rotate.c), in every session and every
 * database.  The SQL-only flavour's twin, which asks pg_tle, is in
 * sql/flavour_sql_passcheck.sql.
 *
 * extension/enforcement.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/fmgrprotos.h"

#include "pg_rotate.h"

PG_FUNCTION_INFO_V1(pg_rotate_enforcement);

/*
 * pg_rotate_enforcement
 *		rotate.enforcement() RETURNS jsonb: {"flavour", "mechanism",
 *		"state" ("on" or "off"), "why"}.
 */
Datum
pg_rotate_enforcement(PG_FUNCTION_ARGS)
{
	const char *pairs[8];

	pairs[0] = "flavour";
	pairs[1] = "C";
	pairs[2] = "mechanism";
	pairs[3] = "ProcessUtility hook of the preloaded library";
	pairs[4] = "state";
	pairs[5] = pg_rotate_preloaded ? "on" : "off";
	pairs[6] = "why";
	pairs[7] = pg_rotate_preloaded
		? "pg_rotate is in shared_preload_libraries: its hook refuses a managed role's password change in every database."
		: "pg_rotate is not in shared_preload_libraries: add it and restart the server.";
	return DirectFunctionCall1(jsonb_in,
							   CStringGetDatum(audit_json_object(4, pairs)));
}
