/*-------------------------------------------------------------------------
 *
 * test_aws_sts.c
 *	  STS answers (aws_sts.c): the credentials of an AssumeRole* answer,
 *	  malformed answers, and the wiping of what they held.
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

#include "aws_sts.h"
#include "freed_memory.h"

#define ANSWER(creds) \
	"<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n" \
	"  <AssumeRoleWithWebIdentityResult>\n" \
	"    <SubjectFromWebIdentityToken>test</SubjectFromWebIdentityToken>\n" \
	"    <Credentials>" creds "</Credentials>\n" \
	"  </AssumeRoleWithWebIdentityResult>\n" \
	"  <ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>\n" \
	"</AssumeRoleWithWebIdentityResponse>\n"

#define FULL \
	"<AccessKeyId>ASIAWEBID</AccessKeyId>" \
	"<SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCY+STS&amp;KEY</SecretAccessKey>" \
	"<SessionToken>FwoGZXIvYXdzEXAMPLESTSTOKEN</SessionToken>" \
	"<Expiration>2099-01-01T00:00:00Z</Expiration>"

static xml_doc *
parse(const char *text)
{
	xml_doc    *doc = NULL;
	pgr_error	err;

	assert_int_equal(xml_parse(text, strlen(text), &doc, &err), 0);
	return doc;
}

static void
test_credentials(void **state)
{
	xml_doc    *doc = parse(ANSWER(FULL));
	aws_credentials c;
	pgr_error	err;

	(void) state;
	assert_int_equal(aws_sts_credentials(doc, "AssumeRoleWithWebIdentityResult", "web identity",
										 &c, &err), 0);
	assert_string_equal(c.access_key_id, "ASIAWEBID");
	assert_string_equal(c.secret_access_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCY+STS&KEY");
	assert_string_equal(c.session_token, "FwoGZXIvYXdzEXAMPLESTSTOKEN");
	assert_int_equal(c.expiration, 4070908800);
	assert_string_equal(c.source, "web identity");
	aws_credentials_free(&c);
	xml_free(doc);
}

static void
test_malformed(void **state)
{
	static const char *const answers[] = {
		ANSWER("<AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey>"),
		ANSWER("<AccessKeyId>A</AccessKeyId><SecretAccessKey></SecretAccessKey>"
			   "<SessionToken>T</SessionToken>"),
		ANSWER("<AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey>"
			   "<SessionToken>T</SessionToken><Expiration>soon</Expiration>"),
		"<AssumeRoleResponse><AssumeRoleResult><Credentials>" FULL
		"</Credentials></AssumeRoleResult></AssumeRoleResponse>",
	};

	(void) state;
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++)
	{
		xml_doc    *doc = parse(answers[i]);
		aws_credentials c;
		pgr_error	err;

		assert_int_equal(aws_sts_credentials(doc, "AssumeRoleWithWebIdentityResult", "w", &c,
											 &err), -1);
		assert_int_equal(err.errclass, PGR_ERR_INPUT);
		assert_string_equal(err.message, "AWS STS returned malformed credentials");
		assert_string_equal(err.detail,
							"The answer has no complete AssumeRoleWithWebIdentityResult/Credentials.");
		xml_free(doc);
	}
}

/* The answer's secret key and token leave nothing in freed memory. */
static void
test_answer_is_wiped(void **state)
{
	xml_doc    *doc;
	aws_credentials c;
	pgr_error	err;

	(void) state;
	freed_memory_keep(true);
	doc = parse(ANSWER(FULL));
	assert_int_equal(aws_sts_credentials(doc, "AssumeRoleWithWebIdentityResult", "w", &c,
										 &err), 0);
	xml_free(doc);
	aws_credentials_free(&c);
	assert_true(freed_memory_holds_str("ASIAWEBID"));
	assert_false(freed_memory_holds_str("K7MDENG/bPxRfiCY"));
	assert_false(freed_memory_holds_str("EXAMPLESTSTOKEN"));
	freed_memory_keep(false);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_credentials),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_answer_is_wiped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
