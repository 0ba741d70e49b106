/*-------------------------------------------------------------------------
 *
 * test_secretsmanager.c
 *	  The Secrets Manager operations (secretsmanager.c) through a session
 *	  answered without the network: the requests they write, the typed
 *	  answers they read, their refusals, and the wiping of secret values.
 *
 *-------------------------------------------------------------------------
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "freed_memory.h"
#include "offline.h"
#include "secretsmanager.h"

static json_doc *
parse(const char *text)
{
	json_doc   *doc = NULL;
	pgr_error	err;

	assert_int_equal(json_parse(text, strlen(text), 0, &doc, &err), 0);
	return doc;
}

static void
test_get_secret_value(void **state)
{
	canned		c = {.status = 200, .body = "{\"ARN\":\"arn:s\",\"Name\":\"s\",\"VersionId\":\"v1\","
		"\"SecretString\":\"{\\\"password\\\":\\\"p\\\"}\","
	"\"VersionStages\":[\"AWSCURRENT\",\"X\"],\"CreatedDate\":1.5e9}" };
	aws_session *s = offline_session(&c);
	sm_secret_value v;
	pgr_error	err;

	(void) state;
	assert_int_equal(sm_get_secret_value(s, "s", NULL, "AWSCURRENT", &v, &err), 0);
	assert_string_equal(c.operation, "GetSecretValue");
	assert_string_equal(c.request, "{\"SecretId\":\"s\",\"VersionStage\":\"AWSCURRENT\"}");
	assert_string_equal(v.arn, "arn:s");
	assert_string_equal(v.version_id, "v1");
	assert_string_equal(v.secret_string, "{\"password\":\"p\"}");
	assert_int_equal(v.nstages, 2);
	assert_string_equal(v.version_stages[1], "X");
	assert_true(v.created_date == 1.5e9);
	sm_secret_value_free(&v);

	/* an answer without VersionId names the call it broke */
	c.body = "{\"ARN\":\"arn:s\"}";
	assert_int_equal(sm_get_secret_value(s, "s", "v9", NULL, &v, &err), -1);
	assert_string_equal(c.request, "{\"SecretId\":\"s\",\"VersionId\":\"v9\"}");
	assert_int_equal(err.errclass, PGR_ERR_INPUT);
	assert_string_equal(err.message, "could not get the value of secret \"s\" (v9): "
						"the response lacks VersionId or has malformed VersionStages");
	c.body = "{\"VersionId\":\"v\",\"VersionStages\":[1]}";
	assert_int_equal(sm_get_secret_value(s, "s", NULL, "AWSCURRENT", &v, &err), -1);
	aws_session_close(s);
}

static void
test_description(void **state)
{
	json_doc   *doc = parse("{\"ARN\":\"arn:s\",\"Name\":\"s\",\"RotationEnabled\":true,"
							"\"RotationLambdaARN\":\"arn:l\",\"VersionIdsToStages\":"
							"{\"v1\":[\"AWSPREVIOUS\"],\"v2\":[\"AWSCURRENT\",\"AWSPENDING\"],"
							"\"v3\":[]}}");
	sm_description d;
	pgr_error	err;

	(void) state;
	assert_int_equal(sm_description_from_response(json_root(doc), &d, &err), 0);
	assert_true(d.rotation_enabled && d.rotation_enabled_present);
	assert_false(d.deleted);
	assert_int_equal(d.nversions, 3);
	assert_string_equal(sm_version_with_stage(&d, "AWSCURRENT"), "v2");
	assert_string_equal(sm_version_with_stage(&d, "AWSPENDING"), "v2");
	assert_null(sm_version_with_stage(&d, "CUSTOM"));
	assert_true(sm_version_has_stage(&d, "v1", "AWSPREVIOUS"));
	assert_false(sm_version_has_stage(&d, "v1", "AWSCURRENT"));
	assert_false(sm_version_has_stage(&d, "v9", "AWSCURRENT"));
	sm_description_free(&d);
	json_free(doc);

	doc = parse("{\"ARN\":\"a\",\"DeletedDate\":1}");
	assert_int_equal(sm_description_from_response(json_root(doc), &d, &err), 0);
	assert_true(d.deleted);
	assert_false(d.rotation_enabled_present);
	sm_description_free(&d);
	json_free(doc);

	doc = parse("{\"VersionIdsToStages\":{\"v1\":\"AWSCURRENT\"}}");
	assert_int_equal(sm_description_from_response(json_root(doc), &d, &err), -1);
	assert_string_equal(err.message, "malformed VersionIdsToStages in the response");
	json_free(doc);
}

/* Tags: RDS's on its managed secrets, looked up without regard to case. */
static void
test_description_tags(void **state)
{
	json_doc   *doc = parse("{\"ARN\":\"arn:s\",\"Tags\":["
							"{\"Key\":\"aws:rds:primaryDBInstanceArn\",\"Value\":\"arn:db\"},"
							"{\"Key\":\"aws:secretsmanager:owningService\",\"Value\":\"rds\"}]}");
	sm_description d;
	pgr_error	err;

	(void) state;
	assert_int_equal(sm_description_from_response(json_root(doc), &d, &err), 0);
	assert_int_equal(d.ntags, 2);
	assert_string_equal(sm_description_tag(&d, "aws:rds:primarydbinstancearn"), "arn:db");
	assert_string_equal(sm_description_tag(&d, "AWS:RDS:PRIMARYDBINSTANCEARN"), "arn:db");
	assert_null(sm_description_tag(&d, "aws:rds:primaryDBClusterArn"));
	sm_description_free(&d);
	json_free(doc);

	/* a tag that is not a {Key, Value} pair of strings */
	doc = parse("{\"Tags\":[{\"Key\":\"k\"}]}");
	assert_int_equal(sm_description_from_response(json_root(doc), &d, &err), -1);
	assert_string_equal(err.message, "malformed Tags in the response");
	json_free(doc);
	doc = parse("{\"Tags\":{\"k\":\"v\"}}");
	assert_int_equal(sm_description_from_response(json_root(doc), &d, &err), -1);
	json_free(doc);
}

static void
test_writes(void **state)
{
	canned		c = {.status = 200, .body = "{\"ARN\":\"arn:s\",\"VersionId\":\"t\"}" };
	aws_session *s = offline_session(&c);
	const char *stages[] = {"AWSPENDING"};
	sm_put_input in = {"s", "t", "{\"password\":\"p\\\"q\"}", stages, 1, NULL};
	pgr_password_rules rp = {40, ":/", true, false, false, false, false, true};
	char	   *pw = NULL;
	pgr_error	err;

	(void) state;
	assert_int_equal(sm_put_secret_value(s, &in, &err), 0);
	assert_string_equal(c.operation, "PutSecretValue");
	assert_string_equal(c.request, "{\"SecretId\":\"s\",\"ClientRequestToken\":\"t\","
						"\"SecretString\":\"{\\\"password\\\":\\\"p\\\\\\\"q\\\"}\","
						"\"VersionStages\":[\"AWSPENDING\"]}");
	assert_int_equal(sm_update_secret_version_stage(s, "s", "AWSCURRENT", "new", "old", &err), 0);
	assert_string_equal(c.request, "{\"SecretId\":\"s\",\"VersionStage\":\"AWSCURRENT\","
						"\"MoveToVersionId\":\"new\",\"RemoveFromVersionId\":\"old\"}");
	c.body = "{\"RandomPassword\":\"generated\"}";
	assert_int_equal(sm_get_random_password(s, &rp, &pw, &err), 0);
	assert_string_equal(pw, "generated");
	assert_string_equal(c.request, "{\"PasswordLength\":40,\"ExcludeCharacters\":\":/\","
						"\"ExcludeNumbers\":true,\"ExcludePunctuation\":false,"
						"\"ExcludeUppercase\":false,\"ExcludeLowercase\":false,"
						"\"IncludeSpace\":false,\"RequireEachIncludedType\":true}");
	pgr_free_secret(pw);
	c.body = "{}";
	assert_int_equal(sm_get_random_password(s, &rp, &pw, &err), -1);
	assert_string_equal(err.message,
						"could not get a random password: the response has no RandomPassword");
	aws_session_close(s);
}

/* A value larger than the service takes is refused before anything is sent. */
static void
test_put_too_large(void **state)
{
	canned		c = {.status = 200, .body = "{}" };
	aws_session *s = offline_session(&c);
	char	   *big = malloc(SM_MAX_SECRET_SIZE + 2);
	sm_put_input in = {"s", NULL, big, NULL, 0, NULL};
	pgr_error	err;

	(void) state;
	memset(big, 'x', SM_MAX_SECRET_SIZE + 1);
	big[SM_MAX_SECRET_SIZE + 1] = '\0';
	assert_int_equal(sm_put_secret_value(s, &in, &err), -1);
	assert_string_equal(c.operation, "");
	assert_int_equal(err.errclass, PGR_ERR_INPUT);
	assert_string_equal(err.message, "cannot store a value in secret \"s\": it is larger "
						"than Secrets Manager's 65536-byte limit");
	free(big);
	aws_session_close(s);
}

/* The values written and read leave nothing in freed memory. */
static void
test_values_wiped(void **state)
{
	canned		c = {.status = 200, .body = "{\"ARN\":\"arn:wipe\",\"VersionId\":\"v\","
	"\"SecretString\":\"read-hunter2-MUST-NOT-STAY\"}" };
	aws_session *s = offline_session(&c);
	sm_put_input in = {"s", NULL, "written-hunter2-MUST-NOT-STAY", NULL, 0, NULL};
	sm_secret_value v;
	pgr_error	err;

	(void) state;
	freed_memory_keep(true);
	assert_int_equal(sm_put_secret_value(s, &in, &err), 0);
	assert_int_equal(sm_get_secret_value(s, "s", NULL, "AWSCURRENT", &v, &err), 0);
	sm_secret_value_free(&v);
	aws_session_close(s);
	assert_true(freed_memory_holds_str("arn:wipe"));	/* not a secret: not wiped */
	assert_false(freed_memory_holds_str("MUST-NOT-STAY"));
	freed_memory_keep(false);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_secret_value),
		cmocka_unit_test(test_description),
		cmocka_unit_test(test_description_tags),
		cmocka_unit_test(test_writes),
		cmocka_unit_test(test_put_too_large),
		cmocka_unit_test(test_values_wiped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
