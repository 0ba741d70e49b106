/*-------------------------------------------------------------------------
 *
 * aws_session.h
 *	  The one way into AWS: a session owns the configuration (profile,
 *	  region, each service's endpoint), the credentials, and the
 *	  connections, and makes signed calls in both protocols AWS uses here.
 *
 * Open one per process; every thread may call through it at once. The
 * credential chain runs once, on the first call that needs it (again only
 * when temporary credentials are about to expire), and every thread signs
 * with what it found; each endpoint is resolved once, on its service's
 * first call. Each call borrows an idle connection (one libcurl handle:
 * TLS sessions and keep-alive reused) or makes one, so N threads hold at
 * most N.
 *
 * A call names its service, an operation and its input (aws_request.h); the
 * service's protocol decides how it goes and what comes back. The service
 * modules (secretsmanager.h, rds.h) call through here; the CLI and the
 * Lambda loop only open, close and set a deadline, and the "secret"
 * commands name an operation and pass its JSON.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_AWS_SESSION_H
#define PGR_AWS_SESSION_H

#include <stddef.h>

#include "aws_options.h"
#include "aws_request.h"
#include "aws_services.h"
#include "buf.h"
#include "error.h"

typedef struct aws_session aws_session;

extern int	aws_session_open(const aws_options *opts, aws_session **out, pgr_error *err);
extern void aws_session_close(aws_session *session);
extern void aws_session_set_deadline(aws_session *session, double deadline_epoch_ms);

extern int	aws_session_call(aws_session *session, aws_service_id service,
							 const aws_request *req, const char *what, aws_answer *out,
							 pgr_error *err);

/*
 * For tests: a session whose calls never leave the process. Each request
 * is handed to answer(), which fills in the status (0: no answer at all,
 * as when the network fails), an X-Amzn-Errortype and the body; the answer
 * then goes through the same protocol code as a real one.
 */
typedef struct aws_exchange
{
	aws_service_id service;		/* the request */
	const char *operation;
	const char *body;
	size_t		bodylen;
	long		status;			/* the answer */
	char		errortype[128];
	pgr_buf		answer;
} aws_exchange;

typedef void (*aws_answer_fn) (void *arg, aws_exchange *exchange);

extern int	aws_session_open_offline(aws_answer_fn answer, void *arg, aws_session **out,
									 pgr_error *err);

#endif							/* PGR_AWS_SESSION_H */
