/*-------------------------------------------------------------------------
 *
 * fuzz_sm_response.c
 *	  libFuzzer target: what pg_rotate reads from Secrets Manager, which a
 *	  hostile endpoint or proxy controls: error bodies (JSON and XML, with
 *	  or without an X-Amzn-Errortype header, through aws_parse_error) and
 *	  the successful responses of GetSecretValue and DescribeSecret.
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

#include "aws_protocol.h"
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

/* aws_parse_error with code and message buffers of the given sizes. */
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
	aws_parse_error(header, body, len, code, codelen, msg, msglen);
	check(memchr(code, '\0', codelen) != NULL, "code is terminated");
	check(memchr(msg, '\0', msglen) != NULL, "message is terminated");
	check(strchr(code, ':') == NULL, "code has no suffix");
	free(code);
	free(msg);
}

static void
check_description(const json_value *doc)
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
check_secret_value(const json_value *doc)
{
	sm_secret_value v;
	pgr_error	err;
	const json_value *stages = json_get(doc, "VersionStages");

	pgr_error_clear(&err);
	if (sm_secret_value_from_response(doc, &v, &err) != 0)
	{
		check(err.message[0] != '\0', "a failure has a message");
		return;
	}
	check(v.version_id != NULL, "value has a version id");
	if (stages)
		check((size_t) v.nstages == json_count(stages), "every stage copied");
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
	json_doc   *doc = NULL;

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
	if (json_parse(body, bodylen, 0, &doc, NULL) == 0 &&
		json_type_of(json_root(doc)) == JSON_OBJECT)
	{
		check_secret_value(json_root(doc));
		check_description(json_root(doc));
	}
	json_free(doc);
	free(body);
	free(header);
	return 0;
}
