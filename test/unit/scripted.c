/*-------------------------------------------------------------------------
 *
 * scripted.c
 *	  Test-only: a session answered from a script (scripted.h).
 *
 *-------------------------------------------------------------------------
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "scripted.h"

static void
answer(void *arg, aws_exchange *x)
{
	script	   *s = arg;
	char		request[2048];

	snprintf(request, sizeof(request), "%.*s", (int) x->bodylen, x->body);
	if (s->ncalls < 16)
		snprintf(s->calls[s->ncalls], sizeof(s->calls[0]), "%s", x->operation);
	s->ncalls++;
	for (const script_line *l = s->lines; l->operation; l++)
		if (strcmp(l->operation, x->operation) == 0 &&
			(!l->request_has || strstr(request, l->request_has)))
		{
			x->status = l->status;
			pgr_buf_puts(&x->answer, l->body);
			return;
		}
	fail_msg("no script line answers %s with %s", x->operation, request);
}

/* A session answering from s->lines (which the test may change). */
aws_session *
scripted_session(script *s)
{
	aws_session *session = NULL;
	pgr_error	err;

	assert_int_equal(aws_session_open_offline(answer, s, &session, &err), 0);
	return session;
}
