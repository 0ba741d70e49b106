/*-------------------------------------------------------------------------
 *
 * secretsmanager.c
 *	  Secrets Manager operations: requests written with json.h into
 *	  wiping buffers, sent through the session, answers read into types.
 *
 * A secret value passes through three kinds of memory here: the request
 * body (a pgr_buf), the answer's body (http.c's, wiped) and the parsed
 * answer (json.c's arena). Each is wiped before it is freed; the typed
 * copies handed to the caller are wiped by their free functions.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "secretsmanager.h"

/* A request body being written. */
typedef struct request
{
	pgr_buf		body;
	json_writer w;
} request;

static void
request_begin(request *r)
{
	pgr_buf_init(&r->body, 0);
	json_writer_init(&r->w, &r->body, false);
	json_write_begin_object(&r->w);
}

/* A string member, when value is not NULL. */
static void
request_string(request *r, const char *key, const char *value)
{
	if (!value)
		return;
	json_write_key(&r->w, key);
	json_write_string(&r->w, value);
}

static void
request_bool(request *r, const char *key, bool value)
{
	json_write_key(&r->w, key);
	json_write_bool(&r->w, value);
}

/*
 * Send the request as operation; on success *answer holds the answer's
 * object. The body is wiped either way (it may hold a secret value).
 */
static int
request_send(request *r, aws_session *session, const char *operation, const char *what,
			 json_doc **answer, pgr_error *err)
{
	aws_request req = {operation, NULL, 0, NULL, 0};
	aws_answer	out;
	int			rc = -1;

	json_write_end_object(&r->w);
	req.body = r->body.data;
	req.bodylen = r->body.len;
	if (!json_writer_ok(&r->w))
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
	else if ((rc = aws_session_call(session, AWS_SECRETS_MANAGER, &req, what, &out,
									err)) == 0)
		*answer = out.json;
	pgr_buf_free(&r->body);
	return rc;
}

/* A copy of a string member, or NULL when absent; *ok false when out of memory. */
static char *
copy_member(const json_value *obj, const char *key, bool *ok)
{
	const char *s = json_get_string(obj, key);
	char	   *copy = s ? strdup(s) : NULL;

	if (s && !copy)
		*ok = false;
	return copy;
}

/* Copy an array of strings; false on a non-string or out of memory. */
static bool
copy_string_array(const json_value *arr, char ***out, int *n)
{
	*out = NULL;
	*n = 0;
	if (!arr)
		return true;
	if (json_type_of(arr) != JSON_ARRAY)
		return false;
	*out = calloc(json_count(arr) + 1, sizeof(char *));
	if (!*out)
		return false;
	for (const json_value *e = json_first(arr); e; e = json_next(e))
	{
		const char *s = json_string(e, NULL);

		if (!s || !((*out)[*n] = strdup(s)))
			return false;
		(*n)++;
	}
	return true;
}

static void
free_string_array(char **arr, int n)
{
	for (int i = 0; i < n; i++)
		free(arr[i]);
	free(arr);
}

/*
 * The end of a read call: the typed answer (parsed != 0: could not be
 * read, say which call it was), the document wiped and freed.
 */
static int
finish(json_doc *answer, int parsed, const char *what, pgr_error *err)
{
	json_free(answer);
	if (parsed != 0)
	{
		pgr_error_prefix(err, "could not %s: ", what);
		return -1;
	}
	return 0;
}

/*
 * GetSecretValue of one version, named by version_id and/or version_stage
 * (give one: without either the service picks AWSCURRENT, which moto gets
 * wrong). On success *out owns copies (sm_secret_value_free).
 */
int
sm_get_secret_value(aws_session *session, const char *secret_id, const char *version_id,
					const char *version_stage, sm_secret_value *out, pgr_error *err)
{
	request		r;
	json_doc   *answer = NULL;
	char		what[PGR_ERRMSG_LEN / 2];

	request_begin(&r);
	request_string(&r, "SecretId", secret_id);
	request_string(&r, "VersionId", version_id);
	request_string(&r, "VersionStage", version_stage);
	snprintf(what, sizeof(what), "get the value of secret \"%s\"%s%s%s", secret_id,
			 version_stage || version_id ? " (" : "",
			 version_stage ? version_stage : version_id ? version_id : "",
			 version_stage || version_id ? ")" : "");
	if (request_send(&r, session, "GetSecretValue", what, &answer, err) != 0)
		return -1;
	return finish(answer, sm_secret_value_from_response(json_root(answer), out, err),
				  what, err);
}

/*
 * The typed value of a GetSecretValue answer. On success *out owns copies
 * (sm_secret_value_free); on failure nothing is left allocated. Pure.
 */
int
sm_secret_value_from_response(const json_value *doc, sm_secret_value *out, pgr_error *err)
{
	sm_secret_value v;
	size_t		len = 0;
	const char *secret_string = json_string(json_get(doc, "SecretString"), &len);
	bool		ok = true;

	if (secret_string && len > SM_MAX_SECRET_SIZE)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "the value is larger than Secrets Manager's %d-byte limit",
					  SM_MAX_SECRET_SIZE);
		return -1;
	}
	memset(&v, 0, sizeof(v));
	v.arn = copy_member(doc, "ARN", &ok);
	v.name = copy_member(doc, "Name", &ok);
	v.version_id = copy_member(doc, "VersionId", &ok);
	v.secret_string = copy_member(doc, "SecretString", &ok);
	(void) json_double(json_get(doc, "CreatedDate"), &v.created_date);
	if (!ok || !copy_string_array(json_get(doc, "VersionStages"), &v.version_stages,
								  &v.nstages) ||
		!v.version_id)
	{
		sm_secret_value_free(&v);
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "the response lacks VersionId or has malformed VersionStages");
		return -1;
	}
	*out = v;
	return 0;
}

void
sm_secret_value_free(sm_secret_value *v)
{
	if (!v)
		return;
	free(v->arn);
	free(v->name);
	free(v->version_id);
	pgr_free_secret(v->secret_string);
	free_string_array(v->version_stages, v->nstages);
	memset(v, 0, sizeof(*v));
}

/*
 * DescribeSecret: the ARN, rotation settings, every version's stages
 * (VersionIdsToStages) and the tags. On success *out owns copies (sm_description_free).
 */
int
sm_describe_secret(aws_session *session, const char *secret_id, sm_description *out,
				   pgr_error *err)
{
	request		r;
	json_doc   *answer = NULL;
	char		what[PGR_ERRMSG_LEN / 2];

	request_begin(&r);
	request_string(&r, "SecretId", secret_id);
	snprintf(what, sizeof(what), "describe secret \"%s\"", secret_id);
	if (request_send(&r, session, "DescribeSecret", what, &answer, err) != 0)
		return -1;
	return finish(answer, sm_description_from_response(json_root(answer), out, err),
				  what, err);
}

/* The Tags of a DescribeSecret answer into d; false when malformed. */
static bool
tags_from_response(const json_value *tags, sm_description *d)
{
	if (!tags)
		return true;
	if (json_type_of(tags) != JSON_ARRAY ||
		!(d->tags = calloc(json_count(tags) + 1, sizeof(sm_tag))))
		return false;
	for (const json_value *t = json_first(tags); t; t = json_next(t))
	{
		const char *key = json_get_string(t, "Key");
		const char *value = json_get_string(t, "Value");
		sm_tag	   *tag = &d->tags[d->ntags];

		if (!key || !value)
			return false;
		tag->key = strdup(key);
		tag->value = strdup(value);
		d->ntags++;
		if (!tag->key || !tag->value)
			return false;
	}
	return true;
}

/*
 * The typed form of a DescribeSecret answer. On success *out owns copies
 * (sm_description_free); on failure nothing is left allocated. Pure.
 */
int
sm_description_from_response(const json_value *doc, sm_description *out, pgr_error *err)
{
	sm_description d;
	const json_value *v;
	bool		ok = true;

	memset(&d, 0, sizeof(d));
	d.arn = copy_member(doc, "ARN", &ok);
	d.name = copy_member(doc, "Name", &ok);
	d.rotation_lambda_arn = copy_member(doc, "RotationLambdaARN", &ok);
	if ((v = json_get(doc, "RotationEnabled")))
	{
		d.rotation_enabled_present = true;
		(void) json_bool(v, &d.rotation_enabled);
	}
	d.deleted = json_type_of(json_get(doc, "DeletedDate")) != JSON_NULL;
	if ((v = json_get(doc, "VersionIdsToStages")))
	{
		if (json_type_of(v) != JSON_OBJECT)
			ok = false;
		else if (!(d.versions = calloc(json_count(v) + 1, sizeof(sm_version))))
			ok = false;
		for (const json_value *m = json_first(v); ok && m; m = json_next(m))
		{
			sm_version *ver = &d.versions[d.nversions++];

			ver->version_id = strdup(json_key(m, NULL));
			ok = ver->version_id && copy_string_array(m, &ver->stages, &ver->nstages);
		}
	}
	if (!ok)
	{
		sm_description_free(&d);
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "malformed VersionIdsToStages in the response");
		return -1;
	}
	if (!tags_from_response(json_get(doc, "Tags"), &d))
	{
		sm_description_free(&d);
		pgr_error_set(err, PGR_ERR_INPUT, NULL, "malformed Tags in the response");
		return -1;
	}
	*out = d;
	return 0;
}

void
sm_description_free(sm_description *d)
{
	if (!d)
		return;
	free(d->arn);
	free(d->name);
	free(d->rotation_lambda_arn);
	for (int i = 0; i < d->nversions; i++)
	{
		free(d->versions[i].version_id);
		free_string_array(d->versions[i].stages, d->versions[i].nstages);
	}
	free(d->versions);
	for (int i = 0; i < d->ntags; i++)
	{
		free(d->tags[i].key);
		free(d->tags[i].value);
	}
	free(d->tags);
	memset(d, 0, sizeof(*d));
}

/*
 * The value of the tag named key, compared without regard to case (RDS
 * writes "aws:rds:primaryDBInstanceArn", other tools lowercase it), or
 * NULL.
 */
const char *
sm_description_tag(const sm_description *d, const char *key)
{
	for (int i = 0; i < d->ntags; i++)
		if (strcasecmp(d->tags[i].key, key) == 0)
			return d->tags[i].value;
	return NULL;
}

/* The version id that carries stage, or NULL. */
const char *
sm_version_with_stage(const sm_description *d, const char *stage)
{
	for (int i = 0; i < d->nversions; i++)
		for (int j = 0; j < d->versions[i].nstages; j++)
			if (strcmp(d->versions[i].stages[j], stage) == 0)
				return d->versions[i].version_id;
	return NULL;
}

/* Whether version_id exists and carries stage. */
bool
sm_version_has_stage(const sm_description *d, const char *version_id, const char *stage)
{
	for (int i = 0; i < d->nversions; i++)
		if (strcmp(d->versions[i].version_id, version_id) == 0)
			for (int j = 0; j < d->versions[i].nstages; j++)
				if (strcmp(d->versions[i].stages[j], stage) == 0)
					return true;
	return false;
}

/*
 * PutSecretValue: a new version with SecretString, ClientRequestToken (the
 * idempotency token / version id), VersionStages and RotationToken passed
 * through as given.
 */
int
sm_put_secret_value(aws_session *session, const sm_put_input *in, pgr_error *err)
{
	request		r;
	json_doc   *answer = NULL;
	char		what[PGR_ERRMSG_LEN / 2];

	if (in->secret_string && strlen(in->secret_string) > SM_MAX_SECRET_SIZE)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "cannot store a value in secret \"%s\": it is larger than Secrets Manager's %d-byte limit",
					  in->secret_id, SM_MAX_SECRET_SIZE);
		return -1;
	}
	request_begin(&r);
	request_string(&r, "SecretId", in->secret_id);
	request_string(&r, "ClientRequestToken", in->client_request_token);
	request_string(&r, "SecretString", in->secret_string);
	request_string(&r, "RotationToken", in->rotation_token);
	if (in->version_stages && in->nstages > 0)
	{
		json_write_key(&r.w, "VersionStages");
		json_write_begin_array(&r.w);
		for (int i = 0; i < in->nstages; i++)
			json_write_string(&r.w, in->version_stages[i]);
		json_write_end_array(&r.w);
	}
	snprintf(what, sizeof(what), "store a new value in secret \"%s\"", in->secret_id);
	if (request_send(&r, session, "PutSecretValue", what, &answer, err) != 0)
		return -1;
	json_free(answer);
	return 0;
}

/*
 * UpdateSecretVersionStage: move version_stage to move_to_version_id and/or
 * remove it from remove_from_version_id.
 */
int
sm_update_secret_version_stage(aws_session *session, const char *secret_id,
							   const char *version_stage, const char *move_to_version_id,
							   const char *remove_from_version_id, pgr_error *err)
{
	request		r;
	json_doc   *answer = NULL;
	char		what[PGR_ERRMSG_LEN / 2];

	request_begin(&r);
	request_string(&r, "SecretId", secret_id);
	request_string(&r, "VersionStage", version_stage);
	request_string(&r, "MoveToVersionId", move_to_version_id);
	request_string(&r, "RemoveFromVersionId", remove_from_version_id);
	snprintf(what, sizeof(what), "move stage \"%s\" of secret \"%s\"",
			 version_stage ? version_stage : "", secret_id);
	if (request_send(&r, session, "UpdateSecretVersionStage", what, &answer, err) != 0)
		return -1;
	json_free(answer);
	return 0;
}

/*
 * GetRandomPassword with rules (the same knobs as the API's, every one of
 * them sent). *password receives a copy to free with pgr_free_secret().
 */
int
sm_get_random_password(aws_session *session, const pgr_password_rules *rules,
					   char **password, pgr_error *err)
{
	request		r;
	json_doc   *answer = NULL;
	const char *pw;
	int			rc = -1;

	request_begin(&r);
	json_write_key(&r.w, "PasswordLength");
	json_write_int(&r.w, rules->length);
	request_string(&r, "ExcludeCharacters", rules->exclude_characters);
	request_bool(&r, "ExcludeNumbers", rules->exclude_numbers);
	request_bool(&r, "ExcludePunctuation", rules->exclude_punctuation);
	request_bool(&r, "ExcludeUppercase", rules->exclude_uppercase);
	request_bool(&r, "ExcludeLowercase", rules->exclude_lowercase);
	request_bool(&r, "IncludeSpace", rules->include_space);
	request_bool(&r, "RequireEachIncludedType", rules->require_each_included_type);
	if (request_send(&r, session, "GetRandomPassword", "get a random password", &answer,
					 err) != 0)
		return -1;
	pw = json_get_string(json_root(answer), "RandomPassword");
	if (!pw)
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "could not get a random password: the response has no RandomPassword");
	else if (!(*password = strdup(pw)))
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
	else
		rc = 0;
	json_free(answer);
	return rc;
}
