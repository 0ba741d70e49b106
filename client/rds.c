/*-------------------------------------------------------------------------
 *
 * rds.c
 *	  Amazon RDS Describe* calls: requests as Query form fields, sent
 *	  through the session, XML answers read into types (see rds.h).
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rds.h"

/* ----- reading answers ---------------------------------------------------- */

/* Copy text (NULL: "") into dst; false when it does not fit. */
static bool
field(char *dst, size_t size, const char *text)
{
	size_t		n = text ? strlen(text) : 0;

	if (n >= size)
		return false;
	memcpy(dst, text ? text : "", n);
	dst[n] = '\0';
	return true;
}

/* A port, "" or absent being 0; false when not 1..65535. */
static bool
port_field(int *dst, const char *text)
{
	char	   *end;
	long		v;

	*dst = 0;
	if (!text || !*text)
		return true;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || *end != '\0' || v < 1 || v > 65535)
		return false;
	*dst = (int) v;
	return true;
}

static void
malformed(pgr_error *err, const char *what, const char *element)
{
	pgr_error_set(err, PGR_ERR_INPUT, NULL, "the answer has a malformed %s", what);
	pgr_error_detail(err, "Its element %s is missing, too long or not what RDS sends.",
					 element);
}

/*
 * The one item of a Describe* answer: <result>/<list>/<item>, for a call
 * that named one resource. NULL (err filled) when there is none or more.
 */
static const xml_node *
only_item(const xml_doc *answer, const char *result, const char *list, const char *item,
		  pgr_error *err)
{
	const xml_node *first = xml_child(xml_child(xml_child(xml_root(answer), result), list),
									  item);

	if (!first || xml_next(first))
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL, "the answer names %s %s",
					  first ? "more than one" : "no", item);
		pgr_error_detail(err, "A %s for one identifier answers with exactly one %s.",
						 result, item);
		return NULL;
	}
	return first;
}

/*
 * The DB instance of a DescribeDBInstances answer for one instance. Pure.
 */
int
rds_instance_from_answer(const xml_doc *answer, rds_instance *out, pgr_error *err)
{
	const xml_node *db = only_item(answer, "DescribeDBInstancesResult", "DBInstances",
								   "DBInstance", err);
	rds_instance i;

	if (!db)
		return -1;
	memset(&i, 0, sizeof(i));
	if (!field(i.id, sizeof(i.id), xml_find_text(db, "DBInstanceIdentifier")) || !i.id[0])
		goto bad_id;
	if (!field(i.arn, sizeof(i.arn), xml_find_text(db, "DBInstanceArn")) ||
		!field(i.address, sizeof(i.address), xml_find_text(db, "Endpoint/Address")) ||
		!port_field(&i.port, xml_find_text(db, "Endpoint/Port")) ||
		!field(i.cluster_id, sizeof(i.cluster_id), xml_find_text(db, "DBClusterIdentifier")) ||
		!field(i.replica_source, sizeof(i.replica_source),
			   xml_find_text(db, "ReadReplicaSourceDBInstanceIdentifier")) ||
		!field(i.status, sizeof(i.status), xml_find_text(db, "DBInstanceStatus")))
	{
		malformed(err, "DB instance", "DBInstanceArn, Endpoint, DBClusterIdentifier, "
				  "ReadReplicaSourceDBInstanceIdentifier or DBInstanceStatus");
		return -1;
	}
	*out = i;
	return 0;

bad_id:
	malformed(err, "DB instance", "DBInstanceIdentifier");
	return -1;
}

/*
 * The DB cluster of a DescribeDBClusters answer for one cluster. Pure.
 */
int
rds_cluster_from_answer(const xml_doc *answer, rds_cluster *out, pgr_error *err)
{
	const xml_node *db = only_item(answer, "DescribeDBClustersResult", "DBClusters",
								   "DBCluster", err);
	rds_cluster *c;
	bool		ok;

	if (!db)
		return -1;
	if (!(c = calloc(1, sizeof(*c))))
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		return -1;
	}
	ok = field(c->id, sizeof(c->id), xml_find_text(db, "DBClusterIdentifier")) && c->id[0] &&
		field(c->arn, sizeof(c->arn), xml_find_text(db, "DBClusterArn")) &&
		field(c->endpoint, sizeof(c->endpoint), xml_find_text(db, "Endpoint")) &&
		field(c->reader_endpoint, sizeof(c->reader_endpoint),
			  xml_find_text(db, "ReaderEndpoint")) &&
		port_field(&c->port, xml_find_text(db, "Port")) &&
		field(c->status, sizeof(c->status), xml_find_text(db, "Status"));
	for (const xml_node *e = xml_find(db, "CustomEndpoints/member"); ok && e; e = xml_next(e))
		ok = c->ncustom < RDS_MAX_CUSTOM &&
			field(c->custom_endpoints[c->ncustom++], RDS_HOST_LEN, xml_text(e));
	for (const xml_node *m = xml_find(db, "DBClusterMembers/DBClusterMember"); ok && m;
		 m = xml_next(m))
	{
		rds_cluster_member *member = &c->members[c->nmembers];
		const char *writer = xml_find_text(m, "IsClusterWriter");

		ok = c->nmembers++ < RDS_MAX_MEMBERS &&
			field(member->id, sizeof(member->id), xml_find_text(m, "DBInstanceIdentifier")) &&
			member->id[0] && writer &&
			(strcmp(writer, "true") == 0 || strcmp(writer, "false") == 0);
		if (ok)
			member->writer = strcmp(writer, "true") == 0;
	}
	if (ok)
		*out = *c;
	else
		malformed(err, "DB cluster", "DBClusterIdentifier, DBClusterArn, Endpoint, "
				  "ReaderEndpoint, Port, CustomEndpoints or DBClusterMembers");
	free(c);
	return ok ? 0 : -1;
}

/* The proxy of a DescribeDBProxies answer for one proxy. Pure. */
int
rds_proxy_from_answer(const xml_doc *answer, rds_proxy *out, pgr_error *err)
{
	const xml_node *p = only_item(answer, "DescribeDBProxiesResult", "DBProxies", "member",
								  err);
	rds_proxy	proxy;

	if (!p)
		return -1;
	memset(&proxy, 0, sizeof(proxy));
	if (!field(proxy.name, sizeof(proxy.name), xml_find_text(p, "DBProxyName")) ||
		!proxy.name[0] ||
		!field(proxy.endpoint, sizeof(proxy.endpoint), xml_find_text(p, "Endpoint")) ||
		!field(proxy.engine_family, sizeof(proxy.engine_family),
			   xml_find_text(p, "EngineFamily")))
	{
		malformed(err, "DB proxy", "DBProxyName, Endpoint or EngineFamily");
		return -1;
	}
	*out = proxy;
	return 0;
}

/* The targets of a DescribeDBProxyTargets answer (one page). Pure. */
int
rds_proxy_targets_from_answer(const xml_doc *answer, rds_proxy_targets *out,
							  pgr_error *err)
{
	const xml_node *result = xml_child(xml_root(answer), "DescribeDBProxyTargetsResult");
	rds_proxy_targets *t;
	bool		ok = result != NULL;

	if (!(t = calloc(1, sizeof(*t))))
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		return -1;
	}
	for (const xml_node *m = xml_find(result, "Targets/member"); ok && m; m = xml_next(m))
	{
		rds_proxy_target *target = &t->targets[t->ntargets];

		ok = t->ntargets++ < RDS_MAX_TARGETS &&
			field(target->type, sizeof(target->type), xml_find_text(m, "Type")) &&
			field(target->rds_resource_id, sizeof(target->rds_resource_id),
				  xml_find_text(m, "RdsResourceId")) &&
			field(target->tracked_cluster_id, sizeof(target->tracked_cluster_id),
				  xml_find_text(m, "TrackedClusterId")) &&
			field(target->role, sizeof(target->role), xml_find_text(m, "Role"));
	}
	if (ok)
		*out = *t;
	else
		malformed(err, "list of DB proxy targets",
				  "DescribeDBProxyTargetsResult, Type, RdsResourceId, TrackedClusterId or Role");
	free(t);
	return ok ? 0 : -1;
}

/* ----- calls -------------------------------------------------------------- */

/*
 * One Describe* action naming one resource (param = value); on success
 * *answer is the XML document (xml_free).
 */
static int
describe(aws_session *session, const char *action, const char *param, const char *value,
		 const char *what, xml_doc **answer, pgr_error *err)
{
	aws_param	params[] = {{param, value}};
	aws_request req = {action, NULL, 0, params, 1};
	aws_answer	out;

	if (aws_session_call(session, AWS_RDS, &req, what, &out, err) != 0)
		return -1;
	*answer = out.xml;
	return 0;
}

/* The end of a call: the typed answer (parsed != 0: say which call). */
static int
finish(xml_doc *answer, int parsed, const char *what, pgr_error *err)
{
	xml_free(answer);
	if (parsed != 0)
	{
		pgr_error_prefix(err, "could not %s: ", what);
		return -1;
	}
	return 0;
}

/* DescribeDBInstances for one instance, by identifier or ARN. */
int
rds_describe_instance(aws_session *session, const char *id_or_arn, rds_instance *out,
					  pgr_error *err)
{
	xml_doc    *answer = NULL;
	char		what[PGR_ERRMSG_LEN / 2];

	snprintf(what, sizeof(what), "describe DB instance \"%s\"", id_or_arn);
	if (describe(session, "DescribeDBInstances", "DBInstanceIdentifier", id_or_arn, what,
				 &answer, err) != 0)
		return -1;
	return finish(answer, rds_instance_from_answer(answer, out, err), what, err);
}

/* DescribeDBClusters for one cluster, by identifier or ARN. */
int
rds_describe_cluster(aws_session *session, const char *id_or_arn, rds_cluster *out,
					 pgr_error *err)
{
	xml_doc    *answer = NULL;
	char		what[PGR_ERRMSG_LEN / 2];

	snprintf(what, sizeof(what), "describe DB cluster \"%s\"", id_or_arn);
	if (describe(session, "DescribeDBClusters", "DBClusterIdentifier", id_or_arn, what,
				 &answer, err) != 0)
		return -1;
	return finish(answer, rds_cluster_from_answer(answer, out, err), what, err);
}

/* DescribeDBProxies for one proxy, by name. */
int
rds_describe_proxy(aws_session *session, const char *name, rds_proxy *out, pgr_error *err)
{
	xml_doc    *answer = NULL;
	char		what[PGR_ERRMSG_LEN / 2];

	snprintf(what, sizeof(what), "describe DB proxy \"%s\"", name);
	if (describe(session, "DescribeDBProxies", "DBProxyName", name, what, &answer, err) != 0)
		return -1;
	return finish(answer, rds_proxy_from_answer(answer, out, err), what, err);
}

/*
 * DescribeDBProxyTargets of a proxy's default target group (the one RDS
 * creates with the proxy; it has no other).
 */
int
rds_describe_proxy_targets(aws_session *session, const char *proxy_name,
						   rds_proxy_targets *out, pgr_error *err)
{
	xml_doc    *answer = NULL;
	char		what[PGR_ERRMSG_LEN / 2];

	snprintf(what, sizeof(what), "describe the targets of DB proxy \"%s\"", proxy_name);
	if (describe(session, "DescribeDBProxyTargets", "DBProxyName", proxy_name, what,
				 &answer, err) != 0)
		return -1;
	return finish(answer, rds_proxy_targets_from_answer(answer, out, err), what, err);
}

/* Whether a call failed because RDS has no such instance, cluster or proxy. */
bool
rds_is_not_found(const pgr_error *err)
{
	return pgr_error_code_is(err, "DBInstanceNotFound") ||
		pgr_error_code_is(err, "DBInstanceNotFoundFault") ||
		pgr_error_code_is(err, "DBClusterNotFoundFault") ||
		pgr_error_code_is(err, "DBProxyNotFoundFault");
}
