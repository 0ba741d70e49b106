/*-------------------------------------------------------------------------
 *
 * topology.h
 *	  Where a rotation sets the password and where it proves it: the
 *	  admin's writer endpoint, and how the rotated secret's host relates to
 *	  it, as Amazon RDS describes them.
 *
 * The admin secret names its database by host and port, or, when RDS
 * manages it (ManageMasterUserPassword), only by the tag on the secret
 * (aws:rds:primaryDBInstanceArn / aws:rds:primaryDBClusterArn): then the
 * writer is the instance's endpoint or the cluster's Endpoint (never its
 * ReaderEndpoint), from DescribeDBInstances / DescribeDBClusters.
 *
 * The rotated secret's host is then one of:
 *	 same		the writer endpoint itself: no RDS call at all when the admin
 *				secret names its host (a hand-made admin secret works without
 *				any RDS permission, as before RDS support);
 *	 writer		another name of the writer: the cluster endpoint, the writer
 *				instance's endpoint;
 *	 replica	a reader: the cluster's reader or a custom endpoint, a reader
 *				instance, a read replica (through any chain of replicas);
 *	 proxy		an RDS Proxy whose target is the admin's instance or cluster;
 * or it is unrelated, and the rotation is refused with both hosts named.
 * A relation is proved by RDS's answers, never by the shape of a name: the
 * first label of an RDS host name only says which resource to ask about,
 * and its answer must list the host.
 *
 * The password is always set through the writer. Logins are proved at the
 * rotated secret's own host, which the application uses, except through a
 * proxy, which authenticates clients from the secret itself and so proves
 * nothing about the database: there the proof goes to the writer.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_TOPOLOGY_H
#define PGR_TOPOLOGY_H

#include "aws_session.h"
#include "error.h"
#include "rds.h"

/* The tags RDS puts on the master user secrets it manages. */
#define TOPO_TAG_INSTANCE	"aws:rds:primaryDBInstanceArn"
#define TOPO_TAG_CLUSTER	"aws:rds:primaryDBClusterArn"

typedef enum topo_relation
{
	TOPO_SAME = 0,
	TOPO_WRITER,
	TOPO_REPLICA,
	TOPO_PROXY
} topo_relation;

typedef struct topo_endpoint
{
	char		host[RDS_HOST_LEN];
	int			port;
} topo_endpoint;

/* What is known before asking RDS. */
typedef struct topo_input
{
	const char *admin_secret;	/* the admin secret's id, for messages */
	const char *admin_host;		/* its host, or NULL (RDS-managed) */
	int			admin_port;
	const char *instance_arn;	/* its tags, when admin_host is NULL */
	const char *cluster_arn;
	const char *host;			/* the rotated secret's host and port */
	int			port;
} topo_input;

typedef struct topo_result
{
	topo_endpoint writer;		/* where the admin connects */
	topo_endpoint proof;		/* where logins are proved */
	topo_relation relation;
	char		described[320]; /* what the host is, in words, for messages */
	int			rds_calls;		/* RDS requests made */
} topo_result;

extern int	topo_resolve(aws_session *session, const topo_input *in, topo_result *out,
						 pgr_error *err);
extern const char *topo_relation_name(topo_relation relation);

#endif							/* PGR_TOPOLOGY_H */
