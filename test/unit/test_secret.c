/*-------------------------------------------------------------------------
 *
 * test_secret.c
 *	  Unit tests of client/secret.c: parsing and checking the secret JSON,
 *	  rewriting it with a new password, and generating passwords.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "freed_memory.h"
#include "json.h"
#include "secret.h"

#define PW		"hunter2-SECRET-pw"

/* Parse json, expecting success. */
static pgr_secret *
parse_ok(const char *json)
{
	pgr_secret *s = NULL;
	pgr_error	err;

	pgr_error_clear(&err);
	if (secret_parse(json, &s, &err) != 0)
		fail_msg("unexpected parse error: %s (%s)", err.message, err.detail);
	assert_non_null(s);
	return s;
}

/* The smallest valid secret gets the documented defaults. */
static void
test_minimal_defaults(void **state)
{
	pgr_secret *s = parse_ok("{\"engine\":\"postgres\",\"host\":\"db.example.com\","
							 "\"username\":\"app\",\"password\":\"" PW "\"}");

	(void) state;
	assert_string_equal(secret_engine(s), "postgres");
	assert_string_equal(secret_host(s), "db.example.com");
	assert_int_equal(secret_port(s), 5432);
	assert_string_equal(secret_dbname(s), "postgres");
	assert_string_equal(secret_username(s), "app");
	assert_string_equal(secret_password(s), PW);
	assert_null(secret_masterarn(s));
	assert_null(secret_sslrootcert(s));
	assert_int_equal(secret_get_ssl(s), SECRET_SSL_UNSET);
	secret_free(s);
	secret_free(NULL);
}

/*
 * An RDS-managed master secret holds only username and password: engine
 * and host are optional (the rotation asks RDS for the host).
 */
static void
test_username_and_password_only(void **state)
{
	pgr_secret *s = parse_ok("{\"username\":\"master\",\"password\":\"" PW "\"}");
	pgr_secret *t = parse_ok("{\"username\":\"master\",\"password\":\"other\"}");
	pgr_secret *u = parse_ok("{\"engine\":\"postgres\",\"host\":\"h\",\"username\":\"master\","
							 "\"password\":\"p\"}");

	(void) state;
	assert_null(secret_engine(s));
	assert_null(secret_host(s));
	assert_int_equal(secret_port(s), 5432);
	assert_string_equal(secret_dbname(s), "postgres");
	assert_true(secret_same_target(s, t));
	assert_false(secret_same_target(s, u));
	assert_false(secret_same_target(u, s));
	secret_free(s);
	secret_free(t);
	secret_free(u);
}

/* Every optional key in each accepted form. */
static void
test_full_secret(void **state)
{
	pgr_secret *s;

	(void) state;
	s = parse_ok("  {\"engine\":\"aurora-postgresql\",\"host\":\"h\",\"port\":6543,"
				 "\"dbname\":\"app\",\"username\":\"app\",\"password\":\"p\","
				 "\"masterarn\":\"arn:aws:secretsmanager:us-east-1:1:secret:rot\","
				 "\"ssl\":true,\"sslrootcert\":\"/etc/ca.pem\"}\n ");
	assert_int_equal(secret_port(s), 6543);
	assert_string_equal(secret_dbname(s), "app");
	assert_string_equal(secret_masterarn(s), "arn:aws:secretsmanager:us-east-1:1:secret:rot");
	assert_string_equal(secret_sslrootcert(s), "/etc/ca.pem");
	assert_int_equal(secret_get_ssl(s), SECRET_SSL_TRUE);
	secret_free(s);

	s = parse_ok("{\"engine\":\"postgres\",\"host\":\"h\",\"port\":\"5433\","
				 "\"username\":\"u\",\"password\":\"p\",\"ssl\":\"FALSE\"}");
	assert_int_equal(secret_port(s), 5433);
	assert_int_equal(secret_get_ssl(s), SECRET_SSL_FALSE);
	secret_free(s);

	s = parse_ok("{\"engine\":\"postgres\",\"host\":\"h\",\"port\":null,\"dbname\":null,"
				 "\"username\":\"u\",\"password\":\"p\",\"ssl\":\"true\"}");
	assert_int_equal(secret_port(s), 5432);
	assert_string_equal(secret_dbname(s), "postgres");
	assert_int_equal(secret_get_ssl(s), SECRET_SSL_TRUE);
	secret_free(s);

	s = parse_ok("{\"engine\":\"postgres\",\"host\":\"h\",\"port\":65535,"
				 "\"username\":\"u\",\"password\":\"p\",\"ssl\":false}");
	assert_int_equal(secret_port(s), 65535);
	assert_int_equal(secret_get_ssl(s), SECRET_SSL_FALSE);
	secret_free(s);
}

typedef struct bad_case
{
	const char *json;
	const char *expect;			/* substring of the primary message */
} bad_case;

#define OK_PREFIX "\"engine\":\"postgres\",\"host\":\"h\",\"username\":\"u\""
#define WITH_PW(rest) "{" OK_PREFIX ",\"password\":\"" PW "\"" rest "}"

static const bad_case bad_cases[] = {
	/* malformed JSON */
	{"", "secret is empty"},
	{"not json", "not valid JSON"},
	{"{\"engine\":", "not valid JSON"},
	{"{\"engine\":\"postgres\"", "not valid JSON"},
	{WITH_PW("") "}", "not valid JSON"},
	{WITH_PW("") " x", "not valid JSON"},
	{WITH_PW("") WITH_PW(""), "not valid JSON"},
	{"{'engine':'postgres'}", "not valid JSON"},
	{"{" OK_PREFIX ",\"password\":\"" PW "\",}", "not valid JSON"},
	{"{" OK_PREFIX ",\"password\":\"" PW "\xff\"}", "not valid JSON"},
	{"{" OK_PREFIX ",\"password\":\"" PW "\",\"x\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}",
	"not valid JSON"},
	{"[1,2]", "not a JSON object"},
	{"\"" PW "\"", "not a JSON object"},
	{"null", "not a JSON object"},
	/* missing keys */
	{"{\"engine\":\"postgres\",\"host\":\"h\",\"password\":\"" PW "\"}", "no \"username\" key"},
	{"{" OK_PREFIX "}", "no \"password\" key"},
	{"{" OK_PREFIX ",\"password\":null}", "no \"password\" key"},
	/* wrong types */
	{"{\"engine\":5,\"host\":\"h\",\"username\":\"u\",\"password\":\"" PW "\"}",
	"\"engine\" must be a string"},
	{"{\"engine\":\"postgres\",\"host\":[],\"username\":\"u\",\"password\":\"" PW "\"}",
	"\"host\" must be a string"},
	{"{\"engine\":\"postgres\",\"host\":\"h\",\"username\":true,\"password\":\"" PW "\"}",
	"\"username\" must be a string"},
	{"{" OK_PREFIX ",\"password\":12345}", "\"password\" must be a string"},
	{WITH_PW(",\"port\":true"), "\"port\" must be a number or a string"},
	{WITH_PW(",\"port\":5432.5"), "\"port\" must be a number or a string"},
	{WITH_PW(",\"port\":{}"), "\"port\" must be a number or a string"},
	{WITH_PW(",\"port\":\"abc\""), "\"port\" is not a valid port number"},
	{WITH_PW(",\"port\":\"\""), "\"port\" is not a valid port number"},
	{WITH_PW(",\"port\":\" 5432\""), "\"port\" is not a valid port number"},
	{WITH_PW(",\"port\":\"-1\""), "\"port\" is not a valid port number"},
	{WITH_PW(",\"port\":\"123456\""), "\"port\" is not a valid port number"},
	{WITH_PW(",\"port\":\"0\""), "\"port\" is out of range"},
	{WITH_PW(",\"port\":\"65536\""), "\"port\" is out of range"},
	{WITH_PW(",\"port\":0"), "\"port\" is out of range"},
	{WITH_PW(",\"port\":-5432"), "\"port\" is out of range"},
	{WITH_PW(",\"port\":70000"), "\"port\" is out of range"},
	{WITH_PW(",\"port\":99999999999999999999"), "\"port\""},
	{WITH_PW(",\"dbname\":3"), "\"dbname\" must be a string"},
	{WITH_PW(",\"ssl\":\"yes\""), "\"ssl\" must be true or false"},
	{WITH_PW(",\"ssl\":1"), "\"ssl\" must be a boolean or a string"},
	{WITH_PW(",\"masterarn\":{}"), "\"masterarn\" must be a string"},
	{WITH_PW(",\"sslrootcert\":false"), "\"sslrootcert\" must be a string"},
	/* wrong engine */
	{"{\"engine\":\"mysql\",\"host\":\"h\",\"username\":\"u\",\"password\":\"" PW "\"}",
	"not for PostgreSQL"},
	{"{\"engine\":\"Postgres\",\"host\":\"h\",\"username\":\"u\",\"password\":\"" PW "\"}",
	"not for PostgreSQL"},
	/* empty values */
	{"{\"engine\":\"\",\"host\":\"h\",\"username\":\"u\",\"password\":\"" PW "\"}",
	"\"engine\" is empty"},
	{"{\"engine\":\"postgres\",\"host\":\"\",\"username\":\"u\",\"password\":\"" PW "\"}",
	"\"host\" is empty"},
	{"{\"engine\":\"postgres\",\"host\":\"h\",\"username\":\"\",\"password\":\"" PW "\"}",
	"\"username\" is empty"},
	{"{" OK_PREFIX ",\"password\":\"\"}", "\"password\" is empty"},
	{WITH_PW(",\"dbname\":\"\""), "\"dbname\" is empty"},
	/* hosts that are not one host */
	{"{\"engine\":\"postgres\",\"host\":\"a,b\",\"username\":\"u\",\"password\":\"" PW "\"}",
	"not a host name"},
	{"{\"engine\":\"postgres\",\"host\":\"a b\",\"username\":\"u\",\"password\":\"" PW "\"}",
	"not a host name"},
	{"{\"engine\":\"postgres\",\"host\":\"a\\nb\",\"username\":\"u\",\"password\":\"" PW "\"}",
	"not a host name"},
	/* NUL bytes written as escapes */
	{"{\"engine\":\"postgres\",\"host\":\"h\",\"username\":\"a\\u0000b\",\"password\":\"" PW "\"}",
	"\"username\" contains a NUL byte"},
	{"{" OK_PREFIX ",\"password\":\"" PW "\\u0000x\"}", "\"password\" contains a NUL byte"},
	{"{\"engine\":\"postgres\\u0000\",\"host\":\"h\",\"username\":\"u\",\"password\":\"" PW "\"}",
	"\"engine\" contains a NUL byte"},
	/* a repeated "password": parsers disagree on which one counts */
	{"{" OK_PREFIX ",\"password\":\"" PW "\",\"password\":\"other\"}",
	"more than one \"password\" key"},
	{"{" OK_PREFIX ",\"pass\\u0077ord\":\"" PW "\", \"password\" :\"other\"}",
	"more than one \"password\" key"},
};

/* true when err mentions the test password anywhere */
static bool
err_mentions_password(const pgr_error *err)
{
	return strstr(err->message, PW) || strstr(err->detail, PW) ||
		strstr(err->hint, PW) || strstr(err->message, "hunter2") ||
		strstr(err->detail, "hunter2");
}

/* Each bad secret is refused with its own message, none quoting the input. */
static void
test_bad_secrets(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
	{
		pgr_secret *s = NULL;
		pgr_error	err;

		pgr_error_clear(&err);
		if (secret_parse(bad_cases[i].json, &s, &err) != -1)
			fail_msg("case %zu accepted: %s", i, bad_cases[i].json);
		assert_null(s);
		assert_int_equal(err.errclass, PGR_ERR_INPUT);
		if (!strstr(err.message, bad_cases[i].expect))
			fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, err.message,
					 bad_cases[i].expect);
		if (err_mentions_password(&err))
			fail_msg("case %zu: the error quotes the password", i);
	}
}

/*
 * Only a repeated top-level "password" is refused: the same key deeper
 * down, or the text "password": inside a string value, is fine.
 */
static void
test_password_key_not_miscounted(void **state)
{
	static const char *const ok[] = {
		WITH_PW(",\"n\":{\"password\":\"a\",\"password\":\"b\"}"),
		WITH_PW(",\"s\":\"\\\"password\\\": x\""),
		WITH_PW(",\"l\":[\"password\",\"password\"]"),
		WITH_PW(",\"passwords\":\"x\",\"Password\":\"y\""),
	};

	(void) state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
	{
		pgr_secret *s = parse_ok(ok[i]);

		assert_string_equal(secret_password(s), PW);
		secret_free(s);
	}
}

/* Make a secret with a value of n bytes in key "k". */
static char *
secret_with_value(const char *key, size_t n, char fill)
{
	pgr_buf		buf;
	char	   *val = malloc(n + 1);

	assert_non_null(val);
	memset(val, fill, n);
	val[n] = '\0';
	pgr_buf_init(&buf, 0);
	/* "password" only once: a repeated one is refused */
	assert_true(pgr_buf_printf(&buf, "{\"engine\":\"postgres\",\"host\":\"h\","
							   "\"username\":\"u\",%s\"%s\":\"%s\"}",
							   strcmp(key, "password") == 0 ? "" : "\"password\":\"p\",",
							   key, val));
	free(val);
	return pgr_buf_detach(&buf);
}

/* Length limits: usernames, host names, passwords and the whole secret. */
static void
test_size_limits(void **state)
{
	struct
	{
		const char *key;
		size_t		ok;
		const char *msg;
	}			limits[] = {
		{"username", SECRET_MAX_USERNAME_LEN, "\"username\" is too long"},
		{"dbname", SECRET_MAX_DBNAME_LEN, "\"dbname\" is too long"},
		{"host", SECRET_MAX_HOST_LEN, "\"host\" is too long"},
		{"password", SECRET_MAX_PASSWORD_LEN, "\"password\" is too long"},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
	{
		char	   *json;
		pgr_secret *s = NULL;
		pgr_error	err;

		/* the longest value accepted, then one byte more */
		json = secret_with_value(limits[i].key, limits[i].ok, 'a');
		s = parse_ok(json);
		secret_free(s);
		s = NULL;
		free(json);

		json = secret_with_value(limits[i].key, limits[i].ok + 1, 'a');
		assert_int_equal(secret_parse(json, &s, &err), -1);
		assert_null(s);
		assert_non_null(strstr(err.message, limits[i].msg));
		assert_non_null(strstr(err.detail, "the limit is"));
		free(json);
	}
}

/* 65536 bytes are accepted, one more is refused before parsing. */
static void
test_whole_secret_limit(void **state)
{
	const char *head = "{\"engine\":\"postgres\",\"host\":\"h\",\"username\":\"u\","
		"\"password\":\"p\",\"pad\":\"";
	size_t		n = SECRET_MAX_JSON_LEN;
	char	   *json = malloc(n + 2);
	pgr_secret *s = NULL;
	pgr_error	err;

	(void) state;
	assert_non_null(json);
	memset(json, 'x', n + 1);
	memcpy(json, head, strlen(head));
	memcpy(json + n - 2, "\"}", 2);
	json[n] = '\0';
	assert_int_equal(strlen(json), SECRET_MAX_JSON_LEN);
	s = parse_ok(json);
	secret_free(s);
	s = NULL;

	memcpy(json + n - 2, "x\"}", 3);
	json[n + 1] = '\0';
	assert_int_equal(secret_parse(json, &s, &err), -1);
	assert_non_null(strstr(err.message, "too large"));
	free(json);
}

/* A NUL byte inside the given length is refused (binary input). */
static void
test_raw_nul_byte(void **state)
{
	static const char json[] = "{\"engine\":\"postgres\",\"host\":\"h\",\"username\":\"u\","
		"\"password\":\"a\0b\"}";
	pgr_secret *s = NULL;
	pgr_error	err;

	(void) state;
	assert_int_equal(secret_parse_len(json, sizeof(json) - 1, &s, &err), -1);
	assert_non_null(strstr(err.message, "NUL byte"));
	assert_int_equal(secret_parse_len(json, 0, &s, &err), -1);
	assert_int_equal(secret_parse(NULL, &s, &err), -1);
	assert_null(s);

	/* a length that stops before the end parses only what it covers */
	s = NULL;
	assert_int_equal(secret_parse_len("{\"engine\":\"postgres\",\"host\":\"h\","
									  "\"username\":\"u\",\"password\":\"p\"}garbage",
									  62, &s, &err), 0);
	secret_free(s);
}

/* A parsed document (the test's own input: it must parse). */
static json_doc *
parse_json(const char *text)
{
	json_doc   *doc = NULL;
	pgr_error	err;

	assert_int_equal(json_parse(text, strlen(text), 0, &doc, &err), 0);
	return doc;
}

/* A value written out again, to compare two documents member by member. */
static char *
value_text(const json_value *v)
{
	pgr_buf		b;
	json_writer w;

	pgr_buf_init(&b, 0);
	json_writer_init(&w, &b, false);
	json_write_value(&w, v);
	assert_true(json_writer_ok(&w));
	return pgr_buf_detach(&b);
}

/* Unknown keys survive secret_with_password in order; only password changes. */
static void
test_unknown_keys_preserved(void **state)
{
	const char *orig = "{\"dbInstanceIdentifier\":\"db-1\",\"engine\":\"postgres\","
		"\"host\":\"h\",\"port\":\"5432\",\"username\":\"u\",\"password\":\"" PW "\","
		"\"extra\":{\"nested\":[1,2,{\"x\":null}],\"s\":\"a/b\\\"c\"},"
		"\"ratio\":1.50,\"big\":9007199254740993,\"flag\":false,\"none\":null,"
		"\"unicode\":\"\xc3\xa9\\u00e8\",\"masterarn\":\"arn:x\"}";
	const char *newpw = "n3w\"pass\\word\n\t\x01/\xc3\xa4 end";
	pgr_secret *s = parse_ok(orig);
	pgr_secret *back;
	char	   *out = NULL;
	json_doc   *a;
	json_doc   *b;
	pgr_error	err;
	int			nkeys = 0;

	(void) state;
	assert_int_equal(secret_with_password(s, newpw, &out, &err), 0);
	assert_null(strstr(out, PW));
	assert_null(strstr(out, "hunter2"));

	/* the new text parses back to the same secret with the new password */
	back = parse_ok(out);
	assert_string_equal(secret_password(back), newpw);
	assert_string_equal(secret_username(back), "u");
	assert_string_equal(secret_masterarn(back), "arn:x");

	/* every other member is equal, in the original order */
	a = parse_json(orig);
	b = parse_json(out);
	for (const json_value *ma = json_first(json_root(a)), *mb = json_first(json_root(b));
		 ma; ma = json_next(ma), mb = json_next(mb))
	{
		const char *ka = json_key(ma, NULL);

		assert_non_null(mb);
		assert_string_equal(ka, json_key(mb, NULL));
		if (strcmp(ka, "password") != 0)
		{
			char	   *va = value_text(ma);
			char	   *vb = value_text(mb);

			if (strcmp(va, vb) != 0)
				fail_msg("member \"%s\" changed", ka);
			free(va);
			free(vb);
		}
		nkeys++;
	}
	assert_int_equal(nkeys, 13);
	assert_int_equal(json_count(json_root(b)), 13);
	assert_non_null(strstr(out, "1.50"));	/* numbers keep their spelling */
	assert_non_null(strstr(out, "9007199254740993"));
	assert_non_null(strstr(out, "\"port\":\"5432\""));

	json_free(a);
	json_free(b);
	pgr_free_secret(out);
	secret_free(back);

	/* rewriting twice from the same parsed secret gives the same text */
	{
		char	   *one = NULL;
		char	   *two = NULL;

		assert_int_equal(secret_with_password(s, "x", &one, &err), 0);
		assert_int_equal(secret_with_password(s, "x", &two, &err), 0);
		assert_string_equal(one, two);
		pgr_free_secret(one);
		pgr_free_secret(two);
	}
	secret_free(s);
}

/* New passwords that cannot be written are refused, secret unchanged. */
static void
test_with_password_refusals(void **state)
{
	pgr_secret *s = parse_ok(WITH_PW(""));
	char	   *out = NULL;
	char	   *big;
	char	   *json;
	pgr_error	err;

	(void) state;
	assert_int_equal(secret_with_password(s, "", &out, &err), -1);
	assert_int_equal(secret_with_password(s, "bad\xff utf8", &out, &err), -1);
	assert_non_null(strstr(err.message, "UTF-8"));
	assert_int_equal(secret_with_password(s, "\xc0\xaf", &out, &err), -1);
	assert_int_equal(secret_with_password(s, "\xed\xa0\x80", &out, &err), -1);
	assert_int_equal(secret_with_password(s, NULL, &out, &err), -1);
	big = malloc(SECRET_MAX_PASSWORD_LEN + 2);
	assert_non_null(big);
	memset(big, 'a', SECRET_MAX_PASSWORD_LEN + 1);
	big[SECRET_MAX_PASSWORD_LEN + 1] = '\0';
	assert_int_equal(secret_with_password(s, big, &out, &err), -1);
	assert_null(out);
	secret_free(s);

	/* a secret close to the limit cannot take a longer password */
	json = secret_with_value("pad", SECRET_MAX_JSON_LEN - 120, 'x');
	s = parse_ok(json);
	big[SECRET_MAX_PASSWORD_LEN] = '\0';
	assert_int_equal(secret_with_password(s, big, &out, &err), -1);
	assert_non_null(strstr(err.message, "too large"));
	assert_null(out);
	secret_free(s);
	free(json);
	free(big);
}

/* Same target: username, host (any case) and port must all agree. */
static void
test_same_target(void **state)
{
	pgr_secret *a = parse_ok("{\"engine\":\"postgres\",\"host\":\"DB.example.com\","
							 "\"username\":\"app\",\"password\":\"x\"}");
	pgr_secret *b = parse_ok("{\"engine\":\"aurora-postgresql\",\"host\":\"db.EXAMPLE.com\","
							 "\"port\":\"5432\",\"username\":\"app\",\"password\":\"y\","
							 "\"dbname\":\"other\"}");
	pgr_secret *c = parse_ok("{\"engine\":\"postgres\",\"host\":\"db.example.com\","
							 "\"username\":\"App\",\"password\":\"x\"}");
	pgr_secret *d = parse_ok("{\"engine\":\"postgres\",\"host\":\"db.example.com\","
							 "\"port\":5433,\"username\":\"app\",\"password\":\"x\"}");
	pgr_secret *e = parse_ok("{\"engine\":\"postgres\",\"host\":\"db2.example.com\","
							 "\"username\":\"app\",\"password\":\"x\"}");

	(void) state;
	assert_true(secret_same_target(a, b));
	assert_true(secret_same_target(b, a));
	assert_false(secret_same_target(a, c));
	assert_false(secret_same_target(a, d));
	assert_false(secret_same_target(a, e));
	assert_false(secret_same_target(a, NULL));
	secret_free(a);
	secret_free(b);
	secret_free(c);
	secret_free(d);
	secret_free(e);
}

/* ----- password generation ----- */

static bool
has_any(const char *s, int (*pred) (int))
{
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		if (pred(*p))
			return true;
	}
	return false;
}

static int
is_punct_char(int c)
{
	return c != ' ' && strchr(SECRET_PUNCTUATION, c) != NULL;
}

static int
is_space_char(int c)
{
	return c == ' ';
}

/* GetRandomPassword's punctuation is exactly ASCII's 32 punctuation marks. */
static void
test_punctuation_set(void **state)
{
	int			n = 0;

	(void) state;
	assert_int_equal(strlen(SECRET_PUNCTUATION), 32);
	for (int c = 0x21; c < 0x7f; c++)
	{
		if (ispunct(c))
		{
			assert_non_null(strchr(SECRET_PUNCTUATION, c));
			n++;
		}
	}
	assert_int_equal(n, 32);
}

/* Defaults: 32 chars, each type present, no :/@"'\ ever, all different. */
static void
test_generate_defaults(void **state)
{
	pgr_password_rules rules;
	char	   *prev[200] = {NULL};

	(void) state;
	secret_password_rules_init(&rules);
	assert_int_equal(rules.length, 32);
	assert_true(rules.require_each_included_type);
	assert_false(rules.include_space);
	for (int i = 0; i < 2000; i++)
	{
		char	   *pw = NULL;
		pgr_error	err;

		assert_int_equal(secret_generate_password(&rules, &pw, &err), 0);
		assert_int_equal(strlen(pw), 32);
		assert_null(strpbrk(pw, ":/@\"'\\ "));
		assert_true(has_any(pw, islower));
		assert_true(has_any(pw, isupper));
		assert_true(has_any(pw, isdigit));
		assert_true(has_any(pw, is_punct_char));
		for (const char *p = pw; *p; p++)
			assert_true(*p > 0x20 && *p < 0x7f);
		if (i < 200)
		{
			for (int j = 0; j < i; j++)
				assert_string_not_equal(prev[j], pw);
			prev[i] = pw;
		}
		else
			pgr_free_secret(pw);
	}
	for (int i = 0; i < 200; i++)
		pgr_free_secret(prev[i]);
}

/* Generate n passwords with rules and check pred never matches a char. */
static void
check_never(const pgr_password_rules *rules, int (*pred) (int), const char *chars)
{
	for (int i = 0; i < 500; i++)
	{
		char	   *pw = NULL;
		pgr_error	err;

		if (secret_generate_password(rules, &pw, &err) != 0)
			fail_msg("generation failed: %s", err.message);
		assert_int_equal((int) strlen(pw), rules->length);
		if (pred)
			assert_false(has_any(pw, pred));
		if (chars)
			assert_null(strpbrk(pw, chars));
		pgr_free_secret(pw);
	}
}

/* Each exclusion switch and exclude_characters hold in every password. */
static void
test_generate_exclusions(void **state)
{
	pgr_password_rules rules;

	(void) state;
	secret_password_rules_init(&rules);
	rules.exclude_numbers = true;
	check_never(&rules, isdigit, NULL);

	secret_password_rules_init(&rules);
	rules.exclude_punctuation = true;
	check_never(&rules, ispunct, NULL);

	secret_password_rules_init(&rules);
	rules.exclude_uppercase = true;
	check_never(&rules, isupper, NULL);

	secret_password_rules_init(&rules);
	rules.exclude_lowercase = true;
	check_never(&rules, islower, NULL);

	secret_password_rules_init(&rules);
	rules.exclude_characters = "abcdefXYZ0123!#$%";
	rules.length = 64;
	check_never(&rules, NULL, "abcdefXYZ0123!#$%");

	/* no exclusions at all: the AWS API's own default */
	secret_password_rules_init(&rules);
	rules.exclude_characters = NULL;
	check_never(&rules, is_space_char, NULL);
}

/* Spaces appear only with include_space, and then sometimes. */
static void
test_generate_space(void **state)
{
	pgr_password_rules rules;
	int			with_space = 0;

	(void) state;
	secret_password_rules_init(&rules);
	rules.include_space = true;
	for (int i = 0; i < 300; i++)
	{
		char	   *pw = NULL;
		pgr_error	err;

		assert_int_equal(secret_generate_password(&rules, &pw, &err), 0);
		if (strchr(pw, ' '))
			with_space++;
		pgr_free_secret(pw);
	}
	/* P(space in 32 of 89) ~ 0.30 per password; 300 tries */
	assert_true(with_space > 30);
	assert_true(with_space < 200);
}

/* Impossible rules are refused with a usage error. */
static void
test_generate_refusals(void **state)
{
	pgr_password_rules rules;
	char	   *pw = NULL;
	pgr_error	err;

	(void) state;
	secret_password_rules_init(&rules);
	rules.length = 0;
	assert_int_equal(secret_generate_password(&rules, &pw, &err), -1);
	rules.length = SECRET_MAX_PASSWORD_LEN + 1;
	assert_int_equal(secret_generate_password(&rules, &pw, &err), -1);
	assert_int_equal(err.errclass, PGR_ERR_USAGE);

	/* four required types cannot fit in three characters */
	rules.length = 3;
	assert_int_equal(secret_generate_password(&rules, &pw, &err), -1);
	assert_non_null(strstr(err.message, "too short"));

	/* everything excluded */
	secret_password_rules_init(&rules);
	rules.exclude_lowercase = rules.exclude_uppercase = true;
	rules.exclude_numbers = rules.exclude_punctuation = true;
	assert_int_equal(secret_generate_password(&rules, &pw, &err), -1);
	assert_non_null(strstr(err.message, "no characters"));
	rules.exclude_numbers = false;
	rules.exclude_characters = "0123456789";
	assert_int_equal(secret_generate_password(&rules, &pw, &err), -1);
	assert_null(pw);
	assert_int_equal(secret_generate_password(NULL, &pw, &err), -1);
}

/* Edge rules that must work: length 1, a type emptied by exclusions. */
static void
test_generate_edges(void **state)
{
	pgr_password_rules rules;
	char	   *pw = NULL;
	pgr_error	err;

	(void) state;
	secret_password_rules_init(&rules);
	rules.length = 1;
	rules.require_each_included_type = false;
	assert_int_equal(secret_generate_password(&rules, &pw, &err), 0);
	assert_int_equal(strlen(pw), 1);
	pgr_free_secret(pw);

	/* all digits excluded by characters: digits no longer required */
	secret_password_rules_init(&rules);
	rules.exclude_characters = "0123456789";
	rules.length = 3;
	assert_int_equal(secret_generate_password(&rules, &pw, &err), 0);
	assert_true(has_any(pw, islower) && has_any(pw, isupper) &&
				has_any(pw, is_punct_char));
	pgr_free_secret(pw);

	/* exactly as long as the number of types: one of each */
	secret_password_rules_init(&rules);
	rules.length = 4;
	for (int i = 0; i < 200; i++)
	{
		assert_int_equal(secret_generate_password(&rules, &pw, &err), 0);
		assert_true(has_any(pw, islower) && has_any(pw, isupper) &&
					has_any(pw, isdigit) && has_any(pw, is_punct_char));
		pgr_free_secret(pw);
	}

	/* the longest password */
	secret_password_rules_init(&rules);
	rules.length = SECRET_MAX_PASSWORD_LEN;
	assert_int_equal(secret_generate_password(&rules, &pw, &err), 0);
	assert_int_equal(strlen(pw), SECRET_MAX_PASSWORD_LEN);
	pgr_free_secret(pw);
}

/*
 * Chi-squared over character frequencies: with rejection sampling every
 * allowed character is equally likely. Thresholds are far in the tail
 * (p < 1e-6), so a correct generator fails essentially never, while a
 * modulo bias (some characters drawn 3/256 vs 2/256) fails every time.
 */
static double
chi_squared(const pgr_password_rules *rules, int total_chars, int alphabet_size)
{
	long		counts[128] = {0};
	int			drawn = 0;
	double		expected = (double) total_chars / alphabet_size;
	double		chi = 0.0;
	int			seen = 0;

	while (drawn < total_chars)
	{
		char	   *pw = NULL;
		pgr_error	err;

		assert_int_equal(secret_generate_password(rules, &pw, &err), 0);
		for (const unsigned char *p = (const unsigned char *) pw; *p; p++)
			counts[*p]++;
		drawn += rules->length;
		pgr_free_secret(pw);
	}
	expected = (double) drawn / alphabet_size;
	for (int c = 0; c < 128; c++)
	{
		if (counts[c])
		{
			seen++;
			chi += (counts[c] - expected) * (counts[c] - expected) / expected;
		}
	}
	assert_int_equal(seen, alphabet_size);
	return chi;
}

static void
test_generate_uniform(void **state)
{
	pgr_password_rules rules;
	double		chi;

	(void) state;
	/* digits only: 10 symbols, 9 degrees of freedom; p=1e-6 at ~42.6 */
	secret_password_rules_init(&rules);
	rules.exclude_lowercase = rules.exclude_uppercase = true;
	rules.exclude_punctuation = true;
	rules.require_each_included_type = false;
	rules.length = 100;
	chi = chi_squared(&rules, 200000, 10);
	if (chi > 42.6)
		fail_msg("digits are not uniform: chi2 = %.1f", chi);

	/* the default alphabet, 88 symbols, 87 dof; p=1e-6 at ~160 */
	secret_password_rules_init(&rules);
	rules.require_each_included_type = false;
	rules.length = 1000;
	chi = chi_squared(&rules, 400000, 88);
	if (chi > 160.0)
		fail_msg("default alphabet is not uniform: chi2 = %.1f", chi);
}

/* A repeated key is written once, at its first place, with its last value. */
static void
test_repeated_keys_written_once(void **state)
{
	pgr_secret *s = parse_ok("{\"x\":1," OK_PREFIX ",\"password\":\"" PW "\",\"x\":[2],"
							 "\"y\":\"a\",\"x\":\"three\"}");
	char	   *out = NULL;
	pgr_error	err;

	(void) state;
	assert_int_equal(secret_with_password(s, "new", &out, &err), 0);
	assert_string_equal(out, "{\"x\":\"three\"," OK_PREFIX ",\"password\":\"new\",\"y\":\"a\"}");
	pgr_free_secret(out);
	secret_free(s);
}

/* Neither the old nor the new password survives in freed memory. */
static void
test_passwords_wiped(void **state)
{
	const char *json = "{\"engine\":\"postgres\",\"host\":\"h\",\"username\":\"u\","
		"\"password\":\"old-hunter2-MUST-NOT-STAY\",\"pad\":\"" 
		"0123456789012345678901234567890123456789012345678901234567890123456789\"}";
	pgr_secret *s;
	pgr_secret *again;
	char	   *out = NULL;
	pgr_error	err;

	(void) state;
	freed_memory_keep(true);
	assert_int_equal(secret_parse(json, &s, &err), 0);
	assert_int_equal(secret_with_password(s, "new-hunter2-MUST-NOT-STAY", &out, &err), 0);
	assert_int_equal(secret_parse(out, &again, &err), 0);
	pgr_free_secret(out);
	secret_free(again);
	secret_free(s);
	assert_false(freed_memory_holds_str("old-hunter2"));
	assert_false(freed_memory_holds_str("new-hunter2"));
	assert_false(freed_memory_holds_str("MUST-NOT-STAY"));
	freed_memory_keep(false);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_defaults),
		cmocka_unit_test(test_username_and_password_only),
		cmocka_unit_test(test_full_secret),
		cmocka_unit_test(test_bad_secrets),
		cmocka_unit_test(test_password_key_not_miscounted),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_whole_secret_limit),
		cmocka_unit_test(test_raw_nul_byte),
		cmocka_unit_test(test_unknown_keys_preserved),
		cmocka_unit_test(test_with_password_refusals),
		cmocka_unit_test(test_repeated_keys_written_once),
		cmocka_unit_test(test_passwords_wiped),
		cmocka_unit_test(test_same_target),
		cmocka_unit_test(test_punctuation_set),
		cmocka_unit_test(test_generate_defaults),
		cmocka_unit_test(test_generate_exclusions),
		cmocka_unit_test(test_generate_space),
		cmocka_unit_test(test_generate_refusals),
		cmocka_unit_test(test_generate_edges),
		cmocka_unit_test(test_generate_uniform),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
