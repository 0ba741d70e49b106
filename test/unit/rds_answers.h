/*-------------------------------------------------------------------------
 *
 * rds_answers.h
 *	  Test-only: Amazon RDS answers, in the shape RDS (and moto) send them,
 *	  for test_rds.c and test_topology.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_TEST_RDS_ANSWERS_H
#define PGR_TEST_RDS_ANSWERS_H

#define RDS_NS " xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\""
#define RDS_META "<ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>"

/* DescribeDBInstances for one instance: its members, inside <DBInstance>. */
#define INSTANCES(members) \
	"<DescribeDBInstancesResponse" RDS_NS "><DescribeDBInstancesResult><DBInstances>" \
	members "</DBInstances></DescribeDBInstancesResult>" RDS_META \
	"</DescribeDBInstancesResponse>"
#define INSTANCE(id, host, port, extra) \
	"<DBInstance><DBInstanceIdentifier>" id "</DBInstanceIdentifier>" \
	"<DBInstanceStatus>available</DBInstanceStatus>" \
	"<Endpoint><Address>" host "</Address><Port>" port "</Port></Endpoint>" \
	"<DBInstanceArn>arn:aws:rds:us-east-1:123456789012:db:" id "</DBInstanceArn>" \
	extra "</DBInstance>"

#define CLUSTERS(members) \
	"<DescribeDBClustersResponse" RDS_NS "><DescribeDBClustersResult><DBClusters>" \
	members "</DBClusters></DescribeDBClustersResult>" RDS_META \
	"</DescribeDBClustersResponse>"
#define CLUSTER(id, port, extra) \
	"<DBCluster><DBClusterIdentifier>" id "</DBClusterIdentifier><Status>available</Status>" \
	"<Endpoint>" id ".cluster-abc.us-east-1.rds.amazonaws.com</Endpoint>" \
	"<ReaderEndpoint>" id ".cluster-ro-abc.us-east-1.rds.amazonaws.com</ReaderEndpoint>" \
	"<Port>" port "</Port>" \
	"<DBClusterArn>arn:aws:rds:us-east-1:123456789012:cluster:" id "</DBClusterArn>" \
	extra "</DBCluster>"
#define MEMBER(id, writer) \
	"<DBClusterMember><DBInstanceIdentifier>" id "</DBInstanceIdentifier>" \
	"<IsClusterWriter>" writer "</IsClusterWriter><PromotionTier>1</PromotionTier>" \
	"</DBClusterMember>"

#define PROXIES(members) \
	"<DescribeDBProxiesResponse" RDS_NS "><DescribeDBProxiesResult><DBProxies>" \
	members "</DBProxies></DescribeDBProxiesResult>" RDS_META "</DescribeDBProxiesResponse>"
#define PROXY(name) \
	"<member><DBProxyName>" name "</DBProxyName><EngineFamily>POSTGRESQL</EngineFamily>" \
	"<VpcSubnetIds><member>subnet-1</member></VpcSubnetIds>" \
	"<Endpoint>" name ".proxy-xyz.us-east-1.rds.amazonaws.com</Endpoint></member>"
#define TARGETS(members) \
	"<DescribeDBProxyTargetsResponse" RDS_NS "><DescribeDBProxyTargetsResult><Targets>" \
	members "</Targets></DescribeDBProxyTargetsResult>" RDS_META \
	"</DescribeDBProxyTargetsResponse>"
#define TARGET(type, id, tracked, role) \
	"<member><RdsResourceId>" id "</RdsResourceId><Port>5432</Port><Type>" type "</Type>" \
	"<TrackedClusterId>" tracked "</TrackedClusterId><Role>" role "</Role>" \
	"<TargetHealth><State>AVAILABLE</State></TargetHealth></member>"

#define RDS_ERROR(code, message) \
	"<ErrorResponse" RDS_NS "><Error><Type>Sender</Type><Code>" code "</Code>" \
	"<Message>" message "</Message></Error><RequestId>r-2</RequestId></ErrorResponse>"

#endif							/* PGR_TEST_RDS_ANSWERS_H */
