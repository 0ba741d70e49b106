/*-------------------------------------------------------------------------
 *
 * offline.h
 *	  Test-only: an AWS session (aws_session_open_offline) that gives every
 *	  call one canned answer and keeps what the last request said.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_TEST_OFFLINE_H
#define PGR_TEST_OFFLINE_H

#include "aws_session.h"

typedef struct canned
{
	long		status;			/* the answer: 0 is none at all */
	const char *errortype;		/* X-Amzn-Errortype, or NULL */
	const char *body;			/* or NULL */
	aws_service_id service;		/* the last request */
	char		operation[64];
	char		request[1024];
} canned;

extern aws_session *offline_session(canned *c);

#endif							/* PGR_TEST_OFFLINE_H */
