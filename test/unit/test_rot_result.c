/*-------------------------------------------------------------------------
 *
 * test_rot_result.c
 *	  A rotation's result (rot_result.c): step and outcome names, and its
 *	  one JSON shape, as "rotate --json" prints it and the Lambda runtime
 *	  logs it (doc/pg_rotate.1, JSON RESULTS).
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

#include "rot_result.h"

static char *
as_json(const rot_result *res)
{
	pgr_buf		b;

	assert_true(rot_result_to_json(res, &b));
	return pgr_buf_detach(&b);
}

static void
test_names(void **state)
{
	rot_step_kind k;

	(void) state;
	assert_int_equal(rot_step_parse("setSecret", &k), 0);
	assert_int_equal(k, ROT_SET_SECRET);
	assert_int_equal(rot_step_parse("finish_secret", &k), 0);
	assert_int_equal(k, ROT_FINISH_SECRET);
	assert_int_equal(rot_step_parse("explodeSecret", &k), -1);
	assert_int_equal(rot_step_parse(NULL, &k), -1);
	assert_string_equal(rot_step_name(ROT_TEST_SECRET), "testSecret");
	assert_string_equal(rot_step_name(ROT_NSTEPS), "unknown");
	assert_string_equal(rot_outcome_name(ROT_OUTCOME_ALREADY_CURRENT), "already_current");
	assert_string_equal(rot_outcome_name(ROT_OUTCOME_ROLLED_BACK), "rolled_back");
}

static void
test_rotated(void **state)
{
	rot_result	res;
	char	   *json;

	(void) state;
	rot_result_init(&res, "app");
	snprintf(res.secret_id, sizeof(res.secret_id), "arn:x");
	snprintf(res.version_id, sizeof(res.version_id), "v-1");
	res.outcome = ROT_OUTCOME_ROTATED;
	res.lag_ms = 2.5;
	res.step_ms[ROT_CREATE_SECRET] = 10;
	res.step_ms[ROT_FINISH_SECRET] = 0.25;
	res.total_ms = 40.125;
	res.sm_calls = 7;
	snprintf(res.audit_anchor, sizeof(res.audit_anchor), "42:%064d", 7);
	json = as_json(&res);
	assert_string_equal(json, "{\"secret_id\":\"arn:x\",\"version_id\":\"v-1\","
						"\"outcome\":\"rotated\",\"lag_ms\":2.5,"
						"\"steps_ms\":{\"createSecret\":10,\"finishSecret\":0.25},"
						"\"total_ms\":40.125,\"sm_calls\":7,\"rds_calls\":0,\"proof\":null,"
						"\"audit_anchor\":\"42:"
						"0000000000000000000000000000000000000000000000000000000000000007\"}");
	free(json);
}

/* A proof at a replica: where, how it relates, and the wait for replay. */
static void
test_proof(void **state)
{
	rot_result	res;
	char	   *json;

	(void) state;
	rot_result_init(&res, "arn:y");
	res.outcome = ROT_OUTCOME_ROTATED;
	res.sm_calls = 8;
	res.rds_calls = 1;
	snprintf(res.proof.host, sizeof(res.proof.host), "c.cluster-ro-x.rds.amazonaws.com:5432");
	snprintf(res.proof.relation, sizeof(res.proof.relation), "replica");
	snprintf(res.proof.described, sizeof(res.proof.described),
			 "the reader endpoint of DB cluster \"c\"");
	res.proof.replica_wait_ms = 12.5;
	json = as_json(&res);
	assert_string_equal(json, "{\"secret_id\":\"arn:y\",\"version_id\":null,"
						"\"outcome\":\"rotated\",\"lag_ms\":null,\"steps_ms\":{},"
						"\"total_ms\":0,\"sm_calls\":8,\"rds_calls\":1,\"proof\":{"
						"\"host\":\"c.cluster-ro-x.rds.amazonaws.com:5432\","
						"\"relation\":\"replica\",\"described\":"
						"\"the reader endpoint of DB cluster \\\"c\\\"\",\"replica_wait_ms\":12.5},"
						"\"audit_anchor\":null}");
	free(json);
}

/* Before a version is known, and on failure: nulls, and the error object. */
static void
test_failed(void **state)
{
	rot_result	res;
	char	   *json;

	(void) state;
	rot_result_init(&res, "id\n\"quoted\"");
	pgr_error_set(&res.error, PGR_ERR_AWS, "ResourceNotFoundException", "could not find it");
	pgr_error_hint(&res.error, "Check the secret id.");
	json = as_json(&res);
	assert_string_equal(json, "{\"secret_id\":\"id\\n\\\"quoted\\\"\",\"version_id\":null,"
						"\"outcome\":\"failed\",\"lag_ms\":null,\"steps_ms\":{},"
						"\"total_ms\":0,\"sm_calls\":0,\"rds_calls\":0,\"proof\":null,"
						"\"audit_anchor\":null,\"error\":{\"code\":"
						"\"ResourceNotFoundException\",\"message\":\"could not find it\","
						"\"hint\":\"Check the secret id.\"}}");
	free(json);
}

/* The secret's name: an ARN's without its random suffix, else the id. */
static void
test_secret_name(void **state)
{
	rot_result	res;
	char		name[16];

	(void) state;
	rot_result_init(&res, "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf");
	rot_result_secret_name(&res, name, sizeof(name));
	assert_string_equal(name, "app/db");
	rot_result_init(&res, "app-db");
	rot_result_secret_name(&res, name, sizeof(name));
	assert_string_equal(name, "app-db");
	rot_result_init(&res, "");
	rot_result_secret_name(&res, name, sizeof(name));
	assert_string_equal(name, "-");
	/* shortened, never inside a character: 14 bytes then a 2-byte one */
	rot_result_init(&res, "abcdefghijklmn\xc3\xa9z");
	rot_result_secret_name(&res, name, sizeof(name));
	assert_string_equal(name, "abcdefghijklmn");
	rot_result_init(&res, "abcdefghijklm\xc3\xa9z");
	rot_result_secret_name(&res, name, sizeof(name));
	assert_string_equal(name, "abcdefghijklm\xc3\xa9");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_rotated),
		cmocka_unit_test(test_failed),
		cmocka_unit_test(test_secret_name),
		cmocka_unit_test(test_proof),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
