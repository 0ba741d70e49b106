/*-------------------------------------------------------------------------
 *
 * aws_session.c
 *	  The AWS session: configuration, shared credentials, pooled
 *	  connections and signed calls (see aws_session.h).
 *
 *-------------------------------------------------------------------------
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws_config.h"
#include "aws_credentials.h"
#include "aws_protocol.h"
#include "aws_session.h"
#include "http.h"
#include "log.h"

/* Refresh temporary credentials this long before they expire. */
#define CREDENTIAL_REFRESH_MARGIN 300

struct aws_session
{
	aws_config	cfg;
	pthread_mutex_t lock;		/* guards everything below */
	aws_endpoint endpoint[AWS_NSERVICES];	/* url NULL: not resolved yet */
	aws_credentials creds;
	bool		have_creds;
	http_client **idle;			/* connections no call is using */
	size_t		nidle;
	size_t		idle_cap;
	double		deadline_ms;	/* epoch ms every call must end by; 0: none */
	aws_answer_fn offline;		/* answers instead of the network (tests) */
	void	   *offline_arg;
};

/* What one call holds while it runs. */
typedef struct call
{
	aws_target	target;
	http_client *http;
	aws_credentials creds;		/* this call's copy: wiped when it ends */
	sigv4_credentials signing;
	aws_transport transport;
} call;

static aws_session *
session_new(pgr_error *err)
{
	aws_session *s = calloc(1, sizeof(*s));

	if (!s)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

/*
 * Open a session: resolve the configuration from opts, the environment and
 * the AWS config files. Nothing is asked of the network yet. On success
 * *out is closed with aws_session_close().
 */
int
aws_session_open(const aws_options *opts, aws_session **out, pgr_error *err)
{
	aws_session *s;

	if (http_global_init(err) != 0 || !(s = session_new(err)))
		return -1;
	if (aws_config_load(opts, &s->cfg, err) != 0)
	{
		aws_session_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

/* Close a session: its connections, wiped credentials. NULL is allowed. */
void
aws_session_close(aws_session *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nidle; i++)
		http_client_free(s->idle[i]);
	free(s->idle);
	for (int i = 0; i < AWS_NSERVICES; i++)
		free(s->endpoint[i].url);
	aws_credentials_free(&s->creds);
	aws_config_free(&s->cfg);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/*
 * Make every later call end by deadline_epoch_ms (milliseconds since the
 * epoch, as Lambda's Lambda-Runtime-Deadline-Ms), retries included; 0
 * lifts the limit.
 */
void
aws_session_set_deadline(aws_session *s, double deadline_epoch_ms)
{
	pthread_mutex_lock(&s->lock);
	s->deadline_ms = deadline_epoch_ms;
	pthread_mutex_unlock(&s->lock);
}

/* ----- connections -------------------------------------------------------- */

/* An idle connection, or a new one; NULL with err filled. */
static http_client *
checkout(aws_session *s, pgr_error *err)
{
	http_client *c = NULL;
	double		deadline;

	pthread_mutex_lock(&s->lock);
	if (s->nidle > 0)
		c = s->idle[--s->nidle];
	deadline = s->deadline_ms;
	pthread_mutex_unlock(&s->lock);
	if (!c)
	{
		http_options o;

		memset(&o, 0, sizeof(o));
		o.connect_timeout_ms = s->cfg.connect_timeout_ms;
		o.timeout_ms = s->cfg.timeout_ms;
		o.max_attempts = s->cfg.max_attempts;
		o.ca_bundle = s->cfg.ca_bundle;
		o.verbose = s->cfg.verbose;
		c = http_client_new(&o, err);
	}
	if (c)
		http_client_set_deadline(c, deadline);
	return c;
}

/* Give a connection back for the next call. */
static void
checkin(aws_session *s, http_client *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&s->lock);
	if (s->nidle == s->idle_cap)
	{
		size_t		cap = s->idle_cap ? s->idle_cap * 2 : 8;
		http_client **idle = realloc(s->idle, cap * sizeof(*idle));

		if (!idle)
		{
			pthread_mutex_unlock(&s->lock);
			http_client_free(c);
			return;
		}
		s->idle = idle;
		s->idle_cap = cap;
	}
	s->idle[s->nidle++] = c;
	pthread_mutex_unlock(&s->lock);
}

/* ----- endpoints and credentials ------------------------------------------ */

/* The service's endpoint, resolved on its first call. Holds the lock. */
static int
endpoint_locked(aws_session *s, const aws_service *svc, pgr_error *err)
{
	aws_endpoint *e = &s->endpoint[svc->id];

	if (e->url)
		return 0;
	if (aws_config_endpoint(&s->cfg, svc, e, err) != 0)
		return -1;
	if (!s->cfg.region && !svc->global_endpoint)
	{
		free(e->url);
		e->url = NULL;
		pgr_error_set(err, PGR_ERR_USAGE, NULL, "no AWS region is configured");
		pgr_error_detail(err, "Requests are signed for a region, even with --endpoint-url.");
		pgr_error_hint(err, "Give --region, set AWS_REGION, or set \"region\" in the profile \"%s\".",
					   s->cfg.profile);
		return -1;
	}
	if (s->cfg.verbose)
		pgr_log_debug("%s endpoint %s (from %s), region %s (from %s)", svc->name, e->url,
					  e->source, s->cfg.region ? s->cfg.region : "us-east-1",
					  s->cfg.region_source ? s->cfg.region_source : "the default");
	return 0;
}

/*
 * The session's credentials, resolved on first use and again when about to
 * expire, copied into *copy for one call. Holds the lock: the chain runs
 * once however many threads ask at the same moment.
 */
static int
credentials_locked(aws_session *s, http_client *http, aws_credentials *copy, pgr_error *err)
{
	if (s->have_creds &&
		aws_credentials_expiring(&s->creds, time(NULL), CREDENTIAL_REFRESH_MARGIN))
	{
		aws_credentials_free(&s->creds);
		s->have_creds = false;
	}
	if (!s->have_creds)
	{
		if (aws_credentials_resolve(&s->cfg, http, &s->creds, err) != 0)
			return -1;
		s->have_creds = true;
		if (s->cfg.verbose)
			pgr_log_debug("using AWS credentials from %s (access key id %s)",
						  s->creds.source, s->creds.access_key_id);
	}
	return aws_credentials_copy(&s->creds, copy, err);
}

/* ----- calls ------------------------------------------------------------ */

static int
perform_offline(void *arg, const aws_target *target, const char *operation,
				const http_request *req, const http_signing *sign, http_response *resp,
				pgr_error *err)
{
	aws_session *s = arg;
	aws_exchange x;

	(void) sign;
	memset(&x, 0, sizeof(x));
	x.service = target->service->id;
	x.operation = operation;
	x.body = req->body;
	x.bodylen = req->bodylen;
	pgr_buf_init(&x.answer, 0);
	s->offline(s->offline_arg, &x);
	if (x.status == 0 || x.answer.oom)
	{
		pgr_buf_free(&x.answer);
		pgr_error_set(err, PGR_ERR_NETWORK, NULL, "could not reach %s at \"%s\"",
					  req->what, req->url);
		pgr_error_detail(err, "No answer (after 1 attempt).");
		return -1;
	}
	memset(resp, 0, sizeof(*resp));
	resp->status = x.status;
	resp->bodylen = x.answer.len;
	resp->body = pgr_buf_detach(&x.answer);
	resp->attempts = 1;
	memcpy(resp->errortype, x.errortype, sizeof(resp->errortype));
	return resp->body ? 0 : -1;
}

/* Everything one call needs: a connection, the endpoint, signing keys. */
static int
call_begin(aws_session *s, aws_service_id id, call *c, pgr_error *err)
{
	const aws_service *svc = aws_service_get(id);
	int			rc;

	memset(c, 0, sizeof(*c));
	c->target.service = svc;
	if (s->offline)
	{
		c->target.url = "http://offline.invalid/";
		c->target.region = "us-east-1";
		c->transport.perform = perform_offline;
		c->transport.arg = s;
		return 0;
	}
	if (!(c->http = checkout(s, err)))
		return -1;
	pthread_mutex_lock(&s->lock);
	rc = endpoint_locked(s, svc, err);
	if (rc == 0)
		rc = credentials_locked(s, c->http, &c->creds, err);
	c->target.url = s->endpoint[id].url;	/* stays until the session closes */
	c->target.allow_http = s->endpoint[id].explicit_url;
	pthread_mutex_unlock(&s->lock);
	if (rc != 0)
		return -1;
	c->target.region = s->cfg.region ? s->cfg.region : "us-east-1";
	c->signing.access_key_id = c->creds.access_key_id;
	c->signing.secret_access_key = c->creds.secret_access_key;
	c->signing.session_token = c->creds.session_token;
	c->target.credentials = &c->signing;
	c->transport = aws_http_transport(c->http);
	return 0;
}

static void
call_end(aws_session *s, call *c)
{
	aws_credentials_free(&c->creds);
	checkin(s, c->http);
}

/*
 * One call to service (see aws_call): req in, the answer in *out (freed
 * with aws_answer_free). what says what was being done, for messages.
 */
int
aws_session_call(aws_session *s, aws_service_id service, const aws_request *req,
				 const char *what, aws_answer *out, pgr_error *err)
{
	call		c;
	int			rc = -1;

	memset(out, 0, sizeof(*out));
	if (call_begin(s, service, &c, err) == 0)
		rc = aws_call(&c.transport, &c.target, req, what, out, err);
	else
		pgr_error_prefix(err, "could not %s: ", what);
	call_end(s, &c);
	return rc;
}

/* A session answered by answer() (see aws_session.h); region us-east-1. */
int
aws_session_open_offline(aws_answer_fn answer, void *arg, aws_session **out,
						 pgr_error *err)
{
	aws_session *s = session_new(err);

	if (!s)
		return -1;
	s->offline = answer;
	s->offline_arg = arg;
	*out = s;
	return 0;
}
