/*-------------------------------------------------------------------------
 *
 * rot_audit.c
 *	  The audit log checked against an anchor (see rot_audit.h).
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "rot_audit.h"
#include "secret.h"
#include "secretsmanager.h"

const char *
rot_anchor_source_name(rot_anchor_source source)
{
	switch (source)
	{
		case ROT_ANCHOR_GIVEN:
			return "option";
		case ROT_ANCHOR_SECRET:
			return "secret";
		case ROT_ANCHOR_NONE:
			break;
	}
	return "none";
}

/*
 * The AWSCURRENT version of secret_id, parsed. what names it in messages.
 */
static int
fetch_current(aws_session *session, const char *secret_id, const char *what,
			  pgr_secret **out, pgr_error *err)
{
	sm_secret_value value = {0};
	int			rc = -1;

	if (sm_get_secret_value(session, secret_id, NULL, "AWSCURRENT", &value, err) < 0)
		return -1;
	if (!value.secret_string)
		pgr_error_set(err, PGR_ERR_INPUT, NULL, "the %s secret \"%s\" holds no SecretString",
					  what, secret_id);
	else if ((rc = secret_parse(value.secret_string, out, err)) < 0)
		pgr_error_prefix(err, "the %s secret \"%s\": ", what, secret_id);
	sm_secret_value_free(&value);
	return rc;
}

/* Hand each row to the chain check (db_read_audit_log's callback). */
static void
add_row(void *ctx, const audit_row *row)
{
	audit_chain_add((audit_chain *) ctx, row);
}

/*
 * Check the log of secret_id's database against anchor (NULL: the one its
 * AWSCURRENT version holds, if any). On success *out says what was checked
 * and what was found; a log that does not match is a verdict, not an error.
 * Returns -1 when the check could not be made.
 */
int
rot_audit_check(aws_session *session, const rot_options *opts, const char *secret_id,
				const char *anchor, bool recompute, rot_audit *out, pgr_error *err)
{
	pgr_secret *current = NULL;
	pgr_secret *admin = NULL;
	PGconn	   *conn = NULL;
	db_options	dbo = opts->db;
	const char *admin_id = opts->admin_secret_id;
	long long	anchor_id = 0;
	char		anchor_hash[AUDIT_HASH_LEN + 1];
	int			rc = -1;

	memset(out, 0, sizeof(*out));
	if (fetch_current(session, secret_id, "rotated", &current, err) < 0)
		goto cleanup;
	if (anchor)
		out->source = ROT_ANCHOR_GIVEN;
	else if ((anchor = secret_audit_anchor(current)) != NULL)
		out->source = ROT_ANCHOR_SECRET;
	if (anchor && audit_anchor_parse(anchor, &anchor_id, anchor_hash, err) < 0)
	{
		if (out->source == ROT_ANCHOR_SECRET)
			pgr_error_prefix(err, "the key \"%s\" of secret \"%s\" holds an ", SECRET_ANCHOR_KEY,
							 secret_id);
		goto cleanup;
	}
	snprintf(out->anchor, sizeof(out->anchor), "%s", anchor ? anchor : "");

	if (!admin_id && !(admin_id = secret_masterarn(current)))
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL, "secret \"%s\" names no admin secret", secret_id);
		pgr_error_hint(err, "Add a \"masterarn\" key to the secret, or pass --admin-secret-id "
					   "(a role that may run rotate.verify_audit_log, or with --recompute "
					   "read rotate.audit_log).");
		goto cleanup;
	}
	if (fetch_current(session, admin_id, "admin", &admin, err) < 0)
		goto cleanup;
	if (!dbo.dbname)
		dbo.dbname = secret_dbname(current);
	snprintf(out->dbname, sizeof(out->dbname), "%s", dbo.dbname);
	if (db_connect(admin, &dbo, &conn, err) < 0)
		goto cleanup;
	if (recompute)
	{
		audit_chain chain;

		audit_chain_init(&chain, anchor_id, anchor ? anchor_hash : NULL);
		if (db_read_audit_log(conn, add_row, &chain, err) < 0)
		{
			pgr_error_hint(err, "--recompute reads every row: the role needs SELECT on "
						   "rotate.audit_log (pass an auditor's secret with --admin-secret-id).");
			goto cleanup;
		}
		audit_chain_finish(&chain, &out->verdict);
		out->recomputed = true;
	}
	else if (db_verify_audit_log(conn, anchor, &out->verdict, err) < 0)
		goto cleanup;
	rc = 0;

cleanup:
	db_disconnect(conn);
	secret_free(admin);
	secret_free(current);
	return rc;
}
