/*-------------------------------------------------------------------------
 *
 * xml.c
 *	  An element tree from libexpat, in wiping memory (see xml.h).
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "arena.h"
#include "buf.h"
#include "xml.h"

struct xml_node
{
	const char *name;			/* without a namespace prefix */
	const char *text;			/* character data directly inside, "" if none */
	xml_node   *first;			/* child elements */
	xml_node   *last;
	xml_node   *next;			/* the next sibling element */
};

struct xml_doc
{
	pgr_arena	arena;
	xml_node   *root;
};

/* What expat's callbacks build with. */
typedef struct builder
{
	XML_Parser	parser;
	xml_doc    *doc;
	xml_node   *open[XML_MAX_DEPTH];	/* the elements not closed yet */
	pgr_buf		text[XML_MAX_DEPTH];	/* their character data so far */
	int			depth;
	const char *problem;		/* why the builder stopped the parser */
} builder;

/* ----- expat's memory, wiped ---------------------------------------------- */

/* Each block remembers its size, so that it can be wiped when it goes. */
typedef union block_header
{
	size_t		size;
	max_align_t align;
} block_header;

static void *
wiping_malloc(size_t size)
{
	block_header *h;

	if (size > SIZE_MAX - sizeof(block_header))
		return NULL;
	h = malloc(sizeof(block_header) + size);
	if (!h)
		return NULL;
	h->size = size;
	return h + 1;
}

static void
wiping_free(void *p)
{
	block_header *h;

	if (!p)
		return;
	h = (block_header *) p - 1;
	pgr_wipe(p, h->size);
	free(h);
}

/* Never realloc(): the old block would be freed unwiped. */
static void *
wiping_realloc(void *p, size_t size)
{
	void	   *q;
	size_t		old;

	if (!p)
		return wiping_malloc(size);
	q = wiping_malloc(size);
	if (!q)
		return NULL;
	old = ((block_header *) p - 1)->size;
	memcpy(q, p, old < size ? old : size);
	wiping_free(p);
	return q;
}

static const XML_Memory_Handling_Suite wiping_memory = {
	wiping_malloc, wiping_realloc, wiping_free
};

/* ----- building the tree ------------------------------------------------ */

static void
stop(builder *b, const char *problem)
{
	if (!b->problem)
		b->problem = problem;
	XML_StopParser(b->parser, XML_FALSE);
}

static void XMLCALL
on_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
	builder    *b = arg;
	const char *colon = strrchr(name, ':');
	xml_node   *node;

	(void) attrs;
	if (b->problem)
		return;
	if (b->depth >= XML_MAX_DEPTH)
	{
		stop(b, "elements nested deeper than the limit");
		return;
	}
	node = pgr_arena_alloc(&b->doc->arena, sizeof(xml_node));
	if (node)
		node->name = pgr_arena_strndup(&b->doc->arena, colon ? colon + 1 : name,
									   strlen(colon ? colon + 1 : name));
	if (!node || !node->name)
	{
		stop(b, "out of memory");
		return;
	}
	if (b->depth == 0)
		b->doc->root = node;
	else
	{
		xml_node   *parent = b->open[b->depth - 1];

		if (parent->last)
			parent->last->next = node;
		else
			parent->first = node;
		parent->last = node;
	}
	b->open[b->depth] = node;
	pgr_buf_init(&b->text[b->depth], 0);
	b->depth++;
}

static void XMLCALL
on_end(void *arg, const XML_Char *name)
{
	builder    *b = arg;
	pgr_buf    *text;
	xml_node   *node;

	(void) name;
	if (b->problem || b->depth == 0)
		return;
	b->depth--;
	node = b->open[b->depth];
	text = &b->text[b->depth];
	node->text = pgr_arena_strndup(&b->doc->arena, text->data ? text->data : "", text->len);
	if (!node->text || text->oom)
		stop(b, "out of memory");
	pgr_buf_free(text);
}

static void XMLCALL
on_text(void *arg, const XML_Char *s, int len)
{
	builder    *b = arg;

	if (b->problem || b->depth == 0 || len <= 0)
		return;
	if (!pgr_buf_append(&b->text[b->depth - 1], s, (size_t) len))
		stop(b, "out of memory");
}

static void XMLCALL
on_doctype(void *arg, const XML_Char *name, const XML_Char *sysid,
		   const XML_Char *pubid, int has_internal_subset)
{
	(void) name;
	(void) sysid;
	(void) pubid;
	(void) has_internal_subset;
	stop(arg, "a document type declaration");
}

/*
 * Parse text[0..len) into a tree. On success *out owns it (xml_free). On
 * failure err says "not valid XML" and why, never what the document held;
 * nothing is left allocated.
 */
int
xml_parse(const char *text, size_t len, xml_doc **out, pgr_error *err)
{
	builder		b;
	int			rc = -1;

	memset(&b, 0, sizeof(b));
	if (len > INT_MAX)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL, "not valid XML");
		pgr_error_detail(err, "The document is larger than %d bytes.", INT_MAX);
		return -1;
	}
	b.doc = calloc(1, sizeof(xml_doc));
	if (b.doc)
		b.parser = XML_ParserCreate_MM(NULL, &wiping_memory, NULL);
	if (!b.doc || !b.parser)
	{
		free(b.doc);
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		return -1;
	}
	pgr_arena_init(&b.doc->arena, len + 512);
	XML_SetUserData(b.parser, &b);
	XML_SetElementHandler(b.parser, on_start, on_end);
	XML_SetCharacterDataHandler(b.parser, on_text);
	XML_SetStartDoctypeDeclHandler(b.parser, on_doctype);
	XML_SetParamEntityParsing(b.parser, XML_PARAM_ENTITY_PARSING_NEVER);

	if (XML_Parse(b.parser, text ? text : "", (int) (text ? len : 0), XML_TRUE) !=
		XML_STATUS_OK || b.problem)
	{
		pgr_error_set(err, b.problem && strcmp(b.problem, "out of memory") == 0 ?
					  PGR_ERR_INTERNAL : PGR_ERR_INPUT, NULL, "not valid XML");
		if (b.problem)
			pgr_error_detail(err, "The document has %s.", b.problem);
		else
		{
			char		what[128];

			/* expat's words, as a sentence: "Mismatched tag at line 1, ..." */
			snprintf(what, sizeof(what), "%s", XML_ErrorString(XML_GetErrorCode(b.parser)));
			what[0] = (char) toupper((unsigned char) what[0]);
			pgr_error_detail(err, "%s at line %lu, column %lu.", what,
							 (unsigned long) XML_GetCurrentLineNumber(b.parser),
							 (unsigned long) XML_GetCurrentColumnNumber(b.parser));
		}
		goto done;
	}
	*out = b.doc;
	b.doc = NULL;
	rc = 0;

done:
	for (int i = 0; i < XML_MAX_DEPTH; i++)
		pgr_buf_free(&b.text[i]);
	XML_ParserFree(b.parser);
	xml_free(b.doc);
	return rc;
}

/* Wipe and free a tree; NULL is allowed. */
void
xml_free(xml_doc *doc)
{
	if (!doc)
		return;
	pgr_arena_free(&doc->arena);
	free(doc);
}

const xml_node *
xml_root(const xml_doc *doc)
{
	return doc ? doc->root : NULL;
}

const char *
xml_name(const xml_node *node)
{
	return node ? node->name : NULL;
}

/* The character data directly inside node ("" if none, NULL if no node). */
const char *
xml_text(const xml_node *node)
{
	return node ? node->text : NULL;
}

/* node's first child element named name (any name when NULL), or NULL. */
const xml_node *
xml_child(const xml_node *node, const char *name)
{
	for (const xml_node *c = node ? node->first : NULL; c; c = c->next)
		if (!name || strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/* The next sibling element with node's name: the next item of a list. */
const xml_node *
xml_next(const xml_node *node)
{
	for (const xml_node *s = node ? node->next : NULL; s; s = s->next)
		if (strcmp(s->name, node->name) == 0)
			return s;
	return NULL;
}

/*
 * The element at path below node: names separated by '/', each step the
 * first child of that name ("AssumeRoleResult/Credentials/SessionToken").
 */
const xml_node *
xml_find(const xml_node *node, const char *path)
{
	char		step[128];

	while (node && *path)
	{
		size_t		n = strcspn(path, "/");

		if (n >= sizeof(step))
			return NULL;
		memcpy(step, path, n);
		step[n] = '\0';
		node = xml_child(node, step);
		path += n;
		if (*path == '/')
			path++;
	}
	return node;
}

/* The text of the element at path, or NULL when there is none. */
const char *
xml_find_text(const xml_node *node, const char *path)
{
	return xml_text(xml_find(node, path));
}
