/*-------------------------------------------------------------------------
 *
 * json.c
 *	  A strict JSON reader into a wiping arena, and a writer into a wiping
 *	  buffer (see json.h for why they are ours).
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "json.h"

struct json_value
{
	json_type	type;
	bool		boolean;
	const char *key;			/* as a member of an object: its name */
	size_t		keylen;
	const char *text;			/* a string, decoded; a number, as written */
	size_t		len;
	json_value *first;			/* an array's elements, an object's members */
	json_value *last;
	json_value *next;			/* the next element or member */
	size_t		count;
};

struct json_doc
{
	pgr_arena	arena;
	json_value *root;
};

typedef struct parser
{
	const unsigned char *s;
	size_t		len;
	size_t		pos;
	int			depth;
	int			max_depth;
	pgr_arena  *arena;
	pgr_error  *err;
} parser;

/* ----- reading -------------------------------------------------------- */

/* Fail with "not valid JSON" and where; never quotes the input. */
static int
syntax_error(parser *p, const char *what)
{
	if (p->pos >= p->len)
	{
		pgr_error_set(p->err, PGR_ERR_INPUT, NULL, "not valid JSON");
		pgr_error_detail(p->err, "The input ends in the middle of a value.");
	}
	else
	{
		pgr_error_set(p->err, PGR_ERR_INPUT, NULL, "not valid JSON");
		pgr_error_detail(p->err, "%s at byte %zu.", what, p->pos);
	}
	return -1;
}

static int
out_of_memory(parser *p)
{
	pgr_error_set(p->err, PGR_ERR_INTERNAL, NULL, "out of memory");
	return -1;
}

static void
skip_space(parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
							   p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

/*
 * The length of one well-formed UTF-8 sequence at s[0..avail), or 0 (no
 * overlong forms, no surrogates, nothing above U+10FFFF).
 */
static size_t
utf8_sequence(const unsigned char *s, size_t avail)
{
	unsigned int c = s[0];
	size_t		n;
	unsigned int cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++)
	{
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		(n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/* Whether s[0..len) is well-formed UTF-8 (what the reader accepts). */
bool
json_is_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) s;

	for (size_t i = 0; i < len;)
	{
		size_t		n = utf8_sequence(p + i, len - i);

		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

static int
hex4(const unsigned char *s, unsigned int *out)
{
	unsigned int v = 0;

	for (int i = 0; i < 4; i++)
	{
		unsigned int c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t
put_utf8(char *out, unsigned int cp)
{
	if (cp < 0x80)
	{
		out[0] = (char) cp;
		return 1;
	}
	if (cp < 0x800)
	{
		out[0] = (char) (0xc0 | (cp >> 6));
		out[1] = (char) (0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000)
	{
		out[0] = (char) (0xe0 | (cp >> 12));
		out[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char) (0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char) (0xf0 | (cp >> 18));
	out[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char) (0x80 | (cp & 0x3f));
	return 4;
}

/*
 * A string literal at p->pos (on its opening quote), decoded into the
 * arena: decoding never lengthens it, so the raw length is enough room.
 */
static int
parse_string(parser *p, const char **out, size_t *outlen)
{
	size_t		start = p->pos + 1;
	size_t		end = start;
	char	   *dst;
	size_t		n = 0;

	while (end < p->len && p->s[end] != '"')
		end += p->s[end] == '\\' ? 2 : 1;
	if (end >= p->len)
	{
		p->pos = p->len;
		return syntax_error(p, "Unterminated string");
	}
	dst = pgr_arena_alloc(p->arena, end - start + 1);
	if (!dst)
		return out_of_memory(p);
	p->pos = start;
	while (p->pos < end)
	{
		unsigned char c = p->s[p->pos];

		if (c < 0x20)
			return syntax_error(p, "A control character in a string");
		if (c != '\\')
		{
			size_t		seq = utf8_sequence(p->s + p->pos, end - p->pos);

			if (seq == 0)
				return syntax_error(p, "Invalid UTF-8");
			memcpy(dst + n, p->s + p->pos, seq);
			n += seq;
			p->pos += seq;
			continue;
		}
		c = p->s[p->pos + 1];
		p->pos += 2;
		switch (c)
		{
			case '"':
			case '\\':
			case '/':
				dst[n++] = (char) c;
				break;
			case 'b':
				dst[n++] = '\b';
				break;
			case 'f':
				dst[n++] = '\f';
				break;
			case 'n':
				dst[n++] = '\n';
				break;
			case 'r':
				dst[n++] = '\r';
				break;
			case 't':
				dst[n++] = '\t';
				break;
			case 'u':
				{
					unsigned int cp,
								lo;

					if (end - p->pos < 4 || hex4(p->s + p->pos, &cp) != 0)
						return syntax_error(p, "A malformed \\u escape");
					p->pos += 4;
					if (cp >= 0xdc00 && cp <= 0xdfff)
						return syntax_error(p, "A lone surrogate escape");
					if (cp >= 0xd800 && cp <= 0xdbff)
					{
						if (end - p->pos < 6 || p->s[p->pos] != '\\' ||
							p->s[p->pos + 1] != 'u' ||
							hex4(p->s + p->pos + 2, &lo) != 0 ||
							lo < 0xdc00 || lo > 0xdfff)
							return syntax_error(p, "A lone surrogate escape");
						p->pos += 6;
						cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					}
					n += put_utf8(dst + n, cp);
					break;
				}
			default:
				p->pos -= 2;
				return syntax_error(p, "An invalid escape");
		}
	}
	dst[n] = '\0';
	p->pos = end + 1;
	*out = dst;
	*outlen = n;
	return 0;
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* A number, kept as written: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)? */
static int
parse_number(parser *p, json_value *v)
{
	size_t		start = p->pos;

	if (p->s[p->pos] == '-')
		p->pos++;
	if (p->pos >= p->len || !is_digit(p->s[p->pos]))
		return syntax_error(p, "A malformed number");
	if (p->s[p->pos] == '0')
		p->pos++;
	else
		while (p->pos < p->len && is_digit(p->s[p->pos]))
			p->pos++;
	if (p->pos < p->len && p->s[p->pos] == '.')
	{
		p->pos++;
		if (p->pos >= p->len || !is_digit(p->s[p->pos]))
			return syntax_error(p, "A malformed number");
		while (p->pos < p->len && is_digit(p->s[p->pos]))
			p->pos++;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E'))
	{
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (p->pos >= p->len || !is_digit(p->s[p->pos]))
			return syntax_error(p, "A malformed number");
		while (p->pos < p->len && is_digit(p->s[p->pos]))
			p->pos++;
	}
	v->type = JSON_NUMBER;
	v->len = p->pos - start;
	v->text = pgr_arena_strndup(p->arena, (const char *) p->s + start, v->len);
	return v->text ? 0 : out_of_memory(p);
}

static int
parse_literal(parser *p, const char *word)
{
	size_t		n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return syntax_error(p, "An unexpected character");
	p->pos += n;
	return 0;
}

static void
append_child(json_value *parent, json_value *child)
{
	if (parent->last)
		parent->last->next = child;
	else
		parent->first = child;
	parent->last = child;
	parent->count++;
}

static int	parse_value(parser *p, json_value *v);

/* An array or an object at p->pos (on its opening bracket). */
static int
parse_container(parser *p, json_value *v, bool object)
{
	char		close = object ? '}' : ']';

	if (++p->depth > p->max_depth)
		return syntax_error(p, "Nesting deeper than the limit");
	v->type = object ? JSON_OBJECT : JSON_ARRAY;
	p->pos++;
	skip_space(p);
	if (p->pos < p->len && p->s[p->pos] == close)
	{
		p->pos++;
		p->depth--;
		return 0;
	}
	for (;;)
	{
		json_value *child = pgr_arena_alloc(p->arena, sizeof(json_value));

		if (!child)
			return out_of_memory(p);
		skip_space(p);
		if (object)
		{
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return syntax_error(p, "A member name was expected");
			if (parse_string(p, &child->key, &child->keylen) < 0)
				return -1;
			skip_space(p);
			if (p->pos >= p->len || p->s[p->pos] != ':')
				return syntax_error(p, "A colon was expected");
			p->pos++;
		}
		if (parse_value(p, child) < 0)
			return -1;
		append_child(v, child);
		skip_space(p);
		if (p->pos < p->len && p->s[p->pos] == ',')
		{
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == close)
		{
			p->pos++;
			p->depth--;
			return 0;
		}
		return syntax_error(p, object ? "A comma or a closing brace was expected" :
							"A comma or a closing bracket was expected");
	}
}

static int
parse_value(parser *p, json_value *v)
{
	skip_space(p);
	if (p->pos >= p->len)
		return syntax_error(p, "A value was expected");
	switch (p->s[p->pos])
	{
		case '{':
			return parse_container(p, v, true);
		case '[':
			return parse_container(p, v, false);
		case '"':
			v->type = JSON_STRING;
			return parse_string(p, &v->text, &v->len);
		case 't':
			v->type = JSON_BOOL;
			v->boolean = true;
			return parse_literal(p, "true");
		case 'f':
			v->type = JSON_BOOL;
			return parse_literal(p, "false");
		case 'n':
			v->type = JSON_NULL;
			return parse_literal(p, "null");
		default:
			if (p->s[p->pos] == '-' || is_digit(p->s[p->pos]))
				return parse_number(p, v);
			return syntax_error(p, "An unexpected character");
	}
}

/*
 * Parse text[0..len) as one JSON value (whitespace around it allowed), at
 * most max_depth arrays and objects deep (<= 0: JSON_DEFAULT_MAX_DEPTH). On
 * success *out owns the tree (json_free). On failure err says "not valid
 * JSON" and where, never what; nothing is left allocated.
 */
int
json_parse(const char *text, size_t len, int max_depth, json_doc **out, pgr_error *err)
{
	json_doc   *doc = calloc(1, sizeof(*doc));
	parser		p;

	if (!doc)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		return -1;
	}
	pgr_arena_init(&doc->arena, len / 2 + 512);
	memset(&p, 0, sizeof(p));
	p.s = (const unsigned char *) (text ? text : "");
	p.len = text ? len : 0;
	p.max_depth = max_depth > 0 ? max_depth : JSON_DEFAULT_MAX_DEPTH;
	p.arena = &doc->arena;
	p.err = err;
	doc->root = pgr_arena_alloc(&doc->arena, sizeof(json_value));
	if (!doc->root)
	{
		out_of_memory(&p);
		goto fail;
	}
	if (parse_value(&p, doc->root) < 0)
		goto fail;
	skip_space(&p);
	if (p.pos < p.len)
	{
		syntax_error(&p, "More data after the value");
		goto fail;
	}
	*out = doc;
	return 0;

fail:
	json_free(doc);
	return -1;
}

/* Wipe and free a parsed document; NULL is allowed. */
void
json_free(json_doc *doc)
{
	if (!doc)
		return;
	pgr_arena_free(&doc->arena);
	free(doc);
}

const json_value *
json_root(const json_doc *doc)
{
	return doc ? doc->root : NULL;
}

/* The type of v; an absent value (NULL) reads as JSON null. */
json_type
json_type_of(const json_value *v)
{
	return v ? v->type : JSON_NULL;
}

/* The last member named key of an object; NULL if none or not an object. */
const json_value *
json_get(const json_value *obj, const char *key)
{
	const json_value *found = NULL;
	size_t		klen = strlen(key);

	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (const json_value *m = obj->first; m; m = m->next)
		if (m->keylen == klen && memcmp(m->key, key, klen) == 0)
			found = m;
	return found;
}

/* The first element of an array or member of an object, else NULL. */
const json_value *
json_first(const json_value *v)
{
	return v && (v->type == JSON_ARRAY || v->type == JSON_OBJECT) ? v->first : NULL;
}

const json_value *
json_next(const json_value *v)
{
	return v ? v->next : NULL;
}

/* A member's name (NUL-terminated; len, if not NULL, counts embedded NULs). */
const char *
json_key(const json_value *member, size_t *len)
{
	if (len)
		*len = member && member->key ? member->keylen : 0;
	return member ? member->key : NULL;
}

/* The number of elements or members; 0 for anything else. */
size_t
json_count(const json_value *v)
{
	return v && (v->type == JSON_ARRAY || v->type == JSON_OBJECT) ? v->count : 0;
}

/* A string's bytes (NUL-terminated; len counts embedded NULs), else NULL. */
const char *
json_string(const json_value *v, size_t *len)
{
	if (!v || v->type != JSON_STRING)
		return NULL;
	if (len)
		*len = v->len;
	return v->text;
}

/* A string member of obj, or NULL when absent or not a string. */
const char *
json_get_string(const json_value *obj, const char *key)
{
	return json_string(json_get(obj, key), NULL);
}

bool
json_bool(const json_value *v, bool *out)
{
	if (!v || v->type != JSON_BOOL)
		return false;
	*out = v->boolean;
	return true;
}

/* Whether v is a number written as an integer (no fraction, no exponent). */
bool
json_is_integer(const json_value *v)
{
	return v && v->type == JSON_NUMBER && !strpbrk(v->text, ".eE");
}

/* An integer number that fits in 64 bits. */
bool
json_int64(const json_value *v, int64_t *out)
{
	char	   *end;
	long long	n;

	if (!json_is_integer(v))
		return false;
	errno = 0;
	n = strtoll(v->text, &end, 10);
	if (errno || *end)
		return false;
	*out = (int64_t) n;
	return true;
}

bool
json_double(const json_value *v, double *out)
{
	if (!v || v->type != JSON_NUMBER)
		return false;
	*out = strtod(v->text, NULL);
	return true;
}

/* ----- writing -------------------------------------------------------- */

/* Start writing into buf (which the caller initialized and owns). */
void
json_writer_init(json_writer *w, pgr_buf *buf, bool pretty)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->pretty = pretty;
}

/* Whether everything so far was written (no allocation failed, no misuse). */
bool
json_writer_ok(const json_writer *w)
{
	return !w->failed && !w->buf->oom && !w->buf->overflow;
}

static void
put(json_writer *w, const char *s)
{
	if (!pgr_buf_puts(w->buf, s))
		w->failed = true;
}

static void
newline(json_writer *w)
{
	if (!w->pretty)
		return;
	put(w, "\n");
	for (int i = 0; i < w->depth; i++)
		put(w, "  ");
}

/* What goes before a value: nothing after a key, else a comma if needed. */
static void
before_value(json_writer *w)
{
	if (w->after_key)
	{
		w->after_key = false;
		return;
	}
	if (w->depth == 0)
		return;
	if (w->has_items[w->depth])
		put(w, ",");
	w->has_items[w->depth] = true;
	newline(w);
}

static void
begin(json_writer *w, const char *open)
{
	before_value(w);
	put(w, open);
	if (w->depth + 1 >= JSON_WRITER_MAX_DEPTH)
	{
		w->failed = true;
		return;
	}
	w->depth++;
	w->has_items[w->depth] = false;
}

static void
end(json_writer *w, const char *close)
{
	bool		had_items;

	if (w->depth == 0)
	{
		w->failed = true;
		return;
	}
	had_items = w->has_items[w->depth];
	w->depth--;
	if (had_items)
		newline(w);
	put(w, close);
}

void
json_write_begin_object(json_writer *w)
{
	begin(w, "{");
}

void
json_write_end_object(json_writer *w)
{
	end(w, "}");
}

void
json_write_begin_array(json_writer *w)
{
	begin(w, "[");
}

void
json_write_end_array(json_writer *w)
{
	end(w, "]");
}

/* The two-character escapes; other control characters are written \u00XX. */
static const char *const short_escapes[] = {
	['"'] = "\\\"", ['\\'] = "\\\\", ['\b'] = "\\b", ['\f'] = "\\f",
	['\n'] = "\\n", ['\r'] = "\\r", ['\t'] = "\\t",
};

/*
 * Append s[0..len) as a JSON string literal, quotes included: '"' and '\'
 * escaped, control characters as \b \f \n \r \t or \u00XX (so that one
 * value stays on one line), a byte that is not UTF-8 as \ufffd (so that
 * the text is always valid JSON), everything else as it is.
 */
bool
json_append_string(pgr_buf *buf, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) s;
	bool		ok = pgr_buf_putc(buf, '"');

	for (size_t i = 0; ok && i < len;)
	{
		size_t		n = p[i] < 0x80 ? 1 : utf8_sequence(p + i, len - i);

		if (p[i] < sizeof(short_escapes) / sizeof(short_escapes[0]) && short_escapes[p[i]])
			ok = pgr_buf_puts(buf, short_escapes[p[i]]);
		else if (p[i] < 0x20)
			ok = pgr_buf_printf(buf, "\\u%04x", p[i]);
		else if (n == 0)
			ok = pgr_buf_puts(buf, "\\ufffd");
		else
			ok = pgr_buf_append(buf, p + i, n);
		i += n ? n : 1;
	}
	return ok && pgr_buf_putc(buf, '"');
}

/* A member's name (len bytes, NULs allowed); its value is written next. */
void
json_write_key_len(json_writer *w, const char *key, size_t len)
{
	if (w->depth == 0 || w->after_key)
	{
		w->failed = true;
		return;
	}
	if (w->has_items[w->depth])
		put(w, ",");
	w->has_items[w->depth] = true;
	newline(w);
	if (!json_append_string(w->buf, key, len))
		w->failed = true;
	put(w, w->pretty ? ": " : ":");
	w->after_key = true;
}

void
json_write_key(json_writer *w, const char *key)
{
	json_write_key_len(w, key, strlen(key));
}

void
json_write_string_len(json_writer *w, const char *s, size_t len)
{
	before_value(w);
	if (!json_append_string(w->buf, s, len))
		w->failed = true;
}

void
json_write_string(json_writer *w, const char *s)
{
	json_write_string_len(w, s, strlen(s));
}

void
json_write_int(json_writer *w, long long n)
{
	before_value(w);
	if (!pgr_buf_printf(w->buf, "%lld", n))
		w->failed = true;
}

/* The shortest of %.15g and %.17g that reads back the same; null if not finite. */
void
json_write_double(json_writer *w, double d)
{
	char		text[40];

	if (!isfinite(d))
	{
		json_write_null(w);
		return;
	}
	snprintf(text, sizeof(text), "%.15g", d);
	if (strtod(text, NULL) != d)
		snprintf(text, sizeof(text), "%.17g", d);
	before_value(w);
	put(w, text);
}

void
json_write_bool(json_writer *w, bool b)
{
	before_value(w);
	put(w, b ? "true" : "false");
}

void
json_write_null(json_writer *w)
{
	before_value(w);
	put(w, "null");
}

/* Write a parsed value as it was read (numbers keep their text). */
void
json_write_value(json_writer *w, const json_value *v)
{
	switch (json_type_of(v))
	{
		case JSON_NULL:
			json_write_null(w);
			break;
		case JSON_BOOL:
			json_write_bool(w, v->boolean);
			break;
		case JSON_NUMBER:
			before_value(w);
			put(w, v->text);
			break;
		case JSON_STRING:
			json_write_string_len(w, v->text, v->len);
			break;
		case JSON_ARRAY:
			json_write_begin_array(w);
			for (const json_value *e = v->first; e; e = e->next)
				json_write_value(w, e);
			json_write_end_array(w);
			break;
		case JSON_OBJECT:
			json_write_begin_object(w);
			for (const json_value *m = v->first; m; m = m->next)
			{
				json_write_key_len(w, m->key, m->keylen);
				json_write_value(w, m);
			}
			json_write_end_object(w);
			break;
	}
}
