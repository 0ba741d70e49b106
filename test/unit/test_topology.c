/*-------------------------------------------------------------------------
 *
 * test_topology.c
 *	  Where the admin connects and where logins are proved (topology.c),
 *	  against a scripted RDS account: every relation, the calls each one
 *	  costs, and every refusal.
 *
 *-------------------------------------------------------------------------
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rds_answers.h"
#include "scripted.h"
#include "topology.h"

#define DB1		"db1.aaa.us-east-1.rds.amazonaws.com"
#define R1		"r1.aaa.us-east-1.rds.amazonaws.com"
#define R2		"r2.aaa.us-east-1.rds.amazonaws.com"
#define OTHER	"other.aaa.us-east-1.rds.amazonaws.com"
#define AUR		"aur.cluster-abc.us-east-1.rds.amazonaws.com"
#define AUR_RO	"aur.cluster-ro-abc.us-east-1.rds.amazonaws.com"
#define AUR_CUSTOM "reports.cluster-custom-abc.us-east-1.rds.amazonaws.com"
#define AUR_1	"aur-1.aaa.us-east-1.rds.amazonaws.com"
#define AUR_2	"aur-2.aaa.us-east-1.rds.amazonaws.com"
#define PX		"px.proxy-xyz.us-east-1.rds.amazonaws.com"
#define DB1_ARN "arn:aws:rds:us-east-1:123456789012:db:db1"
#define AUR_ARN "arn:aws:rds:us-east-1:123456789012:cluster:aur"

/* One RDS account: an instance with a chain of replicas, an Aurora
 * cluster, a proxy, and an unrelated instance. */
static const script_line account[] = {
	{"DescribeDBInstances", "=db1", 200, INSTANCES(INSTANCE("db1", DB1, "5432", ""))},
	{"DescribeDBInstances", "db%3Adb1", 200, INSTANCES(INSTANCE("db1", DB1, "5432", ""))},
	{"DescribeDBInstances", "=r1", 200, INSTANCES(INSTANCE("r1", R1, "5432",
		"<ReadReplicaSourceDBInstanceIdentifier>db1</ReadReplicaSourceDBInstanceIdentifier>"))},
	{"DescribeDBInstances", "=r2", 200, INSTANCES(INSTANCE("r2", R2, "5432",
		"<ReadReplicaSourceDBInstanceIdentifier>r1</ReadReplicaSourceDBInstanceIdentifier>"))},
	{"DescribeDBInstances", "=other", 200, INSTANCES(INSTANCE("other", OTHER, "5432", ""))},
	{"DescribeDBInstances", "=aur-1", 200, INSTANCES(INSTANCE("aur-1", AUR_1, "5432",
		"<DBClusterIdentifier>aur</DBClusterIdentifier>"))},
	{"DescribeDBInstances", "=aur-2", 200, INSTANCES(INSTANCE("aur-2", AUR_2, "5432",
		"<DBClusterIdentifier>aur</DBClusterIdentifier>"))},
	{"DescribeDBInstances", NULL, 404, RDS_ERROR("DBInstanceNotFound", "not found")},
	{"DescribeDBClusters", "aur", 200, CLUSTERS(CLUSTER("aur", "5432",
		"<CustomEndpoints><member>" AUR_CUSTOM "</member></CustomEndpoints>"
		"<DBClusterMembers>" MEMBER("aur-1", "false") MEMBER("aur-2", "true")
		"</DBClusterMembers>"))},
	{"DescribeDBClusters", NULL, 404, RDS_ERROR("DBClusterNotFoundFault", "not found")},
	{"DescribeDBProxies", "=px", 200, PROXIES(PROXY("px"))},
	{"DescribeDBProxies", NULL, 404, RDS_ERROR("DBProxyNotFoundFault", "not found")},
	{"DescribeDBProxyTargets", "=px", 200, TARGETS(TARGET("RDS_INSTANCE", "db1", "", "")
		TARGET("TRACKED_CLUSTER", "aur", "", ""))},
	{NULL, NULL, 0, NULL}
};

typedef struct expect
{
	topo_relation relation;
	const char *writer;
	const char *proof;
	int			rds_calls;
	const char *described;
} expect;

/* Resolve host:5432 against an admin and check what comes back. */
static void
check(const topo_input *in, const expect *e)
{
	script		sc = {account, 0, {{0}}};
	aws_session *s = scripted_session(&sc);
	topo_result r;
	pgr_error	err;

	pgr_error_clear(&err);
	if (topo_resolve(s, in, &r, &err) != 0)
		fail_msg("%s: %s (%s)", in->host, err.message, err.detail);
	assert_int_equal(r.relation, e->relation);
	assert_string_equal(r.writer.host, e->writer);
	assert_int_equal(r.writer.port, 5432);
	assert_string_equal(r.proof.host, e->proof);
	assert_int_equal(r.rds_calls, e->rds_calls);
	assert_int_equal(sc.ncalls, e->rds_calls);
	assert_string_equal(r.described, e->described);
	aws_session_close(s);
}

static topo_input
admin_host(const char *admin, const char *host)
{
	topo_input	in = {"admin", admin, 5432, NULL, NULL, host, 5432};

	return in;
}

static topo_input
admin_tag(const char *instance_arn, const char *cluster_arn, const char *host)
{
	topo_input	in = {"admin", NULL, 0, instance_arn, cluster_arn, host, 5432};

	return in;
}

/* Equal hosts need no RDS call at all (nor any RDS permission). */
static void
test_same_endpoint(void **state)
{
	topo_input	in = admin_host("DB.example.com", "db.example.com");
	expect		e = {TOPO_SAME, "DB.example.com", "db.example.com", 0, "the admin's endpoint"};

	(void) state;
	check(&in, &e);
	in = admin_tag(DB1_ARN, NULL, DB1);
	e = (expect) {TOPO_SAME, DB1, DB1, 1, "the admin's endpoint"};
	check(&in, &e);
	in = admin_tag(NULL, AUR_ARN, AUR);
	e = (expect) {TOPO_SAME, AUR, AUR, 1, "the admin's endpoint"};
	check(&in, &e);
}

static void
test_cluster_endpoints(void **state)
{
	topo_input	in = admin_tag(NULL, AUR_ARN, AUR_RO);
	expect		e = {TOPO_REPLICA, AUR, AUR_RO, 1,
	"the reader endpoint of DB cluster \"aur\""};

	(void) state;
	check(&in, &e);
	in = admin_tag(NULL, AUR_ARN, AUR_CUSTOM);
	e = (expect) {TOPO_REPLICA, AUR, AUR_CUSTOM, 1, "a custom endpoint of DB cluster \"aur\""};
	check(&in, &e);
	in = admin_tag(NULL, AUR_ARN, AUR_2);
	e = (expect) {TOPO_WRITER, AUR, AUR_2, 2,
	"DB instance \"aur-2\", the writer of DB cluster \"aur\""};
	check(&in, &e);
	in = admin_tag(NULL, AUR_ARN, AUR_1);
	e = (expect) {TOPO_REPLICA, AUR, AUR_1, 2,
	"DB instance \"aur-1\", a reader of DB cluster \"aur\""};
	check(&in, &e);
	/* a hand-made admin secret on the writer instance: its cluster is found */
	in = admin_host(AUR_2, AUR_RO);
	e = (expect) {TOPO_REPLICA, AUR_2, AUR_RO, 2, "the reader endpoint of DB cluster \"aur\""};
	check(&in, &e);
	in = admin_host(AUR_2, AUR);
	e = (expect) {TOPO_WRITER, AUR_2, AUR, 2, "the cluster endpoint of DB cluster \"aur\""};
	check(&in, &e);
}

static void
test_replicas(void **state)
{
	topo_input	in = admin_tag(DB1_ARN, NULL, R1);
	expect		e = {TOPO_REPLICA, DB1, R1, 2,
	"DB instance \"r1\", a read replica of DB instance \"db1\""};

	(void) state;
	check(&in, &e);
	/* a replica of a replica: one more call per level */
	in = admin_tag(DB1_ARN, NULL, R2);
	e = (expect) {TOPO_REPLICA, DB1, R2, 3,
	"DB instance \"r2\", a read replica of DB instance \"db1\""};
	check(&in, &e);
	in = admin_host(DB1, R1);
	e = (expect) {TOPO_REPLICA, DB1, R1, 2,
	"DB instance \"r1\", a read replica of DB instance \"db1\""};
	check(&in, &e);
}

/* Behind a proxy the proof goes to the writer. */
static void
test_proxies(void **state)
{
	topo_input	in = admin_tag(DB1_ARN, NULL, PX);
	expect		e = {TOPO_PROXY, DB1, DB1, 3, "DB proxy \"px\" in front of DB instance \"db1\""};

	(void) state;
	check(&in, &e);
	in = admin_tag(NULL, AUR_ARN, PX);
	e = (expect) {TOPO_PROXY, AUR, AUR, 3, "DB proxy \"px\" in front of DB cluster \"aur\""};
	check(&in, &e);
}

/* Refusals: the two hosts, and what RDS said, with nothing else asked. */
static void
check_refused(const topo_input *in, int rds_calls, const char *message, const char *detail)
{
	script		sc = {account, 0, {{0}}};
	aws_session *s = scripted_session(&sc);
	topo_result r;
	pgr_error	err;

	pgr_error_clear(&err);
	assert_int_equal(topo_resolve(s, in, &r, &err), -1);
	assert_string_equal(err.message, message);
	if (detail)
		assert_string_equal(err.detail, detail);
	assert_int_equal(r.rds_calls, rds_calls);
	assert_int_equal(sc.ncalls, rds_calls);
	aws_session_close(s);
}

static void
test_refusals(void **state)
{
	topo_input	in = admin_tag(DB1_ARN, NULL, OTHER);

	(void) state;
	check_refused(&in, 2, "host " OTHER ":5432 is not a writer, reader, replica or proxy of "
				  "the admin's database at " DB1 ":5432",
				  "RDS knows " OTHER " as DB instance \"other\".");
	in = admin_tag(DB1_ARN, NULL, "db.example.com");
	check_refused(&in, 1, "host db.example.com:5432 is not a writer, reader, replica or "
				  "proxy of the admin's database at " DB1 ":5432",
				  "db.example.com is not an RDS endpoint (a DNS alias cannot be proved to "
				  "be one).");
	in = admin_tag(DB1_ARN, NULL, "gone.aaa.us-east-1.rds.amazonaws.com");
	check_refused(&in, 2, "host gone.aaa.us-east-1.rds.amazonaws.com:5432 is not a writer, "
				  "reader, replica or proxy of the admin's database at " DB1 ":5432",
				  "RDS knows no DB instance, cluster or proxy with the endpoint "
				  "gone.aaa.us-east-1.rds.amazonaws.com.");
	in = admin_tag(NULL, AUR_ARN, "zzz.cluster-ro-abc.us-east-1.rds.amazonaws.com");
	check_refused(&in, 2, "host zzz.cluster-ro-abc.us-east-1.rds.amazonaws.com:5432 is not a "
				  "writer, reader, replica or proxy of the admin's database at " AUR ":5432",
				  "RDS knows no DB cluster \"zzz\".");
	/* the right host on another port is another server */
	in = admin_tag(DB1_ARN, NULL, R1);
	in.port = 6543;
	check_refused(&in, 2, "host " R1 ":6543 is not a writer, reader, replica or proxy of the "
				  "admin's database at " DB1 ":5432",
				  "DB instance \"r1\" has the endpoint " R1 ":5432.");
	/* a hand-made admin on a host RDS does not know */
	in = admin_host("db.example.com", R1);
	check_refused(&in, 0, "host " R1 ":5432 is not a writer, reader, replica or proxy of the "
				  "admin's database at db.example.com:5432", NULL);
	/* a tag naming an instance RDS does not know */
	in = admin_tag("arn:aws:rds:us-east-1:123456789012:db:gone", NULL, DB1);
	check_refused(&in, 1, "cannot find the writer of admin secret \"admin\": could not "
				  "describe DB instance \"arn:aws:rds:us-east-1:123456789012:db:gone\": "
				  "DBInstanceNotFound: not found", NULL);
}

/* An RDS error on the way is the error, with both hosts named first. */
static void
test_rds_errors(void **state)
{
	static const script_line denied[] = {
		{"DescribeDBInstances", "db%3Adb1", 200, INSTANCES(INSTANCE("db1", DB1, "5432", ""))},
		{"DescribeDBInstances", NULL, 403, RDS_ERROR("AccessDenied", "not authorized")},
		{NULL, NULL, 0, NULL}
	};
	script		sc = {denied, 0, {{0}}};
	aws_session *s = scripted_session(&sc);
	topo_input	in = admin_tag(DB1_ARN, NULL, R1);
	topo_result r;
	pgr_error	err;

	(void) state;
	assert_int_equal(topo_resolve(s, &in, &r, &err), -1);
	assert_string_equal(err.code, "AccessDenied");
	assert_string_equal(err.message, "cannot tell how host " R1 ":5432 relates to the admin's "
						"database at " DB1 ":5432: could not describe DB instance \"r1\": "
						"AccessDenied: not authorized");
	assert_int_equal(r.rds_calls, 2);
	aws_session_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_endpoint),
		cmocka_unit_test(test_cluster_endpoints),
		cmocka_unit_test(test_replicas),
		cmocka_unit_test(test_proxies),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_rds_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
