/*-------------------------------------------------------------------------
 *
 * audit_chain.h
 *	  The audit log's hash chain, checked here: anchors, row hashes and
 *	  the verdict on a log, for "pg_rotate check --audit".
 *
 * An anchor is rotate.audit_anchor()'s "<id>:<row_hash>": the chain's tip
 * when it was taken. Because each row's hash covers the one before it, a
 * log that still holds that row with that hash holds every row up to it
 * unchanged. The server checks that with rotate.verify_audit_log(anchor);
 * an auditor who does not trust the server's functions (a superuser can
 * replace them) has the rows' hashes recomputed here instead, from the
 * rows themselves (audit_chain_add), with the serialization documented in
 * extension/audit.c. Pure: no I/O.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_AUDIT_CHAIN_H
#define PGR_AUDIT_CHAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define AUDIT_HASH_LEN		64	/* lowercase hex SHA-256 */
#define AUDIT_MAX_ID_DIGITS 18
#define AUDIT_ANCHOR_LEN	(AUDIT_MAX_ID_DIGITS + 1 + AUDIT_HASH_LEN + 1)	/* with NUL */

/* The fields a row's hash covers, in the order it covers them. */
typedef enum audit_field
{
	AUDIT_ID = 0,
	AUDIT_LOGGED_AT,
	AUDIT_ACTOR,
	AUDIT_TARGET,
	AUDIT_EVENT,
	AUDIT_SECRET_ID,
	AUDIT_VERSION_ID,
	AUDIT_CLIENT_ADDR,
	AUDIT_APPLICATION_NAME,
	AUDIT_DETAIL,
	AUDIT_PREV_HASH,
	AUDIT_NFIELDS
} audit_field;

/*
 * One row as its hash serializes it: each field's text (NULL for SQL
 * NULL) as rotate.audit_row_hash() renders it, and the stored row_hash.
 */
typedef struct audit_row
{
	const char *field[AUDIT_NFIELDS];
	const char *row_hash;
} audit_row;

/* What a check of the log found: verify_audit_log()'s columns. */
typedef struct audit_verdict
{
	bool		ok;
	long long	rows_checked;
	long long	first_bad_id;	/* 0: none */
	char		problem[PGR_ERRMSG_LEN];	/* "" when ok */
} audit_verdict;

/* A check of the log's rows, oldest first (audit_chain_init .. _finish). */
typedef struct audit_chain
{
	bool		has_anchor;
	long long	anchor_id;
	char		anchor_hash[AUDIT_HASH_LEN + 1];
	char		expected_prev[AUDIT_HASH_LEN + 1];
	bool		anchor_row_seen;
	bool		anchor_row_matches;	/* it had the anchor's hash */
	long long	last_id;		/* 0: no row yet */
	audit_verdict verdict;
} audit_chain;

extern int	audit_anchor_parse(const char *text, long long *id, char *hash,
							   pgr_error *err);
extern bool audit_row_hash(const audit_row *row, char *out);
extern void audit_chain_init(audit_chain *chain, long long anchor_id,
							 const char *anchor_hash);
extern void audit_chain_add(audit_chain *chain, const audit_row *row);
extern void audit_chain_finish(audit_chain *chain, audit_verdict *out);

#endif							/* PGR_AUDIT_CHAIN_H */
