/*-------------------------------------------------------------------------
 *
 * test_xml.c
 *	  The XML reader (xml.c): element trees of AWS Query answers, nested
 *	  lists, namespaces, entities, refusals (malformed documents, document
 *	  type declarations, depth), and the wiping of what a document held.
 *
 *-------------------------------------------------------------------------
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "freed_memory.h"
#include "xml.h"

/* The shape of RDS's DescribeDBClusters answer (issue 12 reads it). */
static const char clusters[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<DescribeDBClustersResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">\n"
	"  <DescribeDBClustersResult>\n"
	"    <DBClusters>\n"
	"      <DBCluster>\n"
	"        <DBClusterIdentifier>one</DBClusterIdentifier>\n"
	"        <Endpoint>one.cluster-abc.us-east-1.rds.amazonaws.com</Endpoint>\n"
	"        <Port>5432</Port>\n"
	"        <DBClusterMembers>\n"
	"          <DBClusterMember><DBInstanceIdentifier>one-a</DBInstanceIdentifier>"
	"<IsClusterWriter>true</IsClusterWriter></DBClusterMember>\n"
	"          <DBClusterMember><DBInstanceIdentifier>one-b</DBInstanceIdentifier>"
	"<IsClusterWriter>false</IsClusterWriter></DBClusterMember>\n"
	"        </DBClusterMembers>\n"
	"      </DBCluster>\n"
	"      <DBCluster>\n"
	"        <DBClusterIdentifier>two</DBClusterIdentifier>\n"
	"        <DBClusterMembers/>\n"
	"      </DBCluster>\n"
	"    </DBClusters>\n"
	"  </DescribeDBClustersResult>\n"
	"  <ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>\n"
	"</DescribeDBClustersResponse>\n";

static xml_doc *
parse_ok(const char *text)
{
	xml_doc    *doc = NULL;
	pgr_error	err;

	pgr_error_clear(&err);
	if (xml_parse(text, strlen(text), &doc, &err) != 0)
		fail_msg("refused: %s (%s)", err.message, err.detail);
	return doc;
}

static void
test_nested_lists(void **state)
{
	xml_doc    *doc = parse_ok(clusters);
	const xml_node *root = xml_root(doc);
	const xml_node *c;
	const xml_node *m;
	int			nclusters = 0;

	(void) state;
	assert_string_equal(xml_name(root), "DescribeDBClustersResponse");
	assert_string_equal(xml_find_text(root, "ResponseMetadata/RequestId"), "r-1");
	c = xml_find(root, "DescribeDBClustersResult/DBClusters/DBCluster");
	assert_string_equal(xml_find_text(c, "DBClusterIdentifier"), "one");
	assert_string_equal(xml_find_text(c, "Port"), "5432");
	m = xml_find(c, "DBClusterMembers/DBClusterMember");
	assert_string_equal(xml_find_text(m, "DBInstanceIdentifier"), "one-a");
	assert_string_equal(xml_find_text(m, "IsClusterWriter"), "true");
	m = xml_next(m);
	assert_string_equal(xml_find_text(m, "DBInstanceIdentifier"), "one-b");
	assert_null(xml_next(m));
	for (; c; c = xml_next(c))
		nclusters++;
	assert_int_equal(nclusters, 2);
	c = xml_next(xml_find(root, "DescribeDBClustersResult/DBClusters/DBCluster"));
	assert_non_null(xml_find(c, "DBClusterMembers"));
	assert_null(xml_find(c, "DBClusterMembers/DBClusterMember"));	/* an empty list */
	assert_string_equal(xml_find_text(c, "DBClusterMembers"), "");
	assert_null(xml_find_text(c, "Endpoint"));	/* absent */
	assert_null(xml_find(root, "No/Such/Path"));
	assert_string_equal(xml_name(xml_child(root, NULL)), "DescribeDBClustersResult");
	xml_free(doc);
}

/* Prefixes go, entities and character references are decoded. */
static void
test_names_and_text(void **state)
{
	xml_doc    *doc = parse_ok("<a:Root xmlns:a=\"urn:x\"><a:Code>Access&amp;Denied</a:Code>"
							   "<Message>&lt;&#65;&#x42;&gt; &quot;&apos; \xc3\xa9</Message>"
							   "<Mixed>one<b/>two<![CDATA[<three>]]></Mixed></a:Root>");
	const xml_node *root = xml_root(doc);

	(void) state;
	assert_string_equal(xml_name(root), "Root");
	assert_string_equal(xml_find_text(root, "Code"), "Access&Denied");
	assert_string_equal(xml_find_text(root, "Message"), "<AB> \"' \xc3\xa9");
	assert_string_equal(xml_find_text(root, "Mixed"), "onetwo<three>");
	xml_free(doc);
}

static void
test_refusals(void **state)
{
	static const struct
	{
		const char *text;
		const char *detail;
	}			bad[] = {
		{"", "No element found at line 1, column 0."},
		{"<a><b></a>", "Mismatched tag at line 1, column 8."},
		{"<a>&nope;</a>", "Undefined entity at line 1, column 3."},
		{"<a></a><b/>", "Junk after document element at line 1, column 7."},
		{"<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
		"The document has a document type declaration."},
		{"<a>\xff</a>", "Not well-formed (invalid token) at line 1, column 3."},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		xml_doc    *doc = NULL;
		pgr_error	err;

		pgr_error_clear(&err);
		assert_int_equal(xml_parse(bad[i].text, strlen(bad[i].text), &doc, &err), -1);
		assert_null(doc);
		assert_int_equal(err.errclass, PGR_ERR_INPUT);
		assert_string_equal(err.message, "not valid XML");
		if (strcmp(err.detail, bad[i].detail) != 0)
			fail_msg("case %zu: detail \"%s\", expected \"%s\"", i, err.detail, bad[i].detail);
	}
}

static void
test_depth_limit(void **state)
{
	char		text[XML_MAX_DEPTH * 8 + 16];
	size_t		n = 0;
	xml_doc    *doc = NULL;
	pgr_error	err;

	(void) state;
	for (int i = 0; i <= XML_MAX_DEPTH; i++)
		n += (size_t) snprintf(text + n, sizeof(text) - n, "<a>");
	assert_int_equal(xml_parse(text, n, &doc, &err), -1);
	assert_string_equal(err.detail, "The document has elements nested deeper than the limit.");
}

/* Every byte of a parsed document is wiped when it is freed. */
static void
test_wiped(void **state)
{
	(void) state;
	freed_memory_keep(true);
	for (int i = 0; i < 20; i++)
	{
		xml_doc    *doc = parse_ok("<R><Credentials><SecretAccessKey>hunter2-MUST-NOT-STAY"
									 "</SecretAccessKey></Credentials></R>");

		assert_string_equal(xml_find_text(xml_root(doc), "Credentials/SecretAccessKey"),
							"hunter2-MUST-NOT-STAY");
		xml_free(doc);
	}
	assert_false(freed_memory_holds_str("MUST-NOT-STAY"));
	freed_memory_keep(false);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_lists),
		cmocka_unit_test(test_names_and_text),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_wiped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
