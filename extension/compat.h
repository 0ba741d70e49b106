/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Every PG_VERSION_NUM shim pg_rotate needs, for PostgreSQL 14 to 18.
 *
 * Nothing outside this file tests PG_VERSION_NUM.  Each shim says which
 * release changed what, so it can be dropped when that release is no
 * longer supported.  Every server API and catalog column the extension's
 * C files use was checked against the headers of 14, 15, 16, 17 and 18;
 * what differs is below, everything else is the same in all five.  Only
 * 15 is compiled and tested here: the other branches of these shims are
 * written from the headers, not built.
 *
 * Differences without a shim:
 * - PostgreSQL 16 changed what CREATEROLE means (a CREATEROLE role needs
 *   ADMIN OPTION on the roles it alters).  set_password runs as the
 *   extension owner, which must be a superuser (checked at run time,
 *   SQLSTATE 55000), and refuses CREATEROLE targets.
 * - The audit writer (audit_worker.c) connects as the extension owner.
 *   Before 17 a background worker cannot skip the LOGIN check, so on 14,
 *   15 and 16 an owner without LOGIN makes it fail and "denied" rows go
 *   unrecorded (the server log says why).
 * - PostgreSQL 18 builds extensions with -Wmissing-variable-declarations:
 *   a variable shared between files needs its extern in pg_rotate.h.
 *
 * PostgreSQL 16 also gave each membership grant INHERIT and SET options
 * (pg_auth_members.inherit_option, set_option) where 14 and 15 have only
 * the member's rolinherit.  reach.c needs no shim: it counts every grant,
 * whatever its options, and reads only roleid and member.  The predefined
 * roles of later releases (pg_create_subscription, pg_maintain, ...) are
 * matched by name in policy.c, so no release's OIDs are compiled in.
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

#if PG_VERSION_NUM < 140000
#error "pg_rotate needs PostgreSQL 14 or later"
#endif

/*
 * PG 18 replaced pg_attribute_noreturn(), written after a declarator, by
 * pg_noreturn, written before the declaration.  Declarations here use
 * pg_noreturn; before 18 it is defined as PG 18 defines it.
 */
#if PG_VERSION_NUM < 180000 && !defined(pg_noreturn)
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define pg_noreturn _Noreturn
#elif defined(__GNUC__)
#define pg_noreturn __attribute__((noreturn))
#elif defined(_MSC_VER)
#define pg_noreturn __declspec(noreturn)
#else
#define pg_noreturn
#endif
#endif

/*
 * PG 15 gave AlterRole() a ParseState (for error positions); 14 takes the
 * statement alone.
 */
#if PG_VERSION_NUM >= 150000
#define compat_AlterRole(pstate, stmt)	AlterRole((pstate), (stmt))
#else
#define compat_AlterRole(pstate, stmt)	AlterRole(stmt)
#endif

/*
 * The ProcessUtility hook's parameters (readOnlyTree since 14, the same in
 * every supported release).  COMPAT_PU_ARGS_DECL declares them,
 * COMPAT_PU_ARGS passes them on unchanged: the next release that changes
 * the signature changes these two only.
 */
#define COMPAT_PU_ARGS_DECL \
	PlannedStmt *pstmt, const char *queryString, bool readOnlyTree, \
	ProcessUtilityContext context, ParamListInfo params, \
	QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc
#define COMPAT_PU_ARGS \
	pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc

/* PG 15 renamed EmitWarningsOnPlaceholders to MarkGUCPrefixReserved. */
#if PG_VERSION_NUM < 150000
#define MarkGUCPrefixReserved(prefix)	EmitWarningsOnPlaceholders(prefix)
#endif

/*
 * PG 17 added an "orstronger" argument to LockHeldByMe.  Callers here
 * always want "this mode or a stronger one".  (14-16 gained
 * LockOrStrongerHeldByMe in a minor release; the loop works with all.)
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
