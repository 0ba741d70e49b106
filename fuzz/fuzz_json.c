/*-------------------------------------------------------------------------
 *
 * fuzz_json.c
 *	  libFuzzer target: the JSON reader and writer (json.c), and the
 *	  credential documents read with them (aws_credentials_from_json).
 *
 * Input: any bytes, taken as a JSON text.
 *
 * Properties: a refusal has a message and a detail; an accepted text is
 * valid UTF-8; writing what was read gives a text the reader accepts, and
 * reading and writing that again gives the same text (a fixed point), in
 * the compact and the indented layout alike; lookups agree with iteration;
 * nothing leaks on any path.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_credentials.h"
#include "json.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond, const char *what)
{
	if (!cond)
	{
		fprintf(stderr, "fuzz_json: property violated: %s\n", what);
		abort();
	}
}

/* Write a value, compactly or indented; the text is the caller's (free). */
static char *
write_value(const json_value *v, bool pretty, size_t *len)
{
	pgr_buf		b;
	json_writer w;
	char	   *text;

	pgr_buf_init(&b, 0);
	json_writer_init(&w, &b, pretty);
	json_write_value(&w, v);
	check(json_writer_ok(&w), "a read value can be written");
	*len = b.len;
	text = pgr_buf_detach(&b);
	check(text != NULL, "out of memory");
	return text;
}

/* Every member json_get finds is the last member of that name. */
static void
check_lookups(const json_value *v)
{
	for (const json_value *m = json_first(v); m; m = json_next(m))
	{
		if (json_type_of(v) == JSON_OBJECT)
		{
			size_t		len;
			const char *key = json_key(m, &len);

			if (strlen(key) == len)
			{
				const json_value *last = m;

				for (const json_value *n = json_next(m); n; n = json_next(n))
				{
					size_t		nlen;
					const char *nkey = json_key(n, &nlen);

					if (nlen == len && memcmp(nkey, key, len) == 0)
						last = n;
				}
				check(json_get(v, key) == last, "json_get finds the last member");
			}
		}
		check_lookups(m);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_doc   *doc = NULL;
	json_doc   *again = NULL;
	pgr_error	err;
	char	   *compact,
			   *compact2,
			   *pretty,
			   *from_pretty;
	size_t		clen,
				c2len,
				plen,
				fplen;
	aws_credentials creds;

	pgr_error_clear(&err);
	if (json_parse((const char *) data, size, 0, &doc, &err) != 0)
	{
		check(doc == NULL, "no document on failure");
		check(err.message[0] != '\0' && err.detail[0] != '\0', "a refusal says why");
		return 0;
	}
	check(json_is_utf8((const char *) data, size), "accepted text is UTF-8");
	check_lookups(json_root(doc));

	compact = write_value(json_root(doc), false, &clen);
	pretty = write_value(json_root(doc), true, &plen);
	json_free(doc);

	pgr_error_clear(&err);
	check(json_parse(compact, clen, 0, &again, &err) == 0, "written text reads back");
	compact2 = write_value(json_root(again), false, &c2len);
	check(c2len == clen && memcmp(compact, compact2, clen) == 0, "writing is a fixed point");
	json_free(again);
	check(json_parse(pretty, plen, 0, &again, &err) == 0, "indented text reads back");
	from_pretty = write_value(json_root(again), false, &fplen);
	check(fplen == clen && memcmp(compact, from_pretty, clen) == 0,
		  "the layouts hold the same value");
	json_free(again);

	if (aws_credentials_from_json((const char *) data, size, "Token", false, "fuzz", &creds,
								  &err) == 0)
	{
		check(creds.access_key_id && creds.secret_access_key, "credentials have both keys");
		aws_credentials_free(&creds);
	}
	free(compact);
	free(compact2);
	free(pretty);
	free(from_pretty);
	return 0;
}
