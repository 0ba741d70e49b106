/*-------------------------------------------------------------------------
 *
 * secret.c
 *	  Parsing, checking and rewriting the database secret JSON, and
 *	  generating passwords with the local CSPRNG.
 *
 * The parsed json-c object is kept so that keys we do not know survive a
 * rotation. The password is the exception: it is copied into a buffer this
 * module owns and wiped from json-c's storage (and from the tokenizer's
 * scratch buffer) right after parsing, and secret_with_password() writes the
 * password member itself rather than through json-c, whose buffers are freed
 * without being wiped.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "buf.h"
#include "secret.h"

struct pgr_secret
{
	json_object *obj;			/* the whole parsed secret (owned) */
	char	   *password;		/* owned, wiped by secret_free() */
	const char *engine;			/* the rest borrow from obj (or literals) */
	const char *host;
	const char *dbname;
	const char *username;
	const char *masterarn;
	const char *sslrootcert;
	int			port;
	secret_ssl	ssl;
};

/* Character classes of generated passwords. */
#define CLASS_LOWER		0
#define CLASS_UPPER		1
#define CLASS_DIGIT		2
#define CLASS_PUNCT		3
#define CLASS_SPACE		4		/* never a required type */
#define NUM_CLASSES		5

#define GEN_MAX_ATTEMPTS	100000	/* whole-password draws before giving up */

/*
 * Wipe the bytes of a json-c string object in place. json-c frees its
 * storage without clearing it; this is the only way to reach it.
 */
static void
wipe_json_string(json_object *o)
{
	if (o && json_object_is_type(o, json_type_string))
		OPENSSL_cleanse((char *) json_object_get_string(o),
						(size_t) json_object_get_string_len(o));
}

/*
 * Fetch an optional or required string member. A JSON null counts as absent.
 * Refuses non-strings, embedded NUL bytes (written as \u0000), empty values
 * unless allow_empty, and values longer than maxlen bytes. On success *out is
 * borrowed from obj, or NULL when the key is absent and not required.
 */
static int
get_string(json_object *obj, const char *key, bool required, bool allow_empty,
		   size_t maxlen, const char **out, pgr_error *err)
{
	json_object *val = NULL;
	const char *s;
	size_t		len;

	if (!json_object_object_get_ex(obj, key, &val) || val == NULL)
	{
		if (required)
		{
			pgr_error_set(err, PGR_ERR_INPUT, NULL,
						  "secret has no \"%s\" key", key);
			pgr_error_hint(err, "A database secret needs at least \"engine\", "
						   "\"host\", \"username\" and \"password\".");
			return -1;
		}
		*out = NULL;
		return 0;
	}
	if (!json_object_is_type(val, json_type_string))
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "secret key \"%s\" must be a string", key);
		return -1;
	}
	s = json_object_get_string(val);
	len = (size_t) json_object_get_string_len(val);
	if (strlen(s) != len)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "secret key \"%s\" contains a NUL byte", key);
		return -1;
	}
	if (len == 0 && !allow_empty)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "secret key \"%s\" is empty", key);
		return -1;
	}
	if (len > maxlen)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "secret key \"%s\" is too long", key);
		pgr_error_detail(err, "It has %zu bytes; the limit is %zu.", len, maxlen);
		return -1;
	}
	*out = s;
	return 0;
}

/* true when s holds a byte below 0x20 or DEL */
static bool
has_control_char(const char *s)
{
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		if (*p < 0x20 || *p == 0x7f)
			return true;
	}
	return false;
}

/*
 * "port": a JSON integer or a string of decimal digits, 1..65535; absent or
 * null means 5432.
 */
static int
get_port(json_object *obj, int *port, pgr_error *err)
{
	json_object *val = NULL;
	long		v;

	*port = SECRET_DEFAULT_PORT;
	if (!json_object_object_get_ex(obj, "port", &val) || val == NULL)
		return 0;

	if (json_object_is_type(val, json_type_int))
	{
		int64_t		i = json_object_get_int64(val);

		if (i < 1 || i > 65535)
			goto range;
		*port = (int) i;
		return 0;
	}
	if (json_object_is_type(val, json_type_string))
	{
		const char *s = json_object_get_string(val);
		size_t		len = (size_t) json_object_get_string_len(val);
		char	   *end = NULL;

		if (len == 0 || len > 5 || strspn(s, "0123456789") != len)
		{
			pgr_error_set(err, PGR_ERR_INPUT, NULL,
						  "secret key \"port\" is not a valid port number");
			pgr_error_detail(err, "A string port must be 1 to 5 decimal digits.");
			return -1;
		}
		v = strtol(s, &end, 10);
		if (*end != '\0' || v < 1 || v > 65535)
			goto range;
		*port = (int) v;
		return 0;
	}
	pgr_error_set(err, PGR_ERR_INPUT, NULL,
				  "secret key \"port\" must be a number or a string");
	return -1;

range:
	pgr_error_set(err, PGR_ERR_INPUT, NULL,
				  "secret key \"port\" is out of range");
	pgr_error_detail(err, "A port is between 1 and 65535.");
	return -1;
}

/* "ssl": true/false, or the strings "true"/"false" (any case); optional. */
static int
get_ssl(json_object *obj, secret_ssl *ssl, pgr_error *err)
{
	json_object *val = NULL;

	*ssl = SECRET_SSL_UNSET;
	if (!json_object_object_get_ex(obj, "ssl", &val) || val == NULL)
		return 0;
	if (json_object_is_type(val, json_type_boolean))
	{
		*ssl = json_object_get_boolean(val) ? SECRET_SSL_TRUE : SECRET_SSL_FALSE;
		return 0;
	}
	if (json_object_is_type(val, json_type_string))
	{
		const char *s = json_object_get_string(val);

		if (strcasecmp(s, "true") == 0)
		{
			*ssl = SECRET_SSL_TRUE;
			return 0;
		}
		if (strcasecmp(s, "false") == 0)
		{
			*ssl = SECRET_SSL_FALSE;
			return 0;
		}
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "secret key \"ssl\" must be true or false");
		return -1;
	}
	pgr_error_set(err, PGR_ERR_INPUT, NULL,
				  "secret key \"ssl\" must be a boolean or a string");
	return -1;
}

/* true when s[0..len) is only JSON whitespace */
static bool
only_whitespace(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
	{
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	}
	return true;
}

/*
 * Does the JSON string literal body s[0..len) (between the quotes, escapes
 * not yet decoded) spell word, which is plain ASCII? Escapes are decoded:
 * "pass\u0077ord" names the same key as "password".
 */
static bool
json_key_equals(const char *s, size_t len, const char *word)
{
	size_t		w = 0;
	size_t		wlen = strlen(word);

	for (size_t i = 0; i < len; i++)
	{
		unsigned int c = (unsigned char) s[i];

		if (c == '\\' && i + 1 < len)
		{
			c = (unsigned char) s[++i];
			if (c == 'u')
			{
				unsigned int cp = 0;

				if (i + 4 >= len)
					return false;
				for (int k = 1; k <= 4; k++)
				{
					char		h = s[i + k];

					cp <<= 4;
					if (h >= '0' && h <= '9')
						cp |= (unsigned int) (h - '0');
					else if (h >= 'a' && h <= 'f')
						cp |= (unsigned int) (h - 'a' + 10);
					else if (h >= 'A' && h <= 'F')
						cp |= (unsigned int) (h - 'A' + 10);
					else
						return false;
				}
				i += 4;
				c = cp;
			}
			else
				return false;	/* \" \\ \/ \b ...: not in a key word */
		}
		if (w >= wlen || c != (unsigned char) word[w])
			return false;
		w++;
	}
	return w == wlen;
}

/*
 * How many times does the top-level object of json[0..len) have the key
 * "password"? A scan of the raw text, run before json-c sees it: json-c
 * keeps the last of duplicate keys and frees the earlier values without
 * wiping them, so a secret that repeats "password" is refused before any
 * copy of it is made. Only the first value counts (json-c refuses data
 * after it); malformed input gives some count, and is refused anyway.
 */
static int
count_password_keys(const char *json, size_t len)
{
	int			depth = 0;
	int			count = 0;
	size_t		i = 0;

	while (i < len)
	{
		char		c = json[i];

		if (c == '"')
		{
			size_t		start = i + 1;
			size_t		j = start;

			while (j < len && json[j] != '"')
				j += json[j] == '\\' ? 2 : 1;
			if (j >= len)
				break;			/* unterminated string */
			i = j + 1;
			if (depth == 1)
			{
				size_t		k = i;

				while (k < len && (json[k] == ' ' || json[k] == '\t' ||
								   json[k] == '\r' || json[k] == '\n'))
					k++;
				if (k < len && json[k] == ':' &&
					json_key_equals(json + start, j - start, "password"))
					count++;
			}
			continue;
		}
		if (c == '{' || c == '[')
			depth++;
		else if ((c == '}' || c == ']') && --depth <= 0)
			break;				/* the end of the first value */
		i++;
	}
	return count;
}

/*
 * Parse json (NUL-terminated) into a new secret. See secret_parse_len().
 */
int
secret_parse(const char *json, pgr_secret **out, pgr_error *err)
{
	if (!json)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL, "secret is empty");
		return -1;
	}
	return secret_parse_len(json, strnlen(json, SECRET_MAX_JSON_LEN + 1), out, err);
}

/*
 * Parse len bytes of JSON into a new secret and check every known key.
 * Refuses more than SECRET_MAX_JSON_LEN bytes, NUL bytes, a repeated
 * "password" key, anything that is not one well-formed JSON object (strict
 * mode, valid UTF-8, no trailing data), missing required keys, wrong types
 * and unsupported engines.
 * Messages never quote the input. On success *out is owned by the caller
 * (secret_free()); the caller still owns and wipes json.
 */
int
secret_parse_len(const char *json, size_t len, pgr_secret **out, pgr_error *err)
{
	json_tokener *tok = NULL;
	json_object *obj = NULL;
	json_object *pwobj = NULL;
	pgr_secret *s = NULL;
	const char *password = NULL;
	int			rc = -1;

	if (!json || !out)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "secret_parse called without input");
		return -1;
	}
	if (len > SECRET_MAX_JSON_LEN)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL, "secret is too large");
		pgr_error_detail(err, "A secret string holds at most %d bytes.",
						 SECRET_MAX_JSON_LEN);
		return -1;
	}
	if (len == 0)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL, "secret is empty");
		return -1;
	}
	if (memchr(json, '\0', len) != NULL)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL, "secret contains a NUL byte");
		return -1;
	}
	if (count_password_keys(json, len) > 1)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "secret has more than one \"password\" key");
		pgr_error_detail(err, "Parsers disagree on which of duplicate keys counts.");
		pgr_error_hint(err, "Store the secret with a single \"password\" key.");
		return -1;
	}

	tok = json_tokener_new_ex(16);
	if (!tok)
		goto oom;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);

	/*
	 * Grow the tokenizer's scratch buffer once to the input's size, so that
	 * it is never reallocated (which would leave copies of the password in
	 * freed memory) and can be wiped in full afterwards.
	 */
	if (printbuf_memset(tok->pb, 0, 0, (int) len + 1) < 0)
		goto oom;
	printbuf_reset(tok->pb);

	obj = json_tokener_parse_ex(tok, json, (int) len);
	if (!obj && json_tokener_get_error(tok) == json_tokener_continue)
	{
		/*
		 * A top-level number or literal only ends at a delimiter: hand the
		 * tokenizer a NUL to say the input is over. (A complete object never
		 * needs this, so whatever comes back is refused below.)
		 */
		obj = json_tokener_parse_ex(tok, "", 1);
		if (obj || json_tokener_get_error(tok) == json_tokener_success)
		{
			pgr_error_set(err, PGR_ERR_INPUT, NULL, "secret is not a JSON object");
			goto cleanup;
		}
	}
	if (!obj)
	{
		enum json_tokener_error jerr = json_tokener_get_error(tok);

		if (jerr == json_tokener_success)
		{
			/* the input was the JSON literal null */
			pgr_error_set(err, PGR_ERR_INPUT, NULL, "secret is not a JSON object");
		}
		else if (jerr == json_tokener_continue)
		{
			pgr_error_set(err, PGR_ERR_INPUT, NULL, "secret is not valid JSON");
			pgr_error_detail(err, "The input ends in the middle of a value.");
		}
		else
		{
			pgr_error_set(err, PGR_ERR_INPUT, NULL, "secret is not valid JSON");
			pgr_error_detail(err, "json-c: %s at byte %zu.",
							 json_tokener_error_desc(jerr),
							 json_tokener_get_parse_end(tok));
		}
		goto cleanup;
	}
	if (!only_whitespace(json + json_tokener_get_parse_end(tok),
						 len - json_tokener_get_parse_end(tok)))
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL, "secret is not valid JSON");
		pgr_error_detail(err, "There is more data after the JSON object.");
		goto cleanup;
	}
	if (!json_object_is_type(obj, json_type_object))
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL, "secret is not a JSON object");
		goto cleanup;
	}

	s = calloc(1, sizeof(*s));
	if (!s)
		goto oom;

	if (get_string(obj, "engine", true, false, 64, &s->engine, err) < 0)
		goto cleanup;
	if (strcmp(s->engine, "postgres") != 0 &&
		strcmp(s->engine, "aurora-postgresql") != 0)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "secret is not for PostgreSQL");
		pgr_error_detail(err, "Its \"engine\" is not \"postgres\" or \"aurora-postgresql\".");
		goto cleanup;
	}
	if (get_string(obj, "host", true, false, SECRET_MAX_HOST_LEN, &s->host, err) < 0)
		goto cleanup;
	if (has_control_char(s->host) || strchr(s->host, ',') || strchr(s->host, ' '))
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "secret key \"host\" is not a host name");
		pgr_error_detail(err, "It must name exactly one host, without spaces, "
						 "commas or control characters.");
		goto cleanup;
	}
	if (get_port(obj, &s->port, err) < 0)
		goto cleanup;
	if (get_string(obj, "username", true, false, SECRET_MAX_USERNAME_LEN,
				   &s->username, err) < 0)
		goto cleanup;
	if (get_string(obj, "dbname", false, false, SECRET_MAX_DBNAME_LEN,
				   &s->dbname, err) < 0)
		goto cleanup;
	if (!s->dbname)
		s->dbname = SECRET_DEFAULT_DBNAME;
	if (get_string(obj, "password", true, false, SECRET_MAX_PASSWORD_LEN,
				   &password, err) < 0)
		goto cleanup;
	if (get_string(obj, "masterarn", false, false, 2048, &s->masterarn, err) < 0)
		goto cleanup;
	if (get_string(obj, "sslrootcert", false, false, 4096, &s->sslrootcert, err) < 0)
		goto cleanup;
	if (get_ssl(obj, &s->ssl, err) < 0)
		goto cleanup;

	s->password = strdup(password);
	if (!s->password)
		goto oom;
	json_object_object_get_ex(obj, "password", &pwobj);
	wipe_json_string(pwobj);

	s->obj = obj;
	obj = NULL;
	*out = s;
	s = NULL;
	rc = 0;
	goto cleanup;

oom:
	pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");

cleanup:
	if (s)
	{
		pgr_free_secret(s->password);
		free(s);
	}
	if (obj)
	{
		if (json_object_is_type(obj, json_type_object) &&
			json_object_object_get_ex(obj, "password", &pwobj))
			wipe_json_string(pwobj);
		json_object_put(obj);
	}
	if (tok)
	{
		if (tok->pb && tok->pb->buf)
			OPENSSL_cleanse(tok->pb->buf, (size_t) tok->pb->size);
		json_tokener_free(tok);
	}
	return rc;
}

/* Wipe the password and release everything; NULL is allowed. */
void
secret_free(pgr_secret *s)
{
	if (!s)
		return;
	pgr_free_secret(s->password);
	json_object_put(s->obj);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

const char *
secret_engine(const pgr_secret *s)
{
	return s->engine;
}

const char *
secret_host(const pgr_secret *s)
{
	return s->host;
}

int
secret_port(const pgr_secret *s)
{
	return s->port;
}

const char *
secret_dbname(const pgr_secret *s)
{
	return s->dbname;
}

const char *
secret_username(const pgr_secret *s)
{
	return s->username;
}

const char *
secret_password(const pgr_secret *s)
{
	return s->password;
}

const char *
secret_masterarn(const pgr_secret *s)
{
	return s->masterarn;
}

const char *
secret_sslrootcert(const pgr_secret *s)
{
	return s->sslrootcert;
}

secret_ssl
secret_get_ssl(const pgr_secret *s)
{
	return s->ssl;
}

/*
 * Do username, host and port agree? Host names compare without regard to
 * case, as DNS does. Used for "pending and current must name the same
 * login" before a password is changed.
 */
bool
secret_same_target(const pgr_secret *a, const pgr_secret *b)
{
	if (!a || !b)
		return false;
	return strcmp(a->username, b->username) == 0 &&
		strcasecmp(a->host, b->host) == 0 &&
		a->port == b->port;
}

/* true when s is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF) */
static bool
valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *) s;

	while (*p)
	{
		unsigned int c = *p;
		int			n;
		unsigned int cp;

		if (c < 0x80)
		{
			p++;
			continue;
		}
		else if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return false;
		for (int i = 1; i <= n; i++)
		{
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
			(n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		p += n + 1;
	}
	return true;
}

/* Append s as a JSON string literal (quotes included). */
static bool
put_json_string(pgr_buf *buf, const char *s)
{
	bool		ok = pgr_buf_putc(buf, '"');

	for (const unsigned char *p = (const unsigned char *) s; ok && *p; p++)
	{
		switch (*p)
		{
			case '"':
				ok = pgr_buf_puts(buf, "\\\"");
				break;
			case '\\':
				ok = pgr_buf_puts(buf, "\\\\");
				break;
			case '\n':
				ok = pgr_buf_puts(buf, "\\n");
				break;
			case '\r':
				ok = pgr_buf_puts(buf, "\\r");
				break;
			case '\t':
				ok = pgr_buf_puts(buf, "\\t");
				break;
			default:
				if (*p < 0x20)
					ok = pgr_buf_printf(buf, "\\u%04x", *p);
				else
					ok = pgr_buf_putc(buf, (char) *p);
				break;
		}
	}
	return ok && pgr_buf_putc(buf, '"');
}

/*
 * Serialize the secret as it was parsed, every key in its original order,
 * with "password" set to new_password. On success *json_out is a malloc'd
 * string the caller owns and releases with pgr_free_secret(). The password
 * member is written by this function into a buffer that is wiped whenever
 * it grows or is freed; the other members go through json-c.
 */
int
secret_with_password(const pgr_secret *s, const char *new_password,
					 char **json_out, pgr_error *err)
{
	pgr_buf		buf;
	bool		ok = true;
	bool		first = true;
	size_t		pwlen;
	char	   *result;

	if (!s || !new_password || !json_out)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL,
					  "secret_with_password called without input");
		return -1;
	}
	pwlen = strlen(new_password);
	if (pwlen == 0 || pwlen > SECRET_MAX_PASSWORD_LEN)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "new password must have 1 to %d bytes",
					  SECRET_MAX_PASSWORD_LEN);
		return -1;
	}
	if (!valid_utf8(new_password))
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "new password is not valid UTF-8");
		return -1;
	}

	pgr_buf_init(&buf, SECRET_MAX_JSON_LEN);
	ok = pgr_buf_putc(&buf, '{');
	json_object_object_foreach(s->obj, key, val)
	{
		if (!ok)
			break;
		if (!first)
			ok = pgr_buf_putc(&buf, ',');
		first = false;
		ok = ok && put_json_string(&buf, key) && pgr_buf_putc(&buf, ':');
		if (!ok)
			break;
		if (strcmp(key, "password") == 0)
			ok = put_json_string(&buf, new_password);
		else
			ok = pgr_buf_puts(&buf, json_object_to_json_string_ext(val,
																   JSON_C_TO_STRING_PLAIN |
																   JSON_C_TO_STRING_NOSLASHESCAPE));
	}
	ok = ok && pgr_buf_putc(&buf, '}');
	if (!ok)
	{
		if (buf.overflow)
		{
			pgr_error_set(err, PGR_ERR_INPUT, NULL,
						  "secret with the new password is too large");
			pgr_error_detail(err, "A secret string holds at most %d bytes.",
							 SECRET_MAX_JSON_LEN);
		}
		else
			pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		pgr_buf_free(&buf);
		return -1;
	}
	result = pgr_buf_detach(&buf);
	if (!result)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		pgr_buf_free(&buf);
		return -1;
	}
	*json_out = result;
	return 0;
}

/* The defaults of AWS's rotation templates (see secret.h). */
void
secret_password_rules_init(pgr_password_rules *rules)
{
	memset(rules, 0, sizeof(*rules));
	rules->length = SECRET_DEFAULT_PASSWORD_LENGTH;
	rules->exclude_characters = SECRET_DEFAULT_EXCLUDE_CHARS;
	rules->require_each_included_type = true;
}

/* Add the characters of set that are not excluded to the alphabet. */
static void
add_class(char *alphabet, unsigned char *classof, int *n, const char *set,
		  int cls, const char *exclude)
{
	for (const char *p = set; *p; p++)
	{
		if (exclude && strchr(exclude, *p))
			continue;
		alphabet[*n] = *p;
		classof[*n] = (unsigned char) cls;
		(*n)++;
	}
}

/* Random bytes drawn from RAND_bytes() in blocks. */
typedef struct rand_pool
{
	unsigned char bytes[256];
	size_t		used;
} rand_pool;

/* Next random byte; false if the CSPRNG failed. */
static bool
pool_next(rand_pool *pool, unsigned char *out)
{
	if (pool->used >= sizeof(pool->bytes))
	{
		if (RAND_bytes(pool->bytes, sizeof(pool->bytes)) != 1)
			return false;
		pool->used = 0;
	}
	*out = pool->bytes[pool->used++];
	return true;
}

/*
 * Generate a password following rules (GetRandomPassword's semantics) with
 * OpenSSL's CSPRNG. Each character is uniform over the allowed alphabet
 * (rejection sampling: bytes at or above the largest multiple of the
 * alphabet size are redrawn, so there is no modulo bias). With
 * require_each_included_type, whole passwords lacking a type are redrawn,
 * which keeps the result uniform over the passwords that qualify. A type
 * whose every character is excluded counts as excluded.
 * On success *out is owned by the caller (pgr_free_secret()).
 */
int
secret_generate_password(const pgr_password_rules *rules, char **out,
						 pgr_error *err)
{
	char		alphabet[128];
	unsigned char classof[128];
	int			n = 0;
	bool		included[NUM_CLASSES] = {false};
	int			nrequired = 0;
	const char *exclude;
	rand_pool	pool;
	char	   *pw = NULL;
	int			attempt;
	int			rc = -1;

	if (!rules || !out)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL,
					  "secret_generate_password called without input");
		return -1;
	}
	if (rules->length < 1 || rules->length > SECRET_MAX_PASSWORD_LEN)
	{
		pgr_error_set(err, PGR_ERR_USAGE, NULL,
					  "password length must be between 1 and %d",
					  SECRET_MAX_PASSWORD_LEN);
		return -1;
	}
	exclude = rules->exclude_characters;
	if (exclude && strlen(exclude) > SECRET_MAX_PASSWORD_LEN)
	{
		pgr_error_set(err, PGR_ERR_USAGE, NULL,
					  "excluded characters must be at most %d bytes",
					  SECRET_MAX_PASSWORD_LEN);
		return -1;
	}

	if (!rules->exclude_lowercase)
		add_class(alphabet, classof, &n, "abcdefghijklmnopqrstuvwxyz",
				  CLASS_LOWER, exclude);
	if (!rules->exclude_uppercase)
		add_class(alphabet, classof, &n, "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
				  CLASS_UPPER, exclude);
	if (!rules->exclude_numbers)
		add_class(alphabet, classof, &n, "0123456789", CLASS_DIGIT, exclude);
	if (!rules->exclude_punctuation)
		add_class(alphabet, classof, &n, SECRET_PUNCTUATION, CLASS_PUNCT, exclude);
	if (rules->include_space)
		add_class(alphabet, classof, &n, " ", CLASS_SPACE, exclude);

	if (n == 0)
	{
		pgr_error_set(err, PGR_ERR_USAGE, NULL,
					  "no characters are left to make a password from");
		pgr_error_hint(err, "Exclude fewer character types or characters.");
		return -1;
	}
	for (int i = 0; i < n; i++)
		included[classof[i]] = true;
	for (int c = 0; c < NUM_CLASSES; c++)
	{
		if (c != CLASS_SPACE && included[c])
			nrequired++;
	}
	if (rules->require_each_included_type && rules->length < nrequired)
	{
		pgr_error_set(err, PGR_ERR_USAGE, NULL,
					  "password length %d is too short to include each of %d character types",
					  rules->length, nrequired);
		return -1;
	}

	pw = malloc((size_t) rules->length + 1);
	if (!pw)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		return -1;
	}
	pool.used = sizeof(pool.bytes);

	for (attempt = 0; attempt < GEN_MAX_ATTEMPTS; attempt++)
	{
		bool		seen[NUM_CLASSES] = {false};
		bool		complete = true;
		unsigned int limit = 256 - (256 % (unsigned int) n);

		for (int i = 0; i < rules->length; i++)
		{
			unsigned char b;

			do
			{
				if (!pool_next(&pool, &b))
				{
					pgr_error_set(err, PGR_ERR_INTERNAL, NULL,
								  "could not get random bytes from OpenSSL");
					goto cleanup;
				}
			} while (b >= limit);
			pw[i] = alphabet[b % n];
			seen[classof[b % n]] = true;
		}
		pw[rules->length] = '\0';

		if (rules->require_each_included_type)
		{
			for (int c = 0; c < NUM_CLASSES; c++)
			{
				if (c != CLASS_SPACE && included[c] && !seen[c])
					complete = false;
			}
		}
		if (complete)
		{
			*out = pw;
			pw = NULL;
			rc = 0;
			goto cleanup;
		}
	}
	pgr_error_set(err, PGR_ERR_USAGE, NULL,
				  "could not generate a password with each character type");
	pgr_error_hint(err, "Allow a longer password or more characters of each type.");

cleanup:
	if (pw)
	{
		OPENSSL_cleanse(pw, (size_t) rules->length + 1);
		free(pw);
	}
	OPENSSL_cleanse(&pool, sizeof(pool));
	return rc;
}
