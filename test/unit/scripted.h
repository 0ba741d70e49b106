/*-------------------------------------------------------------------------
 *
 * scripted.h
 *	  Test-only: an AWS session (aws_session_open_offline) that answers
 *	  each call from a script: the first line whose operation matches and
 *	  whose text appears in the request gives the answer, so one test can
 *	  play a whole RDS account. It counts the calls and keeps their order.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_TEST_SCRIPTED_H
#define PGR_TEST_SCRIPTED_H

#include "aws_session.h"

typedef struct script_line
{
	const char *operation;		/* NULL ends the script */
	const char *request_has;	/* a substring of the request body, or NULL */
	long		status;
	const char *body;
} script_line;

typedef struct script
{
	const script_line *lines;
	int			ncalls;
	char		calls[16][64];	/* operations, in order */
} script;

extern aws_session *scripted_session(script *s);

#endif							/* PGR_TEST_SCRIPTED_H */
