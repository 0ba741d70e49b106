/*-------------------------------------------------------------------------
 *
 * xml.h
 *	  pg_rotate's XML reader: AWS Query protocol answers (STS, RDS)
 *	  into a small element tree. Pure: no I/O.
 *
 * Parsing is libexpat's; this module builds the tree and answers path
 * questions about it. A document type declaration is refused (so no
 * entity of any kind is defined, let alone fetched), and so is nesting
 * deeper than XML_MAX_DEPTH. Element names lose their namespace prefix.
 *
 * An answer may hold a secret (STS's SecretAccessKey and SessionToken), so
 * every byte is wiped when freed: expat allocates through a memory suite
 * that wipes each block it frees or moves, and the tree lives in one wiping
 * arena (arena.h), released by xml_free().
 *
 * Lists are repeated elements: in
 *	<DBClusterMembers><DBClusterMember>..</DBClusterMember>
 *					  <DBClusterMember>..</DBClusterMember></DBClusterMembers>
 * xml_find(cluster, "DBClusterMembers/DBClusterMember") is the first member
 * and xml_next() the following ones.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_XML_H
#define PGR_XML_H

#include <stddef.h>

#include "error.h"

#define XML_MAX_DEPTH	64

typedef struct xml_doc xml_doc;
typedef struct xml_node xml_node;

extern int	xml_parse(const char *text, size_t len, xml_doc **out, pgr_error *err);
extern void xml_free(xml_doc *doc);
extern const xml_node *xml_root(const xml_doc *doc);

extern const char *xml_name(const xml_node *node);
extern const char *xml_text(const xml_node *node);
extern const xml_node *xml_child(const xml_node *node, const char *name);
extern const xml_node *xml_next(const xml_node *node);
extern const xml_node *xml_find(const xml_node *node, const char *path);
extern const char *xml_find_text(const xml_node *node, const char *path);

#endif							/* PGR_XML_H */
