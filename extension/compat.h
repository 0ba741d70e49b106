/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Every PG_VERSION_NUM shim pg_rotate needs, for PostgreSQL 13 to 17.
 *
 * Nothing outside this file tests PG_VERSION_NUM.  Each shim says which
 * release changed what, so it can be dropped when that release is no
 * longer supported.
 *
 * PostgreSQL 16 changed what CREATEROLE means (a CREATEROLE role needs
 * ADMIN OPTION on the roles it alters).  pg_rotate does not depend on it:
 * set_password runs as the extension owner, which must be a superuser
 * (checked at run time, SQLSTATE 55000), and refuses CREATEROLE targets.
 *
 * extension/compat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_ROTATE_COMPAT_H
#define PG_ROTATE_COMPAT_H

#include "postgres.h"

#include "commands/user.h"
#include "postmaster/bgworker.h"
#include "storage/lock.h"
#include "tcop/utility.h"
#include "utils/guc.h"

#if PG_VERSION_NUM < 130000
#error "pg_rotate needs PostgreSQL 13 or later"
#endif

/*
 * PG 15 gave AlterRole() a ParseState (for error positions); 13 and 14
 * take the statement alone.
 */
#if PG_VERSION_NUM >= 150000
#define compat_AlterRole(pstate, stmt)	AlterRole((pstate), (stmt))
#else
#define compat_AlterRole(pstate, stmt)	AlterRole(stmt)
#endif

/*
 * PG 14 added the readOnlyTree argument to ProcessUtility and its hook.
 * COMPAT_PU_ARGS_DECL declares the hook's parameters, COMPAT_PU_ARGS
 * passes them on unchanged.
 */
#if PG_VERSION_NUM >= 140000
#define COMPAT_PU_ARGS_DECL \
	PlannedStmt *pstmt, const char *queryString, bool readOnlyTree, \
	ProcessUtilityContext context, ParamListInfo params, \
	QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc
#define COMPAT_PU_ARGS \
	pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc
#else
#define COMPAT_PU_ARGS_DECL \
	PlannedStmt *pstmt, const char *queryString, \
	ProcessUtilityContext context, ParamListInfo params, \
	QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc
#define COMPAT_PU_ARGS \
	pstmt, queryString, context, params, queryEnv, dest, qc
#endif

/* PG 15 renamed EmitWarningsOnPlaceholders to MarkGUCPrefixReserved. */
#if PG_VERSION_NUM < 150000
#define MarkGUCPrefixReserved(prefix)	EmitWarningsOnPlaceholders(prefix)
#endif

/*
 * PG 17 added an "orstronger" argument to LockHeldByMe.  Callers here
 * always want "this mode or a stronger one".
 */
static inline bool
compat_LockHeldByMeOrStronger(const LOCKTAG *tag, LOCKMODE mode)
{
#if PG_VERSION_NUM >= 170000
	return LockHeldByMe(tag, mode, true);
#else
	LOCKMODE	m;

	for (m = mode; m <= MaxLockMode; m++)
	{
		if (LockHeldByMe(tag, m))
			return true;
	}
	return false;
#endif
}

/*
 * PG 17 checks rolcanlogin for background workers unless told not to; the
 * audit writer connects as the extension owner, which may be NOLOGIN.  It
 * also connects to a database that does not allow connections (its owner
 * can set ALLOW_CONNECTIONS false), on every version.
 */
#ifdef BGWORKER_BYPASS_ROLELOGINCHECK
#define COMPAT_BGWORKER_CONN_FLAGS \
	(BGWORKER_BYPASS_ALLOWCONN | BGWORKER_BYPASS_ROLELOGINCHECK)
#else
#define COMPAT_BGWORKER_CONN_FLAGS	BGWORKER_BYPASS_ALLOWCONN
#endif

#endif							/* PG_ROTATE_COMPAT_H */
