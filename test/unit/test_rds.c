/*-------------------------------------------------------------------------
 *
 * test_rds.c
 *	  The Amazon RDS calls (rds.c): the Query requests they write, the
 *	  typed answers they read from RDS's XML, their refusals of malformed
 *	  answers, and RDS's error codes.
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

#include "offline.h"
#include "rds.h"
#include "rds_answers.h"

static xml_doc *
parse(const char *text)
{
	xml_doc    *doc = NULL;
	pgr_error	err;

	assert_int_equal(xml_parse(text, strlen(text), &doc, &err), 0);
	return doc;
}

static void
test_describe_instance(void **state)
{
	canned		c = {.status = 200, .body = INSTANCES(INSTANCE(
		"replica-1", "replica-1.aaaaaaaaaa.us-east-1.rds.amazonaws.com", "5433",
		"<DBClusterIdentifier></DBClusterIdentifier>"
		"<ReadReplicaSourceDBInstanceIdentifier>primary-1</ReadReplicaSourceDBInstanceIdentifier>"))};
	aws_session *s = offline_session(&c);
	rds_instance i;
	pgr_error	err;

	(void) state;
	assert_int_equal(rds_describe_instance(s, "arn:aws:rds:us-east-1:123456789012:db:replica-1",
										   &i, &err), 0);
	assert_int_equal(c.service, AWS_RDS);
	assert_string_equal(c.operation, "DescribeDBInstances");
	assert_string_equal(c.request, "Action=DescribeDBInstances&Version=2014-10-31&"
						"DBInstanceIdentifier=arn%3Aaws%3Ards%3Aus-east-1%3A123456789012%3Adb%3Areplica-1");
	assert_string_equal(i.id, "replica-1");
	assert_string_equal(i.arn, "arn:aws:rds:us-east-1:123456789012:db:replica-1");
	assert_string_equal(i.address, "replica-1.aaaaaaaaaa.us-east-1.rds.amazonaws.com");
	assert_int_equal(i.port, 5433);
	assert_string_equal(i.cluster_id, "");
	assert_string_equal(i.replica_source, "primary-1");
	assert_string_equal(i.status, "available");

	/* RDS's error document: the code, for callers to branch on */
	c.status = 404;
	c.body = RDS_ERROR("DBInstanceNotFound", "DBInstance gone not found.");
	assert_int_equal(rds_describe_instance(s, "gone", &i, &err), -1);
	assert_true(rds_is_not_found(&err));
	assert_int_equal(err.errclass, PGR_ERR_AWS);
	assert_string_equal(err.message, "could not describe DB instance \"gone\": "
						"DBInstanceNotFound: DBInstance gone not found.");
	assert_string_equal(err.hint, "Check the identifier and the region; the DB instance "
						"may have been deleted or renamed.");
	c.status = 403;
	c.body = RDS_ERROR("AccessDenied", "User: u is not authorized to perform: "
					   "rds:DescribeDBInstances");
	assert_int_equal(rds_describe_instance(s, "x", &i, &err), -1);
	assert_false(rds_is_not_found(&err));
	assert_non_null(strstr(err.hint, "read-only RDS action"));
	aws_session_close(s);
}

static void
test_cluster_answer(void **state)
{
	xml_doc    *doc = parse(CLUSTERS(CLUSTER("aur", "5432",
										   "<CustomEndpoints><member>reports.cluster-custom-abc.us-east-1.rds.amazonaws.com</member></CustomEndpoints>"
										   "<DBClusterMembers>" MEMBER("aur-1", "false")
										   MEMBER("aur-2", "true") "</DBClusterMembers>")));
	rds_cluster c;
	pgr_error	err;

	(void) state;
	assert_int_equal(rds_cluster_from_answer(doc, &c, &err), 0);
	assert_string_equal(c.id, "aur");
	assert_string_equal(c.endpoint, "aur.cluster-abc.us-east-1.rds.amazonaws.com");
	assert_string_equal(c.reader_endpoint, "aur.cluster-ro-abc.us-east-1.rds.amazonaws.com");
	assert_int_equal(c.port, 5432);
	assert_int_equal(c.ncustom, 1);
	assert_string_equal(c.custom_endpoints[0],
						"reports.cluster-custom-abc.us-east-1.rds.amazonaws.com");
	assert_int_equal(c.nmembers, 2);
	assert_string_equal(c.members[1].id, "aur-2");
	assert_false(c.members[0].writer);
	assert_true(c.members[1].writer);
	xml_free(doc);
}

static void
test_proxy_answers(void **state)
{
	xml_doc    *doc = parse(PROXIES(PROXY("px")));
	rds_proxy	p;
	rds_proxy_targets t;
	pgr_error	err;

	(void) state;
	assert_int_equal(rds_proxy_from_answer(doc, &p, &err), 0);
	assert_string_equal(p.name, "px");
	assert_string_equal(p.endpoint, "px.proxy-xyz.us-east-1.rds.amazonaws.com");
	assert_string_equal(p.engine_family, "POSTGRESQL");
	xml_free(doc);

	doc = parse(TARGETS(TARGET("TRACKED_CLUSTER", "aur", "", "")
						TARGET("RDS_INSTANCE", "aur-2", "aur", "READ_WRITE")));
	assert_int_equal(rds_proxy_targets_from_answer(doc, &t, &err), 0);
	assert_int_equal(t.ntargets, 2);
	assert_string_equal(t.targets[0].type, "TRACKED_CLUSTER");
	assert_string_equal(t.targets[0].rds_resource_id, "aur");
	assert_string_equal(t.targets[1].tracked_cluster_id, "aur");
	assert_string_equal(t.targets[1].role, "READ_WRITE");
	xml_free(doc);

	/* no targets at all is an answer too */
	doc = parse(TARGETS(""));
	assert_int_equal(rds_proxy_targets_from_answer(doc, &t, &err), 0);
	assert_int_equal(t.ntargets, 0);
	xml_free(doc);
}

/* Answers RDS never sends are refused, never cut or guessed. */
static void
test_malformed_answers(void **state)
{
	static const struct
	{
		const char *answer;
		const char *message;
	}			instances[] = {
		{INSTANCES(""), "the answer names no DBInstance"},
		{INSTANCES(INSTANCE("a", "h", "5432", "") INSTANCE("b", "h", "5432", "")),
		"the answer names more than one DBInstance"},
		{INSTANCES(INSTANCE("", "h", "5432", "")), "the answer has a malformed DB instance"},
		{INSTANCES(INSTANCE("a", "h", "99999", "")), "the answer has a malformed DB instance"},
		{INSTANCES(INSTANCE("a", "h", "54x", "")), "the answer has a malformed DB instance"},
		{INSTANCES(INSTANCE("a", "h", "5432",
							"<DBClusterIdentifier>"
							"0123456789012345678901234567890123456789012345678901234567890123"
							"</DBClusterIdentifier>")),
		"the answer has a malformed DB instance"},
		{"<SomethingElse/>", "the answer names no DBInstance"},
	};
	static const char *const clusters[] = {
		CLUSTERS(CLUSTER("aur", "5432", "<DBClusterMembers>" MEMBER("m", "yes")
						 "</DBClusterMembers>")),
		CLUSTERS(CLUSTER("aur", "5432", "<DBClusterMembers>" MEMBER("", "true")
						 "</DBClusterMembers>")),
		CLUSTERS(CLUSTER("aur", "0", "")),
	};
	pgr_error	err;

	(void) state;
	for (size_t k = 0; k < sizeof(instances) / sizeof(instances[0]); k++)
	{
		xml_doc    *doc = parse(instances[k].answer);
		rds_instance i;

		assert_int_equal(rds_instance_from_answer(doc, &i, &err), -1);
		assert_string_equal(err.message, instances[k].message);
		assert_int_equal(err.errclass, PGR_ERR_INPUT);
		xml_free(doc);
	}
	for (size_t k = 0; k < sizeof(clusters) / sizeof(clusters[0]); k++)
	{
		xml_doc    *doc = parse(clusters[k]);
		rds_cluster c;

		assert_int_equal(rds_cluster_from_answer(doc, &c, &err), -1);
		assert_string_equal(err.message, "the answer has a malformed DB cluster");
		xml_free(doc);
	}
}

/* A call whose answer does not parse says which call it was. */
static void
test_malformed_answer_names_the_call(void **state)
{
	canned		c = {.status = 200, .body = TARGETS(TARGET("RDS_INSTANCE",
		"0123456789012345678901234567890123456789012345678901234567890123", "", ""))};
	aws_session *s = offline_session(&c);
	rds_proxy_targets t;
	rds_proxy	p;
	pgr_error	err;

	(void) state;
	assert_int_equal(rds_describe_proxy_targets(s, "px", &t, &err), -1);
	assert_string_equal(c.request, "Action=DescribeDBProxyTargets&Version=2014-10-31&"
						"DBProxyName=px");
	assert_string_equal(err.message, "could not describe the targets of DB proxy \"px\": "
						"the answer has a malformed list of DB proxy targets");
	c.body = "<DescribeDBProxiesResponse><DescribeDBProxiesResult";
	assert_int_equal(rds_describe_proxy(s, "px", &p, &err), -1);
	assert_string_equal(err.message, "could not describe DB proxy \"px\": the response "
						"from Amazon RDS is not valid XML");
	aws_session_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_describe_instance),
		cmocka_unit_test(test_cluster_answer),
		cmocka_unit_test(test_proxy_answers),
		cmocka_unit_test(test_malformed_answers),
		cmocka_unit_test(test_malformed_answer_names_the_call),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
