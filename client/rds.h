/*-------------------------------------------------------------------------
 *
 * rds.h
 *	  The read-only Amazon RDS operations pg_rotate needs, typed, through an
 *	  AWS session (aws_session.h): DescribeDBInstances, DescribeDBClusters,
 *	  DescribeDBProxies and DescribeDBProxyTargets, each for one named
 *	  resource. They tell where a database's writer is and what a host name
 *	  in a secret is (topology.h decides what follows from that).
 *
 * RDS speaks the Query protocol: the answers are XML, read here with
 * xml.h. Every call returns 0 or -1; on -1 the pgr_error's code is RDS's
 * (DBInstanceNotFound, DBClusterNotFoundFault, DBProxyNotFoundFault,
 * AccessDenied, ...), so callers can branch with pgr_error_code_is().
 *
 * The types hold copies in fixed-size fields (RDS identifiers have at
 * most 63 characters, host names 255): nothing to free. An answer whose
 * value does not fit is refused as malformed, never cut.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_RDS_H
#define PGR_RDS_H

#include <stdbool.h>

#include "aws_session.h"
#include "error.h"
#include "xml.h"

#define RDS_ID_LEN			64	/* identifiers: 1 to 63 characters */
#define RDS_ARN_LEN			256
#define RDS_HOST_LEN		256
#define RDS_MAX_MEMBERS		64	/* an Aurora cluster has at most 16 */
#define RDS_MAX_CUSTOM		16	/* custom endpoints of a cluster: at most 5 */
#define RDS_MAX_TARGETS		64

typedef struct rds_instance
{
	char		id[RDS_ID_LEN];
	char		arn[RDS_ARN_LEN];
	char		address[RDS_HOST_LEN];	/* Endpoint/Address; "" while creating */
	int			port;			/* Endpoint/Port; 0 when absent */
	char		cluster_id[RDS_ID_LEN]; /* DBClusterIdentifier; "" outside a
										 * cluster */
	char		replica_source[RDS_ARN_LEN];	/* ReadReplicaSourceDBInstanceIdentifier:
												 * an identifier, or an ARN
												 * across regions; "" for a
												 * primary */
	char		status[32];
} rds_instance;

typedef struct rds_cluster_member
{
	char		id[RDS_ID_LEN];
	bool		writer;			/* IsClusterWriter */
} rds_cluster_member;

typedef struct rds_cluster
{
	char		id[RDS_ID_LEN];
	char		arn[RDS_ARN_LEN];
	char		endpoint[RDS_HOST_LEN]; /* the writer's: Endpoint */
	char		reader_endpoint[RDS_HOST_LEN];
	int			port;
	char		custom_endpoints[RDS_MAX_CUSTOM][RDS_HOST_LEN];
	int			ncustom;
	rds_cluster_member members[RDS_MAX_MEMBERS];
	int			nmembers;
	char		status[32];
} rds_cluster;

typedef struct rds_proxy
{
	char		name[RDS_ID_LEN];
	char		endpoint[RDS_HOST_LEN];
	char		engine_family[32];
} rds_proxy;

typedef struct rds_proxy_target
{
	char		type[32];		/* RDS_INSTANCE, TRACKED_CLUSTER, ... */
	char		rds_resource_id[RDS_ID_LEN];	/* instance or cluster identifier */
	char		tracked_cluster_id[RDS_ID_LEN]; /* "" for a lone instance */
	char		role[16];		/* READ_WRITE, READ_ONLY, UNKNOWN or "" */
} rds_proxy_target;

typedef struct rds_proxy_targets
{
	rds_proxy_target targets[RDS_MAX_TARGETS];
	int			ntargets;
} rds_proxy_targets;

extern int	rds_describe_instance(aws_session *session, const char *id_or_arn,
								  rds_instance *out, pgr_error *err);
extern int	rds_describe_cluster(aws_session *session, const char *id_or_arn,
								 rds_cluster *out, pgr_error *err);
extern int	rds_describe_proxy(aws_session *session, const char *name, rds_proxy *out,
							   pgr_error *err);
extern int	rds_describe_proxy_targets(aws_session *session, const char *proxy_name,
									   rds_proxy_targets *out, pgr_error *err);

extern bool rds_is_not_found(const pgr_error *err);

/* Answers, typed; pure, exposed for tests and fuzzing. */
extern int	rds_instance_from_answer(const xml_doc *answer, rds_instance *out,
									 pgr_error *err);
extern int	rds_cluster_from_answer(const xml_doc *answer, rds_cluster *out,
									pgr_error *err);
extern int	rds_proxy_from_answer(const xml_doc *answer, rds_proxy *out, pgr_error *err);
extern int	rds_proxy_targets_from_answer(const xml_doc *answer, rds_proxy_targets *out,
										  pgr_error *err);

#endif							/* PGR_RDS_H */
