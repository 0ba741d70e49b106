/*-------------------------------------------------------------------------
 *
 * test_emf.c
 *	  The Lambda runtime's CloudWatch Embedded Metric Format documents
 *	  (emf.c): their exact shape for each kind of invocation, and the
 *	  namespaces refused. test/test_lambda.py checks real documents against
 *	  the specification's rules.
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

#include "emf.h"

#define ARN "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf"
#define DIRECTIVE(metrics) \
	"{\"_aws\":{\"Timestamp\":1700000000123,\"CloudWatchMetrics\":[{\"Namespace\":\"pg_rotate\"," \
	"\"Dimensions\":[[\"SecretName\"],[]],\"Metrics\":[" metrics "]}]}"
#define COUNTS "{\"Name\":\"Rotated\",\"Unit\":\"Count\"},{\"Name\":\"Failed\",\"Unit\":\"Count\"},"
#define LAG "{\"Name\":\"LagMs\",\"Unit\":\"Milliseconds\"},"
#define DURATION "{\"Name\":\"DurationMs\",\"Unit\":\"Milliseconds\"}"

static char *
document(const char *step, const rot_result *res)
{
	pgr_buf		b;

	assert_true(emf_write_invocation(&b, "pg_rotate", 1700000000123.9, "req-1", step, res));
	return pgr_buf_detach(&b);
}

/* setSecret that collapsed the lag: the rotation completed here, lag measured. */
static void
test_completed_with_lag(void **state)
{
	rot_result	res;
	char	   *doc;

	(void) state;
	rot_result_init(&res, ARN);
	res.outcome = ROT_OUTCOME_ROTATED;
	res.lag_ms = 7.5;
	res.total_ms = 120.25;
	doc = document("setSecret", &res);
	assert_string_equal(doc, DIRECTIVE(COUNTS LAG DURATION)
						",\"SecretName\":\"app/db\",\"Rotated\":1,\"Failed\":0,\"LagMs\":7.5,"
						"\"DurationMs\":120.25,\"RequestId\":\"req-1\",\"Step\":\"setSecret\","
						"\"Outcome\":\"rotated\",\"SecretId\":\"" ARN "\"}");
	free(doc);
}

/* createSecret succeeded: no rotation completed yet, no lag to report. */
static void
test_step_without_completion(void **state)
{
	rot_result	res;
	char	   *doc;

	(void) state;
	rot_result_init(&res, ARN);
	res.outcome = ROT_OUTCOME_ROTATED;
	res.total_ms = 3;
	doc = document("createSecret", &res);
	assert_string_equal(doc, DIRECTIVE(COUNTS DURATION)
						",\"SecretName\":\"app/db\",\"Rotated\":0,\"Failed\":0,"
						"\"DurationMs\":3,\"RequestId\":\"req-1\",\"Step\":\"createSecret\","
						"\"Outcome\":\"rotated\",\"SecretId\":\"" ARN "\"}");
	free(doc);
}

/* A failed step, and an event without a step or a secret id. */
static void
test_failed(void **state)
{
	rot_result	res;
	char	   *doc;

	(void) state;
	rot_result_init(&res, "");
	res.total_ms = 1;
	doc = document(NULL, &res);
	assert_string_equal(doc, DIRECTIVE(COUNTS DURATION)
						",\"SecretName\":\"-\",\"Rotated\":0,\"Failed\":1,"
						"\"DurationMs\":1,\"RequestId\":\"req-1\",\"Step\":null,"
						"\"Outcome\":\"failed\",\"SecretId\":\"\"}");
	free(doc);
}

/* Which invocations complete a rotation. */
static void
test_completed(void **state)
{
	rot_result	res;

	(void) state;
	rot_result_init(&res, ARN);
	res.outcome = ROT_OUTCOME_ROTATED;
	assert_true(emf_rotation_completed("finishSecret", &res));
	assert_false(emf_rotation_completed("setSecret", &res));	/* not collapsed */
	assert_false(emf_rotation_completed("testSecret", &res));
	res.lag_ms = 1;
	assert_true(emf_rotation_completed("setSecret", &res));
	res.outcome = ROT_OUTCOME_ALREADY_CURRENT;
	assert_false(emf_rotation_completed("finishSecret", &res));
	assert_false(emf_rotation_completed(NULL, &res));
}

static void
test_namespaces(void **state)
{
	pgr_error	err;
	char		long_ns[300];

	(void) state;
	assert_int_equal(emf_namespace_check("pg_rotate", &err), 0);
	assert_int_equal(emf_namespace_check("Prod/Rotation Metrics", &err), 0);
	memset(long_ns, 'n', 255);
	long_ns[255] = '\0';
	assert_int_equal(emf_namespace_check(long_ns, &err), 0);
	long_ns[255] = 'n';
	long_ns[256] = '\0';
	assert_int_equal(emf_namespace_check(long_ns, &err), -1);
	assert_int_equal(emf_namespace_check("", &err), -1);
	assert_int_equal(emf_namespace_check("AWS/Lambda", &err), -1);
	assert_int_equal(emf_namespace_check(":x", &err), -1);
	assert_int_equal(emf_namespace_check("tab\there", &err), -1);
	assert_int_equal(emf_namespace_check("caf\xc3\xa9", &err), -1);
	assert_string_equal(err.message, "invalid CloudWatch namespace in PG_ROTATE_METRICS_NAMESPACE");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_completed_with_lag),
		cmocka_unit_test(test_step_without_completion),
		cmocka_unit_test(test_failed),
		cmocka_unit_test(test_completed),
		cmocka_unit_test(test_namespaces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
