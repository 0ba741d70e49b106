/*-------------------------------------------------------------------------
 *
 * offline.c
 *	  Test-only: a session that answers from a canned answer (offline.h).
 *
 *-------------------------------------------------------------------------
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "offline.h"

static void
answer(void *arg, aws_exchange *x)
{
	canned	   *c = arg;

	c->service = x->service;
	snprintf(c->operation, sizeof(c->operation), "%s", x->operation);
	snprintf(c->request, sizeof(c->request), "%.*s", (int) x->bodylen, x->body);
	x->status = c->status;
	if (c->errortype)
		snprintf(x->errortype, sizeof(x->errortype), "%s", c->errortype);
	if (c->body)
		pgr_buf_puts(&x->answer, c->body);
}

/* A session answering every call with *c (which the test may change). */
aws_session *
offline_session(canned *c)
{
	aws_session *s = NULL;
	pgr_error	err;

	assert_int_equal(aws_session_open_offline(answer, c, &s, &err), 0);
	return s;
}
