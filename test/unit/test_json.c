/*-------------------------------------------------------------------------
 *
 * test_json.c
 *	  The JSON reader and writer (json.c): what RFC 8259 accepts and what
 *	  it does not, values and lookups, the writer's escaping and layout,
 *	  round trips, and the wiping of everything a document held.
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
#include "json.h"

static json_doc *
parse_ok(const char *text)
{
	json_doc   *doc = NULL;
	pgr_error	err;

	pgr_error_clear(&err);
	if (json_parse(text, strlen(text), 0, &doc, &err) != 0)
		fail_msg("refused: %s (%s): %s", err.message, err.detail, text);
	return doc;
}

/* Parse and write again, compactly. */
static char *
round_trip(const char *text)
{
	json_doc   *doc = parse_ok(text);
	pgr_buf		b;
	json_writer w;

	pgr_buf_init(&b, 0);
	json_writer_init(&w, &b, false);
	json_write_value(&w, json_root(doc));
	assert_true(json_writer_ok(&w));
	json_free(doc);
	return pgr_buf_detach(&b);
}

static void
test_accepts(void **state)
{
	static const char *const ok[] = {
		"{}", "[]", "0", "-0", "1.5e-3", "-12.25E+2", "true", "false", "null", "\"\"",
		" \t\r\n{ \"a\" : [ 1 , { } , [ ] , \"x\" ] } \n",
		"\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\ud83d\\udd11\"",
		"\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x91\"",
		"{\"a\":1,\"a\":2}",
	};

	(void) state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		json_free(parse_ok(ok[i]));
}

/* Each malformed text is refused, saying where, never what. */
static void
test_refuses(void **state)
{
	static const struct
	{
		const char *text;
		const char *detail;
	}			bad[] = {
		{"", "The input ends in the middle of a value."},
		{"{", "The input ends in the middle of a value."},
		{"{\"a\":", "The input ends in the middle of a value."},
		{"\"abc", "The input ends in the middle of a value."},
		{"{\"a\":1,}", "A member name was expected at byte 7."},
		{"[1,]", "An unexpected character at byte 3."},
		{"{'a':1}", "A member name was expected at byte 1."},
		{"{\"a\" 1}", "A colon was expected at byte 5."},
		{"[1 2]", "A comma or a closing bracket was expected at byte 3."},
		{"{} x", "More data after the value at byte 3."},
		{"01", "More data after the value at byte 1."},
		{"1.", "The input ends in the middle of a value."},
		{"-", "The input ends in the middle of a value."},
		{"+1", "An unexpected character at byte 0."},
		{"NaN", "An unexpected character at byte 0."},
		{"tru", "An unexpected character at byte 0."},
		{"/* c */ 1", "An unexpected character at byte 0."},
		{"\"a\tb\"", "A control character in a string at byte 2."},
		{"\"\\x\"", "An invalid escape at byte 1."},
		{"\"\\u12g4\"", "A malformed \\u escape at byte 3."},
		{"\"\\udc00\"", "A lone surrogate escape at byte 7."},
		{"\"\\ud800x\"", "A lone surrogate escape at byte 7."},
		{"\"\xff\"", "Invalid UTF-8 at byte 1."},
		{"\"\xc0\xaf\"", "Invalid UTF-8 at byte 1."},
		{"\"\xed\xa0\x80\"", "Invalid UTF-8 at byte 1."},
		{"\"\xf4\x90\x80\x80\"", "Invalid UTF-8 at byte 1."},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		json_doc   *doc = NULL;
		pgr_error	err;

		pgr_error_clear(&err);
		if (json_parse(bad[i].text, strlen(bad[i].text), 0, &doc, &err) != -1)
			fail_msg("accepted: %s", bad[i].text);
		assert_null(doc);
		assert_int_equal(err.errclass, PGR_ERR_INPUT);
		assert_string_equal(err.message, "not valid JSON");
		if (strcmp(err.detail, bad[i].detail) != 0)
			fail_msg("case %zu: detail \"%s\", expected \"%s\"", i, err.detail, bad[i].detail);
	}
}

static void
test_depth_limit(void **state)
{
	json_doc   *doc = NULL;
	pgr_error	err;

	(void) state;
	assert_int_equal(json_parse("[[[1]]]", 7, 3, &doc, &err), 0);
	json_free(doc);
	assert_int_equal(json_parse("[[[[1]]]]", 9, 3, &doc, &err), -1);
	assert_string_equal(err.detail, "Nesting deeper than the limit at byte 3.");
}

static void
test_values(void **state)
{
	json_doc   *doc = parse_ok("{\"s\":\"a\\u0000b\",\"n\":-42,\"f\":1.5,\"big\":99999999999999999999,"
							   "\"t\":true,\"z\":null,\"l\":[\"x\",\"y\"],\"k\":\"first\","
							   "\"k\":\"last\",\"pass\\u0077ord\":\"p\"}");
	const json_value *root = json_root(doc);
	const json_value *l;
	size_t		len;
	int64_t		i;
	double		d;
	bool		b;

	(void) state;
	assert_int_equal(json_type_of(root), JSON_OBJECT);
	assert_int_equal(json_count(root), 10);
	assert_non_null(json_string(json_get(root, "s"), &len));
	assert_int_equal(len, 3);			/* the NUL is kept, the length says so */
	assert_true(json_int64(json_get(root, "n"), &i));
	assert_int_equal(i, -42);
	assert_false(json_is_integer(json_get(root, "f")));
	assert_false(json_int64(json_get(root, "f"), &i));
	assert_true(json_double(json_get(root, "f"), &d));
	assert_true(d == 1.5);
	assert_true(json_is_integer(json_get(root, "big")));
	assert_false(json_int64(json_get(root, "big"), &i));	/* out of range */
	assert_true(json_bool(json_get(root, "t"), &b) && b);
	assert_int_equal(json_type_of(json_get(root, "z")), JSON_NULL);
	assert_non_null(json_get(root, "z"));	/* null, but present */
	assert_null(json_get(root, "absent"));
	l = json_get(root, "l");
	assert_int_equal(json_count(l), 2);
	assert_string_equal(json_string(json_first(l), NULL), "x");
	assert_string_equal(json_string(json_next(json_first(l)), NULL), "y");
	assert_null(json_next(json_next(json_first(l))));
	assert_string_equal(json_get_string(root, "k"), "last");	/* the last one */
	assert_string_equal(json_get_string(root, "password"), "p");	/* decoded key */
	assert_null(json_get_string(root, "n"));	/* not a string */
	assert_null(json_get(l, "x"));	/* not an object */
	json_free(doc);
}

static void
test_writer(void **state)
{
	pgr_buf		b;
	json_writer w;
	char	   *out;

	(void) state;
	pgr_buf_init(&b, 0);
	json_writer_init(&w, &b, false);
	json_write_begin_object(&w);
	json_write_key(&w, "s");
	json_write_string(&w, "q\"b\\s/\b\f\n\r\t\x01\x1f\x7f\xc3\xa9");
	json_write_key(&w, "n");
	json_write_int(&w, -7);
	json_write_key(&w, "d");
	json_write_double(&w, 0.1);
	json_write_key(&w, "e");
	json_write_double(&w, 2.0);
	json_write_key(&w, "l");
	json_write_begin_array(&w);
	json_write_bool(&w, true);
	json_write_null(&w);
	json_write_begin_object(&w);
	json_write_end_object(&w);
	json_write_end_array(&w);
	json_write_end_object(&w);
	assert_true(json_writer_ok(&w));
	assert_string_equal(b.data, "{\"s\":\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\xc3\xa9\","
						"\"n\":-7,\"d\":0.1,\"e\":2,\"l\":[true,null,{}]}");
	pgr_buf_free(&b);

	/* indented, as "secret get" prints */
	pgr_buf_init(&b, 0);
	json_writer_init(&w, &b, true);
	{
		json_doc   *doc = parse_ok("{\"a\":[1,2],\"b\":{}}");

		json_write_value(&w, json_root(doc));
		json_free(doc);
	}
	assert_string_equal(b.data, "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}");
	pgr_buf_free(&b);

	/* a buffer's limit, and misuse, fail the writer */
	pgr_buf_init(&b, 8);
	json_writer_init(&w, &b, false);
	json_write_string(&w, "longer than eight");
	assert_false(json_writer_ok(&w));
	pgr_buf_free(&b);
	pgr_buf_init(&b, 0);
	json_writer_init(&w, &b, false);
	json_write_end_object(&w);
	assert_false(json_writer_ok(&w));
	pgr_buf_free(&b);

	out = round_trip("{\"n\":1.50,\"big\":9007199254740993,\"u\":\"\\u00e8\\ud83d\\udd11\"}");
	assert_string_equal(out, "{\"n\":1.50,\"big\":9007199254740993,\"u\":\"\xc3\xa8\xf0\x9f\x94\x91\"}");
	free(out);
}

/* Every byte of a parsed document is wiped when it is freed. */
static void
test_wiped(void **state)
{
	const char *text = "{\"SecretString\":\"{\\\"password\\\":\\\"hunter2-MUST-NOT-STAY\\\"}\","
		"\"k\":\"keyword-that-MUST-NOT-STAY\"}";
	json_doc   *doc;
	pgr_buf		b;
	json_writer w;

	(void) state;
	freed_memory_keep(true);
	doc = parse_ok(text);
	pgr_buf_init(&b, 0);
	json_writer_init(&w, &b, false);
	json_write_value(&w, json_root(doc));
	json_free(doc);
	pgr_buf_free(&b);
	/* and many small documents, in growing arenas */
	for (int i = 0; i < 100; i++)
		json_free(parse_ok("[\"hunter2-MUST-NOT-STAY\",\"hunter2-MUST-NOT-STAY\"]"));
	assert_false(freed_memory_holds_str("hunter2-MUST"));
	assert_false(freed_memory_holds_str("MUST-NOT-STAY"));
	freed_memory_keep(false);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_refuses),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_writer),
		cmocka_unit_test(test_wiped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
