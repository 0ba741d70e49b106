/*-------------------------------------------------------------------------
 *
 * rot_result.c
 *	  A rotation's result: names, and its JSON (see rot_result.h).
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "rot_result.h"

static const char *const step_names[ROT_NSTEPS] = {
	"createSecret", "setSecret", "testSecret", "finishSecret"
};
static const char *const step_snake_names[ROT_NSTEPS] = {
	"create_secret", "set_secret", "test_secret", "finish_secret"
};

/* A failed result with nothing measured yet, for secret_id. */
void
rot_result_init(rot_result *res, const char *secret_id)
{
	memset(res, 0, sizeof(*res));
	snprintf(res->secret_id, sizeof(res->secret_id), "%s", secret_id ? secret_id : "");
	res->outcome = ROT_OUTCOME_FAILED;
	res->lag_ms = -1;
	res->proof.replica_wait_ms = -1;
	for (int i = 0; i < ROT_NSTEPS; i++)
		res->step_ms[i] = -1;
}

const char *
rot_step_name(rot_step_kind step)
{
	return (step >= 0 && step < ROT_NSTEPS) ? step_names[step] : "unknown";
}

/* Accept Secrets Manager's camelCase names and their snake_case forms. */
int
rot_step_parse(const char *name, rot_step_kind *out)
{
	for (int i = 0; name && i < ROT_NSTEPS; i++)
	{
		if (strcmp(name, step_names[i]) == 0 || strcmp(name, step_snake_names[i]) == 0)
		{
			*out = (rot_step_kind) i;
			return 0;
		}
	}
	return -1;
}

const char *
rot_outcome_name(rot_outcome outcome)
{
	switch (outcome)
	{
		case ROT_OUTCOME_ROTATED:
			return "rotated";
		case ROT_OUTCOME_ALREADY_CURRENT:
			return "already_current";
		case ROT_OUTCOME_ROLLED_BACK:
			return "rolled_back";
		case ROT_OUTCOME_FAILED:
			break;
	}
	return "failed";
}

/* The proof object, or null when the hosts were not resolved. */
static void
write_proof(json_writer *w, const rot_proof *proof)
{
	if (!proof->relation[0])
	{
		json_write_null(w);
		return;
	}
	json_write_begin_object(w);
	json_write_key(w, "host");
	json_write_string(w, proof->host);
	json_write_key(w, "relation");
	json_write_string(w, proof->relation);
	json_write_key(w, "described");
	json_write_string(w, proof->described);
	json_write_key(w, "replica_wait_ms");
	if (proof->replica_wait_ms >= 0)
		json_write_double(w, proof->replica_wait_ms);
	else
		json_write_null(w);
	json_write_end_object(w);
}

/*
 * Did the work fail? A roll-back is a failure too: what was asked (rotate,
 * or a Lambda step that Secrets Manager must retry) did not happen.
 */
bool
rot_outcome_is_failure(rot_outcome outcome)
{
	return outcome == ROT_OUTCOME_FAILED || outcome == ROT_OUTCOME_ROLLED_BACK;
}

/*
 * The secret's name, for people and for metrics' dimensions: from an ARN
 * ("arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-AbCdEf") the NAME,
 * without the six random characters Secrets Manager appends; otherwise the
 * id as given. Shortened to outlen - 1 bytes, never inside a UTF-8
 * character; "-" when there is no id at all.
 */
void
rot_result_secret_name(const rot_result *res, char *out, size_t outlen)
{
	const char *id = res->secret_id;
	const char *marker = ":secret:";
	const char *at = strstr(id, marker);
	size_t		len = strlen(id);

	if (outlen == 0)
		return;
	if (strncmp(id, "arn:", 4) == 0 && at)
	{
		id = at + strlen(marker);
		len = strlen(id);
		if (len > 7 && id[len - 7] == '-')
			len -= 7;
	}
	if (len == 0)
	{
		id = "-";
		len = 1;
	}
	if (len > outlen - 1)
	{
		len = outlen - 1;
		/* back off a cut UTF-8 sequence: its continuation bytes, then its lead */
		while (len > 0 && ((unsigned char) id[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(out, id, len);
	out[len] = '\0';
}

/*
 * The result's members, into an object the caller opened (and closes, so
 * that it may add its own members around them):
 *
 *	secret_id, version_id (null before one is known), outcome, lag_ms (null
 *	when not measured), steps_ms {step: ms} for the steps run, total_ms,
 *	sm_calls, rds_calls, proof {host, relation, described, replica_wait_ms}
 *	(null before the hosts were resolved), audit_anchor
 *	(rotate.audit_anchor() right after the rotation's last audit write,
 *	finished or rolled_back; null when none was taken), and on failure or
 *	rollback error {code, message, detail, hint}
 */
void
rot_result_write_json(json_writer *w, const rot_result *res)
{
	json_write_key(w, "secret_id");
	json_write_string(w, res->secret_id);
	json_write_key(w, "version_id");
	if (res->version_id[0])
		json_write_string(w, res->version_id);
	else
		json_write_null(w);
	json_write_key(w, "outcome");
	json_write_string(w, rot_outcome_name(res->outcome));
	json_write_key(w, "lag_ms");
	if (res->lag_ms >= 0)
		json_write_double(w, res->lag_ms);
	else
		json_write_null(w);
	json_write_key(w, "steps_ms");
	json_write_begin_object(w);
	for (int i = 0; i < ROT_NSTEPS; i++)
		if (res->step_ms[i] >= 0)
		{
			json_write_key(w, rot_step_name((rot_step_kind) i));
			json_write_double(w, res->step_ms[i]);
		}
	json_write_end_object(w);
	json_write_key(w, "total_ms");
	json_write_double(w, res->total_ms);
	json_write_key(w, "sm_calls");
	json_write_int(w, res->sm_calls);
	json_write_key(w, "rds_calls");
	json_write_int(w, res->rds_calls);
	json_write_key(w, "proof");
	write_proof(w, &res->proof);
	json_write_key(w, "audit_anchor");
	if (res->audit_anchor[0])
		json_write_string(w, res->audit_anchor);
	else
		json_write_null(w);
	if (res->error.message[0])
	{
		json_write_key(w, "error");
		json_write_begin_object(w);
		pgr_log_write_error(w, &res->error);
		json_write_end_object(w);
	}
}

/* The result as one JSON object of its own, into out (initialized here). */
bool
rot_result_to_json(const rot_result *res, pgr_buf *out)
{
	json_writer w;

	pgr_buf_init(out, 0);
	json_writer_init(&w, out, false);
	json_write_begin_object(&w);
	rot_result_write_json(&w, res);
	json_write_end_object(&w);
	return json_writer_ok(&w);
}
