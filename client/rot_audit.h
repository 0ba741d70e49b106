/*-------------------------------------------------------------------------
 *
 * rot_audit.h
 *	  "pg_rotate check --audit": does the database's audit log still match
 *	  an anchor kept outside it?
 *
 * The anchor is the one given (--anchor), else the one the secret's
 * AWSCURRENT version holds (SECRET_ANCHOR_KEY, written by rotations with
 * --anchor-in-secret). The check connects with the admin secret (the
 * secret's masterarn, or --admin-secret-id) to the secret's database and
 * asks rotate.verify_audit_log(anchor); with recompute it reads the rows
 * and recomputes their hashes here instead (audit_chain.h), for an auditor
 * who does not trust the server's functions: that role needs SELECT on
 * rotate.audit_log.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_ROT_AUDIT_H
#define PGR_ROT_AUDIT_H

#include <stdbool.h>

#include "audit_chain.h"
#include "aws_session.h"
#include "error.h"
#include "rotation.h"

typedef enum rot_anchor_source
{
	ROT_ANCHOR_NONE = 0,		/* none: the chain alone was checked */
	ROT_ANCHOR_GIVEN,			/* --anchor */
	ROT_ANCHOR_SECRET			/* the AWSCURRENT version's SECRET_ANCHOR_KEY */
} rot_anchor_source;

typedef struct rot_audit
{
	char		anchor[AUDIT_ANCHOR_LEN];	/* "" with ROT_ANCHOR_NONE */
	rot_anchor_source source;
	bool		recomputed;		/* hashes computed here, not by the server */
	char		dbname[64];		/* the database checked */
	audit_verdict verdict;
} rot_audit;

extern int	rot_audit_check(aws_session *session, const rot_options *opts,
							const char *secret_id, const char *anchor, bool recompute,
							rot_audit *out, pgr_error *err);
extern const char *rot_anchor_source_name(rot_anchor_source source);

#endif							/* PGR_ROT_AUDIT_H */
