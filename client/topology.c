/*-------------------------------------------------------------------------
 *
 * topology.c
 *	  The admin's writer and how the rotated secret's host relates to it
 *	  (see topology.h).
 *
 * Each RDS call names one resource, so a relation costs a call or two:
 * the admin's instance or cluster (when its secret has no host, or when
 * the hosts differ), then the resource the rotated host belongs to (none
 * when it is the admin cluster's reader or custom endpoint, already in
 * hand), then a proxy's targets or a replica's sources.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "topology.h"

#define MAX_REPLICA_CHAIN	8	/* replicas of replicas, as RDS allows */

/* One resolution: its input, its result, and the admin's database. */
typedef struct walk
{
	aws_session *session;
	const topo_input *in;
	topo_result *out;
	bool		known;			/* the admin's database is identified */
	char		instance_id[RDS_ID_LEN];	/* "" when it is a cluster */
	char		instance_arn[RDS_ARN_LEN];
	char		cluster_id[RDS_ID_LEN]; /* "" when a lone instance */
	bool		have_cluster;
	rds_cluster cluster;		/* the admin's cluster, when described */
	bool		refused;		/* unrelated() said why */
} walk;

const char *
topo_relation_name(topo_relation relation)
{
	switch (relation)
	{
		case TOPO_SAME:
			return "same";
		case TOPO_WRITER:
			return "writer";
		case TOPO_REPLICA:
			return "replica";
		case TOPO_PROXY:
			return "proxy";
	}
	return "unknown";
}

static bool
same_host(const char *a, const char *b)
{
	return a && b && strcasecmp(a, b) == 0;
}

static void
set_endpoint(topo_endpoint *e, const char *host, int port)
{
	snprintf(e->host, sizeof(e->host), "%s", host);
	e->port = port;
}

static void
describe_as(walk *w, const char *fmt,...)
	__attribute__((format(printf, 2, 3)));

static void
describe_as(walk *w, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(w->out->described, sizeof(w->out->described), fmt, ap);
	va_end(ap);
}

/* ----- RDS, counted --------------------------------------------------------- */

static int
get_instance(walk *w, const char *id, rds_instance *i, pgr_error *err)
{
	w->out->rds_calls++;
	return rds_describe_instance(w->session, id, i, err);
}

static int
get_cluster(walk *w, const char *id, rds_cluster *c, pgr_error *err)
{
	w->out->rds_calls++;
	return rds_describe_cluster(w->session, id, c, err);
}

/*
 * The first two labels of an RDS host name ("db1" and "abc123" of
 * db1.abc123.us-east-1.rds.amazonaws.com); false when it has fewer than
 * four labels or they do not fit.
 */
static bool
split_host(const char *host, char *first, char *second)
{
	const char *d1 = strchr(host, '.');
	const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	const char *d3 = d2 ? strchr(d2 + 1, '.') : NULL;

	if (!d3 || d1 == host || d2 == d1 + 1 ||
		(size_t) (d1 - host) >= RDS_ID_LEN || (size_t) (d2 - d1 - 1) >= RDS_ID_LEN)
		return false;
	memcpy(first, host, (size_t) (d1 - host));
	first[d1 - host] = '\0';
	memcpy(second, d1 + 1, (size_t) (d2 - d1 - 1));
	second[d2 - d1 - 1] = '\0';
	return true;
}

/* ----- the admin's side --------------------------------------------------- */

static void
know_instance(walk *w, const rds_instance *i)
{
	w->known = true;
	snprintf(w->instance_id, sizeof(w->instance_id), "%s", i->id);
	snprintf(w->instance_arn, sizeof(w->instance_arn), "%s", i->arn);
	snprintf(w->cluster_id, sizeof(w->cluster_id), "%s", i->cluster_id);
}

static void
know_cluster(walk *w, const rds_cluster *c)
{
	w->known = true;
	if (c != &w->cluster)
		w->cluster = *c;
	w->have_cluster = true;
	snprintf(w->cluster_id, sizeof(w->cluster_id), "%s", c->id);
}

/*
 * The writer of an RDS-managed admin secret: its instance's endpoint, or
 * its cluster's Endpoint.
 */
static int
managed_writer(walk *w, pgr_error *err)
{
	const topo_input *in = w->in;
	rds_instance i;
	rds_cluster *c = &w->cluster;

	if (in->instance_arn)
	{
		if (get_instance(w, in->instance_arn, &i, err) != 0)
			goto failed;
		if (!i.address[0] || !i.port)
			goto no_endpoint;
		know_instance(w, &i);
		set_endpoint(&w->out->writer, i.address, i.port);
		return 0;
	}
	if (get_cluster(w, in->cluster_arn, c, err) != 0)
		goto failed;
	if (!c->endpoint[0] || !c->port)
		goto no_endpoint;
	know_cluster(w, c);
	set_endpoint(&w->out->writer, c->endpoint, c->port);
	return 0;

failed:
	if (rds_is_not_found(err))
		pgr_error_hint(err, "The admin secret \"%s\" is RDS's master user secret of %s, "
					   "which RDS does not know: it may have been deleted. Use the admin "
					   "secret of the database the rotated secret names.",
					   in->admin_secret, in->instance_arn ? in->instance_arn : in->cluster_arn);
	pgr_error_prefix(err, "cannot find the writer of admin secret \"%s\": ", in->admin_secret);
	return -1;

no_endpoint:
	pgr_error_set(err, PGR_ERR_INPUT, NULL,
				  "cannot find the writer of admin secret \"%s\": RDS lists no endpoint for %s",
				  in->admin_secret, in->instance_arn ? in->instance_arn : in->cluster_arn);
	pgr_error_detail(err, "A DB instance or cluster has no endpoint while it is being "
					 "created or restored.");
	pgr_error_hint(err, "Rotate again once it is available.");
	return -1;
}

/*
 * Identify the admin's database from its writer's host name, for an admin
 * secret that names its host: a cluster's Endpoint or an instance's.
 * Returns 1 when found, 0 when RDS knows no such endpoint, -1 on error.
 */
static int
identify_admin(walk *w, pgr_error *err)
{
	const topo_endpoint *wr = &w->out->writer;
	char		first[RDS_ID_LEN],
				second[RDS_ID_LEN];
	rds_instance i;
	int			rc;

	if (w->known)
		return 1;
	if (!split_host(wr->host, first, second))
		return 0;
	if (strncasecmp(second, "cluster-", 8) == 0)
		rc = get_cluster(w, first, &w->cluster, err);
	else
		rc = get_instance(w, first, &i, err);
	if (rc != 0)
	{
		if (!rds_is_not_found(err))
			return -1;
		pgr_error_clear(err);
		return 0;
	}
	if (strncasecmp(second, "cluster-", 8) == 0)
	{
		if (!same_host(w->cluster.endpoint, wr->host))
			return 0;
		know_cluster(w, &w->cluster);
		return 1;
	}
	if (!same_host(i.address, wr->host))
		return 0;
	know_instance(w, &i);
	return 1;
}

/* The admin's cluster, described (once). */
static int
admin_cluster(walk *w, pgr_error *err)
{
	rds_cluster *c;

	if (w->have_cluster)
		return 0;
	if (!(c = calloc(1, sizeof(*c))))
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		return -1;
	}
	if (get_cluster(w, w->cluster_id, c, err) == 0)
		know_cluster(w, c);
	free(c);
	return w->have_cluster ? 0 : -1;
}

/* ----- the rotated host's side -------------------------------------------- */

static int
unrelated(walk *w, pgr_error *err, const char *fmt,...)
	__attribute__((format(printf, 3, 4)));

/* Refuse: the host is not the admin's database; fmt says what RDS said. */
static int
unrelated(walk *w, pgr_error *err, const char *fmt,...)
{
	char		said[PGR_ERRMSG_LEN];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(said, sizeof(said), fmt, ap);
	va_end(ap);
	w->refused = true;
	pgr_error_set(err, PGR_ERR_INPUT, NULL,
				  "host %s:%d is not a writer, reader, replica or proxy of the admin's "
				  "database at %s:%d", w->in->host, w->in->port, w->out->writer.host,
				  w->out->writer.port);
	pgr_error_detail(err, "%s", said);
	pgr_error_hint(err, "The admin secret (\"%s\") must be for the database the rotated "
				   "secret names: fix its masterarn or --admin-secret-id, or the secret's "
				   "host.", w->in->admin_secret);
	return -1;
}

/* A host of the admin's cluster itself: its endpoints, already in hand. */
static bool
cluster_endpoint(walk *w)
{
	const rds_cluster *c = &w->cluster;

	if (!w->have_cluster || w->in->port != c->port)
		return false;
	if (same_host(w->in->host, c->endpoint))
	{
		w->out->relation = TOPO_WRITER;
		describe_as(w, "the cluster endpoint of DB cluster \"%s\"", c->id);
		return true;
	}
	if (same_host(w->in->host, c->reader_endpoint))
	{
		w->out->relation = TOPO_REPLICA;
		describe_as(w, "the reader endpoint of DB cluster \"%s\"", c->id);
		return true;
	}
	for (int k = 0; k < c->ncustom; k++)
		if (same_host(w->in->host, c->custom_endpoints[k]))
		{
			/* a custom endpoint may group readers: treat it as one */
			w->out->relation = TOPO_REPLICA;
			describe_as(w, "a custom endpoint of DB cluster \"%s\"", c->id);
			return true;
		}
	return false;
}

/*
 * The rotated host as a cluster's endpoint (first is the cluster's
 * identifier): related only when it is the admin's cluster.
 */
static int
relate_cluster_host(walk *w, const char *first, pgr_error *err)
{
	rds_cluster *c;
	int			rc;

	if (w->cluster_id[0] && strcasecmp(first, w->cluster_id) == 0)
	{
		if (admin_cluster(w, err) != 0)
			return -1;
		if (cluster_endpoint(w))
			return 0;
		return unrelated(w, err, "DB cluster \"%s\" has no endpoint %s on port %d.",
						 w->cluster_id, w->in->host, w->in->port);
	}
	if (!(c = calloc(1, sizeof(*c))))
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		return -1;
	}
	rc = get_cluster(w, first, c, err);
	if (rc == 0)
		rc = unrelated(w, err, "RDS knows %s as an endpoint of DB cluster \"%s\", not of "
					   "the admin's database.", w->in->host, c->id);
	else if (rds_is_not_found(err))
		rc = unrelated(w, err, "RDS knows no DB cluster \"%s\".", first);
	free(c);
	return rc;
}

/* The rotated host as a proxy's endpoint: related when it targets the admin's. */
static int
relate_proxy_host(walk *w, const char *first, pgr_error *err)
{
	rds_proxy	proxy;
	rds_proxy_targets *t;
	int			rc = -1;

	w->out->rds_calls++;
	if (rds_describe_proxy(w->session, first, &proxy, err) != 0)
	{
		if (rds_is_not_found(err))
			return unrelated(w, err, "RDS knows no DB proxy \"%s\".", first);
		return -1;
	}
	if (!same_host(proxy.endpoint, w->in->host))
		return unrelated(w, err, "DB proxy \"%s\" has the endpoint %s, not %s.", proxy.name,
						 proxy.endpoint, w->in->host);
	if (!(t = calloc(1, sizeof(*t))))
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		return -1;
	}
	w->out->rds_calls++;
	if (rds_describe_proxy_targets(w->session, proxy.name, t, err) != 0)
		goto done;
	for (int k = 0; k < t->ntargets; k++)
	{
		const rds_proxy_target *target = &t->targets[k];
		bool		instance = w->instance_id[0] &&
			strcasecmp(target->rds_resource_id, w->instance_id) == 0;
		bool		cluster = w->cluster_id[0] &&
			(strcasecmp(target->rds_resource_id, w->cluster_id) == 0 ||
			 strcasecmp(target->tracked_cluster_id, w->cluster_id) == 0);

		if (instance || cluster)
		{
			w->out->relation = TOPO_PROXY;
			set_endpoint(&w->out->proof, w->out->writer.host, w->out->writer.port);
			describe_as(w, "DB proxy \"%s\" in front of DB %s \"%s\"", proxy.name,
						instance ? "instance" : "cluster",
						instance ? w->instance_id : w->cluster_id);
			rc = 0;
			goto done;
		}
	}
	rc = unrelated(w, err, "DB proxy \"%s\" has no target in the admin's database "
				   "(DB %s \"%s\").", proxy.name, w->cluster_id[0] ? "cluster" : "instance",
				   w->cluster_id[0] ? w->cluster_id : w->instance_id);
done:
	free(t);
	return rc;
}

/*
 * The rotated host as an instance's endpoint: the admin's own instance, a
 * member of the admin's cluster, or a read replica (of a replica...) of
 * the admin's instance.
 */
static int
relate_instance_host(walk *w, const char *first, pgr_error *err)
{
	rds_instance i;
	char		source[RDS_ARN_LEN];

	if (get_instance(w, first, &i, err) != 0)
	{
		if (rds_is_not_found(err))
			return unrelated(w, err, "RDS knows no DB instance, cluster or proxy with the "
							 "endpoint %s.", w->in->host);
		return -1;
	}
	if (!same_host(i.address, w->in->host) || i.port != w->in->port)
		return unrelated(w, err, "DB instance \"%s\" has the endpoint %s:%d.", i.id,
						 i.address, i.port);
	if (w->cluster_id[0] && strcasecmp(i.cluster_id, w->cluster_id) == 0)
	{
		if (admin_cluster(w, err) != 0)
			return -1;
		for (int k = 0; k < w->cluster.nmembers; k++)
			if (strcasecmp(w->cluster.members[k].id, i.id) == 0)
			{
				w->out->relation = w->cluster.members[k].writer ? TOPO_WRITER : TOPO_REPLICA;
				describe_as(w, "DB instance \"%s\", %s of DB cluster \"%s\"", i.id,
							w->cluster.members[k].writer ? "the writer" : "a reader",
							w->cluster_id);
				return 0;
			}
		return unrelated(w, err, "DB instance \"%s\" names DB cluster \"%s\", which does not "
						 "list it as a member.", i.id, w->cluster_id);
	}
	if (w->instance_id[0] && !w->cluster_id[0] && strcasecmp(i.id, w->instance_id) == 0)
	{
		w->out->relation = TOPO_WRITER;
		describe_as(w, "DB instance \"%s\"", i.id);
		return 0;
	}
	snprintf(source, sizeof(source), "%s", i.replica_source);
	for (int depth = 0; source[0] && w->instance_id[0] && depth < MAX_REPLICA_CHAIN; depth++)
	{
		rds_instance up;

		if (strcasecmp(source, w->instance_id) == 0 || strcasecmp(source, w->instance_arn) == 0)
		{
			w->out->relation = TOPO_REPLICA;
			describe_as(w, "DB instance \"%s\", a read replica of DB instance \"%s\"", i.id,
						w->instance_id);
			return 0;
		}
		if (get_instance(w, source, &up, err) != 0)
		{
			if (rds_is_not_found(err))
				break;
			return -1;
		}
		snprintf(source, sizeof(source), "%s", up.replica_source);
	}
	return unrelated(w, err, "RDS knows %s as DB instance \"%s\"%s%s%s%s%s.", w->in->host, i.id,
					 i.cluster_id[0] ? " of DB cluster \"" : "", i.cluster_id,
					 i.cluster_id[0] ? "\"" : "",
					 i.replica_source[0] ? ", a read replica of " : "", i.replica_source);
}

/* How the rotated host relates to the admin's writer, when they differ. */
static int
relate(walk *w, pgr_error *err)
{
	char		first[RDS_ID_LEN],
				second[RDS_ID_LEN];
	int			found = identify_admin(w, err);

	if (found < 0)
		return -1;
	if (found == 0)
		return unrelated(w, err, "RDS knows no DB instance or cluster with the admin's "
						 "endpoint %s, so no other host can be proved to be its.",
						 w->out->writer.host);
	if (cluster_endpoint(w))
		return 0;
	if (!split_host(w->in->host, first, second))
		return unrelated(w, err, "%s is not an RDS endpoint (a DNS alias cannot be proved "
						 "to be one).", w->in->host);
	if (strncasecmp(second, "cluster-", 8) == 0)
		return relate_cluster_host(w, first, err);
	if (strstr(second, "proxy-"))
		return relate_proxy_host(w, first, err);
	return relate_instance_host(w, first, err);
}

/*
 * Resolve where the admin connects (out->writer) and where logins are
 * proved (out->proof), with how the rotated host relates to the writer
 * (out->relation, out->described). out->rds_calls counts the RDS requests
 * made, on failure too. Returns -1 with err saying what RDS said or why
 * the hosts are unrelated.
 */
int
topo_resolve(aws_session *session, const topo_input *in, topo_result *out, pgr_error *err)
{
	walk	   *w = calloc(1, sizeof(*w));
	int			rc = -1;

	memset(out, 0, sizeof(*out));
	if (!w)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		return -1;
	}
	w->session = session;
	w->in = in;
	w->out = out;
	if (in->admin_host)
		set_endpoint(&out->writer, in->admin_host, in->admin_port);
	else if (managed_writer(w, err) != 0)
		goto done;
	set_endpoint(&out->proof, in->host, in->port);
	if (same_host(in->host, out->writer.host) && in->port == out->writer.port)
	{
		out->relation = TOPO_SAME;
		describe_as(w, "the admin's endpoint");
		rc = 0;
		goto done;
	}
	rc = relate(w, err);
	if (rc != 0 && !w->refused)
		pgr_error_prefix(err, "cannot tell how host %s:%d relates to the admin's database "
						 "at %s:%d: ", in->host, in->port, out->writer.host,
						 out->writer.port);
done:
	free(w);
	return rc;
}
