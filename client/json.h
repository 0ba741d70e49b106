/*-------------------------------------------------------------------------
 *
 * json.h
 *	  pg_rotate's one JSON reader and writer. Pure: no I/O.
 *
 * The reader parses RFC 8259 JSON strictly (no comments, no trailing
 * commas, valid UTF-8, no lone surrogates, a nesting limit) into a tree
 * held in one wiping arena (arena.h): every node and every decoded string
 * lives there, and json_free() wipes all of it at once. That is why it is
 * ours and not a library's: json-c, for one, copies each string through a
 * tokenizer buffer that grows by realloc and is freed unwiped, and offers
 * no allocator hook. Secrets Manager responses, secret values and
 * credential documents all go through it.
 *
 * Objects keep their members in order, repeated keys included; json_get()
 * returns the last one (what most parsers keep). Numbers keep their text,
 * so a value read and written again keeps its spelling.
 *
 * The writer appends to a pgr_buf (buf.h), which wipes what it frees, so a
 * request or a secret value built with it leaves no copy behind either.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_JSON_H
#define PGR_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

#define JSON_DEFAULT_MAX_DEPTH	64

typedef enum json_type
{
	JSON_NULL = 0,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT
} json_type;

typedef struct json_doc json_doc;
typedef struct json_value json_value;

/* Reading */
extern int	json_parse(const char *text, size_t len, int max_depth, json_doc **out,
					   pgr_error *err);
extern void json_free(json_doc *doc);
extern const json_value *json_root(const json_doc *doc);

extern json_type json_type_of(const json_value *v);
extern const json_value *json_get(const json_value *obj, const char *key);
extern const json_value *json_first(const json_value *v);
extern const json_value *json_next(const json_value *v);
extern const char *json_key(const json_value *member, size_t *len);
extern size_t json_count(const json_value *v);

extern const char *json_string(const json_value *v, size_t *len);
extern const char *json_get_string(const json_value *obj, const char *key);
extern bool json_bool(const json_value *v, bool *out);
extern bool json_is_integer(const json_value *v);
extern bool json_int64(const json_value *v, int64_t *out);
extern bool json_double(const json_value *v, double *out);
extern bool json_is_utf8(const char *s, size_t len);

/* Writing */
#define JSON_WRITER_MAX_DEPTH	64

typedef struct json_writer
{
	pgr_buf    *buf;
	bool		pretty;			/* two-space indentation, "key": value */
	bool		failed;			/* out of memory, over the buffer's limit, or misuse */
	int			depth;
	bool		has_items[JSON_WRITER_MAX_DEPTH];
	bool		after_key;
} json_writer;

extern void json_writer_init(json_writer *w, pgr_buf *buf, bool pretty);
extern bool json_writer_ok(const json_writer *w);
extern void json_write_begin_object(json_writer *w);
extern void json_write_end_object(json_writer *w);
extern void json_write_begin_array(json_writer *w);
extern void json_write_end_array(json_writer *w);
extern void json_write_key(json_writer *w, const char *key);
extern void json_write_key_len(json_writer *w, const char *key, size_t len);
extern void json_write_string(json_writer *w, const char *s);
extern void json_write_string_len(json_writer *w, const char *s, size_t len);
extern void json_write_int(json_writer *w, long long n);
extern void json_write_double(json_writer *w, double d);
extern void json_write_bool(json_writer *w, bool b);
extern void json_write_null(json_writer *w);
extern void json_write_value(json_writer *w, const json_value *v);
extern bool json_append_string(pgr_buf *buf, const char *s, size_t len);

#endif							/* PGR_JSON_H */
