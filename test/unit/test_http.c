/*-------------------------------------------------------------------------
 *
 * test_http.c
 *	  The HTTP layer's retry policy (http.c): which answers are retried,
 *	  and the full-jitter backoff, as the AWS SDKs' "standard" mode has them.
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

#include "http.h"

static void
test_retry_policy(void **state)
{
	(void) state;
	assert_true(http_status_retryable(500, ""));
	assert_true(http_status_retryable(503, "ServiceUnavailable"));
	assert_true(http_status_retryable(400, "ThrottlingException"));
	assert_true(http_status_retryable(429, ""));
	assert_false(http_status_retryable(400, "ResourceNotFoundException"));
	assert_false(http_status_retryable(403, "AccessDeniedException"));
	assert_false(http_status_retryable(501, ""));
	assert_true(http_is_clock_skew_code("RequestTimeTooSkewed"));
	/* full jitter: r * min(cap, base * 2^(i-1)) */
	assert_true(http_backoff_ms(1, 1000, 20000, 0.5) == 500);
	assert_true(http_backoff_ms(3, 1000, 20000, 1.0) == 4000);
	assert_true(http_backoff_ms(10, 1000, 20000, 1.0) == 20000);
	assert_true(http_backoff_ms(2, 1000, 20000, 0.0) == 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retry_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
