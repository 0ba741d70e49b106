/*-------------------------------------------------------------------------
 *
 * aws_ini.c
 *	  The AWS config and credentials file format (see aws_ini.h).
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws_ini.h"
#include "buf.h"

typedef struct ini_entry
{
	char	   *section;
	char	   *key;			/* lowercase; "parent.child" when nested */
	char	   *value;			/* may be a secret: wiped on free */
} ini_entry;

struct aws_ini
{
	ini_entry  *entries;
	size_t		n;
	size_t		cap;
};

/* A copy of s[0..len) without leading and trailing whitespace. */
static char *
trim_dup(const char *s, size_t len)
{
	while (len && isspace((unsigned char) *s))
	{
		s++;
		len--;
	}
	while (len && isspace((unsigned char) s[len - 1]))
		len--;
	return strndup(s, len);
}

/* Add (or replace) section.key = value; false when out of memory. */
static bool
ini_add(aws_ini *ini, const char *section, const char *key, const char *value)
{
	ini_entry  *e;

	/* a later duplicate key overrides the earlier one, as in configparser */
	for (size_t i = 0; i < ini->n; i++)
		if (strcmp(ini->entries[i].section, section) == 0 &&
			strcmp(ini->entries[i].key, key) == 0)
		{
			char	   *v = strdup(value);

			if (!v)
				return false;
			pgr_free_secret(ini->entries[i].value);
			ini->entries[i].value = v;
			return true;
		}
	if (ini->n == ini->cap)
	{
		size_t		ncap = ini->cap ? ini->cap * 2 : 16;
		ini_entry  *ne = calloc(ncap, sizeof(*ne));

		if (!ne)
			return false;
		if (ini->entries)
			memcpy(ne, ini->entries, ini->n * sizeof(*ne));
		free(ini->entries);
		ini->entries = ne;
		ini->cap = ncap;
	}
	e = &ini->entries[ini->n];
	e->section = strdup(section);
	e->key = strdup(key);
	e->value = strdup(value);
	if (!e->section || !e->key || !e->value)
	{
		free(e->section);
		free(e->key);
		free(e->value);
		return false;
	}
	for (char *p = e->key; *p; p++)
		*p = (char) tolower((unsigned char) *p);
	ini->n++;
	return true;
}

/*
 * Parse the AWS config/credentials file format: "[section]" headers,
 * "key = value" lines, full-line comments starting with '#' or ';', and
 * nested settings (a key with an empty value followed by indented
 * "sub = value" lines, stored as "key.sub"). Returns 0, or -1 with the line
 * number of the first malformed line.
 */
int
aws_ini_parse(const char *text, size_t len, aws_ini **out, pgr_error *err)
{
	aws_ini    *ini = calloc(1, sizeof(*ini));
	char	   *section = NULL;
	char	   *parent = NULL;
	size_t		pos = 0;
	int			lineno = 0;

	if (!ini)
		goto oom;
	while (pos < len)
	{
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t		llen = nl ? (size_t) (nl - line) : len - pos;
		bool		indented = llen > 0 && (line[0] == ' ' || line[0] == '\t');
		char	   *t;

		pos += llen + (nl ? 1 : 0);
		lineno++;
		t = trim_dup(line, llen);
		if (!t)
			goto oom;
		/* every line is wiped: a comment may hold a commented-out key */
		if (t[0] == '\0' || t[0] == '#' || t[0] == ';')
		{
			pgr_free_secret(t);
			continue;
		}
		if (t[0] == '[' && !indented)
		{
			size_t		tl = strlen(t);

			if (t[tl - 1] != ']')
			{
				pgr_free_secret(t);
				pgr_error_set(err, PGR_ERR_INPUT, NULL,
							  "malformed section header on line %d", lineno);
				goto fail;
			}
			free(section);
			section = trim_dup(t + 1, tl - 2);
			free(parent);
			parent = NULL;
			pgr_free_secret(t);
			if (!section)
				goto oom;
			continue;
		}
		{
			char	   *eq = strchr(t, '=');
			char	   *key,
					   *value;
			bool		ok;

			if (!eq || !section)
			{
				pgr_free_secret(t);
				pgr_error_set(err, PGR_ERR_INPUT, NULL, section ?
							  "line %d is not \"key = value\"" :
							  "line %d comes before any [section]", lineno);
				goto fail;
			}
			key = trim_dup(t, (size_t) (eq - t));
			value = trim_dup(eq + 1, strlen(eq + 1));
			if (!key || !value)
			{
				free(key);
				pgr_free_secret(value);
				pgr_free_secret(t);
				goto oom;
			}
			if (indented && parent)
			{
				pgr_buf		full;

				pgr_buf_init(&full, 0);
				ok = pgr_buf_printf(&full, "%s.%s", parent, key) &&
					ini_add(ini, section, full.data, value);
				pgr_buf_free(&full);
			}
			else
			{
				free(parent);
				parent = value[0] == '\0' ? strdup(key) : NULL;
				ok = ini_add(ini, section, key, value);
			}
			free(key);
			pgr_free_secret(value);
			pgr_free_secret(t);
			if (!ok)
				goto oom;
		}
	}
	free(section);
	free(parent);
	*out = ini;
	return 0;

oom:
	pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
fail:
	free(section);
	free(parent);
	aws_ini_free(ini);
	return -1;
}

/* A value, or NULL when the section or the key is absent. */
const char *
aws_ini_get(const aws_ini *ini, const char *section, const char *key)
{
	if (!ini || !section)
		return NULL;
	for (size_t i = 0; i < ini->n; i++)
		if (strcmp(ini->entries[i].section, section) == 0 &&
			strcasecmp(ini->entries[i].key, key) == 0)
			return ini->entries[i].value;
	return NULL;
}

/* Whether the file has the section (even an empty one). */
bool
aws_ini_has_section(const aws_ini *ini, const char *section)
{
	if (!ini)
		return false;
	for (size_t i = 0; i < ini->n; i++)
		if (strcmp(ini->entries[i].section, section) == 0)
			return true;
	return false;
}

/* Free a parsed file; values are wiped (they may be secret keys). */
void
aws_ini_free(aws_ini *ini)
{
	if (!ini)
		return;
	for (size_t i = 0; i < ini->n; i++)
	{
		free(ini->entries[i].section);
		free(ini->entries[i].key);
		pgr_free_secret(ini->entries[i].value);
	}
	free(ini->entries);
	free(ini);
}
