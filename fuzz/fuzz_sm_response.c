/*-------------------------------------------------------------------------
 *
 * fuzz_sm_response.c
 *	  libFuzzer target: what pg_rotate reads from Secrets Manager, which a
 *	  hostile endpoint or proxy controls: error bodies (JSON and XML, with
 *	  or without an X-Amzn-Errortype header) and the successful responses
 *	  of GetSecretValue, DescribeSecret and PutSecretValue.
 *
 * Input: an optional X-Amzn-Errortype value, then a newline, then the
 * body. A body is handed over NUL-terminated, as http.c does.
 *
 * Properties: error codes and messages are NUL-terminated within their
 * buffers (whatever their size) and a code never keeps the ":..." suffix;
 * typed responses have what their parsers promise (a VersionId, as many
 * stages as the array had), stage lookups agree with each other, and
 * nothing leaks on any path.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "secretsmanager.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond, const char *what)
{
	if (!cond)
	{
		fprintf(stderr, "fuzz_sm_response: property violated: %s\n", what);
		abort();
	}
}

/* sm_parse_error with code and message buffers of the given sizes. */
static void
parse_error_into(const char *header, const char *body, size_t len,
				 size_t codelen, size_t msglen)
{
	char	   *code = malloc(codelen);
	char	   *msg = malloc(msglen);

	if (!code || !msg)
	{
		free(code);
		free(msg);
		return;
	}
	sm_parse_error(header, body, len, code, codelen, msg, msglen);
	check(memchr(code, '\0', codelen) != NULL, "code is terminated");
	check(memchr(msg, '\0', msglen) != NULL, "message is terminated");
	check(strchr(code, ':') == NULL, "code has no suffix");
	free(code);
	free(msg);
}

static void
check_description(json_object *doc)
{
	sm_description d;
	pgr_error	err;

	pgr_error_clear(&err);
	if (sm_description_from_response(doc, &d, &err) != 0)
	{
		check(err.message[0] != '\0', "a failure has a message");
		return;
	}
	for (int i = 0; i < d.nversions; i++)
	{
		check(d.versions[i].version_id != NULL, "version has an id");
		for (int j = 0; j < d.versions[i].nstages; j++)
		{
			const char *stage = d.versions[i].stages[j];
			const char *holder = sm_version_with_stage(&d, stage);

			check(stage != NULL, "stage is a string");
			check(holder != NULL, "a stage is found");
			check(sm_version_has_stage(&d, holder, stage), "lookups agree");
		}
	}
	sm_description_free(&d);
}

static void
check_secret_value(json_object *doc)
{
	sm_secret_value v;
	pgr_error	err;
	json_object *stages = NULL;

	pgr_error_clear(&err);
	(void) sm_secret_value_from_response(doc, NULL, &err);
	pgr_error_clear(&err);
	if (sm_secret_value_from_response(doc, &v, &err) != 0)
	{
		check(err.message[0] != '\0', "a failure has a message");
		return;
	}
	check(v.version_id != NULL, "value has a version id");
	if (json_object_object_get_ex(doc, "VersionStages", &stages) && stages)
		check((size_t) v.nstages == json_object_array_length(stages),
			  "every stage copied");
	for (int i = 0; i < v.nstages; i++)
		check(v.version_stages[i] != NULL, "stage is a string");
	sm_secret_value_free(&v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	char	   *header = NULL;
	char	   *body;
	size_t		bodylen;
	json_object *doc;

	if (nl && !memchr(data, '\0', (size_t) (nl - data)))
	{
		header = strndup((const char *) data, (size_t) (nl - data));
		bodylen = size - (size_t) (nl - data) - 1;
		body = malloc(bodylen + 1);
		if (body)
			memcpy(body, nl + 1, bodylen);
	}
	else
	{
		bodylen = size;
		body = malloc(bodylen + 1);
		if (body)
			memcpy(body, data, bodylen);
	}
	if (!body)
	{
		free(header);
		return 0;
	}
	body[bodylen] = '\0';

	/* errors: with the header, without it, and into tiny buffers */
	parse_error_into(header, body, bodylen, 128, PGR_ERRMSG_LEN);
	parse_error_into(NULL, body, bodylen, 128, PGR_ERRMSG_LEN);
	parse_error_into(header, body, bodylen, 1, 1);
	parse_error_into(NULL, body, bodylen, 2, 3);

	/* successful responses */
	doc = sm_parse_json(body, bodylen);
	if (doc && json_object_is_type(doc, json_type_object))
	{
		sm_put_output put;

		check_secret_value(doc);
		check_description(doc);
		sm_put_output_from_response(doc, &put);
		sm_put_output_free(&put);
	}
	sm_response_put(doc);
	free(body);
	free(header);
	return 0;
}
