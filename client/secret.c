/*-------------------------------------------------------------------------
 *
 * secret.c
 *	  Parsing, checking and rewriting the database secret JSON, and
 *	  generating passwords with the local CSPRNG.
 *
 * The parsed document (json.h) is kept so that keys we do not know survive
 * a rotation; it lives in the JSON reader's wiping arena, the password
 * included, so secret_free() wipes every byte the secret ever occupied.
 * secret_with_password() writes the new secret into a wiping buffer.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/rand.h>

#include "buf.h"
#include "json.h"
#include "secret.h"

#define SECRET_MAX_DEPTH	16	/* arrays and objects, the secret's own included */

struct pgr_secret
{
	json_doc   *doc;			/* the whole parsed secret (owned, wiped) */
	const json_value *obj;		/* its top-level object */
	const char *password;		/* the rest borrow from doc (or literals) */
	const char *engine;
	const char *host;
	const char *dbname;
	const char *username;
	const char *masterarn;
	const char *sslrootcert;
	const char *audit_anchor;	/* SECRET_ANCHOR_KEY, when a string */
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
 * Fetch an optional or required string member. A JSON null counts as absent.
 * Refuses non-strings, embedded NUL bytes (written as \u0000), empty values
 * unless allow_empty, and values longer than maxlen bytes. On success *out is
 * borrowed from obj, or NULL when the key is absent and not required.
 */
static int
checked_string(const json_value *obj, const char *key, bool required, bool allow_empty,
			   size_t maxlen, const char **out, pgr_error *err)
{
	const json_value *val = json_get(obj, key);
	const char *s;
	size_t		len;

	if (json_type_of(val) == JSON_NULL)
	{
		if (required)
		{
			pgr_error_set(err, PGR_ERR_INPUT, NULL,
						  "secret has no \"%s\" key", key);
			pgr_error_hint(err, "A database secret needs at least \"username\" and "
						   "\"password\", and a rotated one \"host\".");
			return -1;
		}
		*out = NULL;
		return 0;
	}
	if (!(s = json_string(val, &len)))
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "secret key \"%s\" must be a string", key);
		return -1;
	}
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
get_port(const json_value *obj, int *port, pgr_error *err)
{
	const json_value *val = json_get(obj, "port");
	const char *s;
	size_t		len;
	int64_t		i;
	long		v;

	*port = SECRET_DEFAULT_PORT;
	if (json_type_of(val) == JSON_NULL)
		return 0;

	if (json_is_integer(val))
	{
		if (!json_int64(val, &i) || i < 1 || i > 65535)
			goto range;
		*port = (int) i;
		return 0;
	}
	if ((s = json_string(val, &len)))
	{
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
get_ssl(const json_value *obj, secret_ssl *ssl, pgr_error *err)
{
	const json_value *val = json_get(obj, "ssl");
	const char *s;
	bool		b;

	*ssl = SECRET_SSL_UNSET;
	if (json_type_of(val) == JSON_NULL)
		return 0;
	if (json_bool(val, &b))
	{
		*ssl = b ? SECRET_SSL_TRUE : SECRET_SSL_FALSE;
		return 0;
	}
	if ((s = json_string(val, NULL)))
	{
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

/* Whether two members have the same name (names may hold NUL bytes). */
static bool
same_key(const json_value *a, const json_value *b)
{
	size_t		alen,
				blen;
	const char *ka = json_key(a, &alen);
	const char *kb = json_key(b, &blen);

	return alen == blen && memcmp(ka, kb, alen) == 0;
}

/* How many members of obj are named "password" (escapes decoded). */
static int
count_password_keys(const json_value *obj)
{
	int			n = 0;

	for (const json_value *m = json_first(obj); m; m = json_next(m))
	{
		size_t		len;
		const char *k = json_key(m, &len);

		if (len == 8 && memcmp(k, "password", 8) == 0)
			n++;
	}
	return n;
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
 * Refuses more than SECRET_MAX_JSON_LEN bytes, NUL bytes, anything that is
 * not one well-formed JSON object (json.h), a repeated "password" key,
 * missing required keys, wrong types and unsupported engines.
 * Messages never quote the input. On success *out is owned by the caller
 * (secret_free()); the caller still owns and wipes json.
 */
int
secret_parse_len(const char *json, size_t len, pgr_secret **out, pgr_error *err)
{
	json_doc   *doc = NULL;
	pgr_secret *s = NULL;
	const json_value *obj;

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
	if (json_parse(json, len, SECRET_MAX_DEPTH, &doc, err) != 0)
	{
		pgr_error_prefix(err, "secret is ");
		return -1;
	}
	obj = json_root(doc);
	if (json_type_of(obj) != JSON_OBJECT)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL, "secret is not a JSON object");
		goto fail;
	}
	if (count_password_keys(obj) > 1)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "secret has more than one \"password\" key");
		pgr_error_detail(err, "Parsers disagree on which of duplicate keys counts.");
		pgr_error_hint(err, "Store the secret with a single \"password\" key.");
		goto fail;
	}

	s = calloc(1, sizeof(*s));
	if (!s)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		goto fail;
	}
	if (checked_string(obj, "engine", false, false, 64, &s->engine, err) < 0)
		goto fail;
	if (s->engine && strcmp(s->engine, "postgres") != 0 &&
		strcmp(s->engine, "aurora-postgresql") != 0)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "secret is not for PostgreSQL");
		pgr_error_detail(err, "Its \"engine\" is not \"postgres\" or \"aurora-postgresql\".");
		goto fail;
	}
	if (checked_string(obj, "host", false, false, SECRET_MAX_HOST_LEN, &s->host, err) < 0)
		goto fail;
	if (s->host &&
		(has_control_char(s->host) || strchr(s->host, ',') || strchr(s->host, ' ')))
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "secret key \"host\" is not a host name");
		pgr_error_detail(err, "It must name exactly one host, without spaces, "
						 "commas or control characters.");
		goto fail;
	}
	if (get_port(obj, &s->port, err) < 0)
		goto fail;
	if (checked_string(obj, "username", true, false, SECRET_MAX_USERNAME_LEN,
					   &s->username, err) < 0)
		goto fail;
	if (checked_string(obj, "dbname", false, false, SECRET_MAX_DBNAME_LEN,
					   &s->dbname, err) < 0)
		goto fail;
	if (!s->dbname)
		s->dbname = SECRET_DEFAULT_DBNAME;
	if (checked_string(obj, "password", true, false, SECRET_MAX_PASSWORD_LEN,
					   &s->password, err) < 0)
		goto fail;
	if (checked_string(obj, "masterarn", false, false, 2048, &s->masterarn, err) < 0)
		goto fail;
	if (checked_string(obj, "sslrootcert", false, false, 4096, &s->sslrootcert, err) < 0)
		goto fail;
	if (get_ssl(obj, &s->ssl, err) < 0)
		goto fail;
	/* pg_rotate's own key: anything but a string is left alone, unread */
	s->audit_anchor = json_get_string(obj, SECRET_ANCHOR_KEY);

	s->doc = doc;
	s->obj = obj;
	*out = s;
	return 0;

fail:
	free(s);
	json_free(doc);
	return -1;
}

/* Wipe the password and release everything; NULL is allowed. */
void
secret_free(pgr_secret *s)
{
	if (!s)
		return;
	json_free(s->doc);
	pgr_wipe(s, sizeof(*s));
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

const char *
secret_audit_anchor(const pgr_secret *s)
{
	return s->audit_anchor;
}

/*
 * Do username, host and port agree? Host names compare without regard to
 * case, as DNS does; two secrets without a host agree on it. Used for "pending and current must name the same
 * login" before a password is changed.
 */
bool
secret_same_target(const pgr_secret *a, const pgr_secret *b)
{
	if (!a || !b)
		return false;
	return strcmp(a->username, b->username) == 0 &&
		(a->host && b->host ? strcasecmp(a->host, b->host) == 0 : a->host == b->host) &&
		a->port == b->port;
}

/*
 * Serialize the secret as it was parsed, every key in its original order
 * (a repeated key once, at its first place, with its last value, as it was
 * read), with "password" set to new_password. With set_anchor, the key
 * SECRET_ANCHOR_KEY is left out and, when anchor is not NULL, written last
 * with that value. On success *json_out is a malloc'd string the caller
 * owns and releases with pgr_free_secret(). It is written into a buffer
 * that is wiped whenever it grows or is freed.
 */
static int
rewrite(const pgr_secret *s, const char *new_password, bool set_anchor,
		const char *anchor, char **json_out, pgr_error *err)
{
	pgr_buf		buf;
	json_writer w;
	size_t		pwlen;
	char	   *result;

	if (!s || !new_password || !json_out)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL,
					  "a secret was rewritten without input");
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
	if (!json_is_utf8(new_password, pwlen))
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "new password is not valid UTF-8");
		return -1;
	}

	pgr_buf_init(&buf, SECRET_MAX_JSON_LEN);
	json_writer_init(&w, &buf, false);
	json_write_begin_object(&w);
	for (const json_value *m = json_first(s->obj); m; m = json_next(m))
	{
		const json_value *value = m;
		size_t		keylen;
		const char *key = json_key(m, &keylen);
		bool		repeated = false;

		for (const json_value *e = json_first(s->obj); e != m; e = json_next(e))
			if (same_key(e, m))
				repeated = true;
		if (repeated)
			continue;
		for (const json_value *l = json_next(m); l; l = json_next(l))
			if (same_key(l, m))
				value = l;
		if (set_anchor && keylen == strlen(SECRET_ANCHOR_KEY) &&
			memcmp(key, SECRET_ANCHOR_KEY, keylen) == 0)
			continue;
		json_write_key_len(&w, key, keylen);
		if (keylen == 8 && memcmp(key, "password", 8) == 0)
			json_write_string(&w, new_password);
		else
			json_write_value(&w, value);
	}
	if (set_anchor && anchor)
	{
		json_write_key(&w, SECRET_ANCHOR_KEY);
		json_write_string(&w, anchor);
	}
	json_write_end_object(&w);
	if (!json_writer_ok(&w))
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

/* The secret with a new password, every other key as it was (rewrite). */
int
secret_with_password(const pgr_secret *s, const char *new_password,
					 char **json_out, pgr_error *err)
{
	return rewrite(s, new_password, false, NULL, json_out, err);
}

/*
 * The secret of a new version: a new password and, under SECRET_ANCHOR_KEY,
 * the audit log's anchor taken for it (NULL: the key is left out, so that
 * a version never carries an anchor taken for an older one).
 */
int
secret_with_password_and_anchor(const pgr_secret *s, const char *new_password,
								const char *anchor, char **json_out, pgr_error *err)
{
	return rewrite(s, new_password, true, anchor, json_out, err);
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
		pgr_wipe(pw, (size_t) rules->length + 1);
		free(pw);
	}
	pgr_wipe(&pool, sizeof(pool));
	return rc;
}
