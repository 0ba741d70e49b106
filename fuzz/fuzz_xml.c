/*-------------------------------------------------------------------------
 *
 * fuzz_xml.c
 *	  libFuzzer target: the XML reader (xml.c) and what pg_rotate reads
 *	  with it from AWS's Query protocol answers, which a hostile endpoint
 *	  controls: error documents (aws_parse_error), STS credentials
 *	  (aws_sts_credentials) and RDS's descriptions (rds.h).
 *
 * Input: any bytes, taken as an XML document.
 *
 * Properties: a refusal has a message and a detail; in an accepted tree
 * every element has a name and a text, xml_child and xml_next agree with a
 * walk of the tree, and a path made of the first children's names finds
 * the element it names; error codes and messages fit their buffers;
 * credentials, when found, have every part; an RDS description, when
 * accepted, has an identifier and ports in range; nothing leaks on any
 * path.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_protocol.h"
#include "aws_sts.h"
#include "rds.h"
#include "xml.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond, const char *what)
{
	if (!cond)
	{
		fprintf(stderr, "fuzz_xml: property violated: %s\n", what);
		abort();
	}
}

/* What rds.h reads from any document: whole fields when accepted. */
static void
read_as_rds(const xml_doc *doc)
{
	rds_instance i;
	rds_cluster *c = malloc(sizeof(*c));
	rds_proxy	p;
	rds_proxy_targets *t = malloc(sizeof(*t));
	pgr_error	err;

	if (!c || !t)
		abort();
	if (rds_instance_from_answer(doc, &i, &err) == 0)
		check(i.id[0] && i.port >= 0 && i.port <= 65535 &&
			  memchr(i.address, '\0', sizeof(i.address)), "an instance is whole");
	else
		check(err.message[0] != '\0', "a refused instance says why");
	if (rds_cluster_from_answer(doc, c, &err) == 0)
		check(c->id[0] && c->port >= 0 && c->port <= 65535 &&
			  c->nmembers <= RDS_MAX_MEMBERS && c->ncustom <= RDS_MAX_CUSTOM,
			  "a cluster is whole");
	if (rds_proxy_from_answer(doc, &p, &err) == 0)
		check(p.name[0] != '\0', "a proxy has a name");
	if (rds_proxy_targets_from_answer(doc, t, &err) == 0)
		check(t->ntargets <= RDS_MAX_TARGETS, "targets are bounded");
	free(c);
	free(t);
}

/* Walk each first child's list: names, texts, and xml_next's one name. */
static void
walk(const xml_node *node, int depth)
{
	const xml_node *first = xml_child(node, NULL);

	check(depth <= XML_MAX_DEPTH, "depth is bounded");
	check(xml_name(node) != NULL && xml_text(node) != NULL, "a name and a text");
	for (const xml_node *c = first; c; c = xml_next(c))
	{
		check(strcmp(xml_name(c), xml_name(first)) == 0, "xml_next stays on one name");
		walk(c, depth + 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	xml_doc    *doc = NULL;
	pgr_error	err;
	char		code[16],
				msg[32];

	pgr_error_clear(&err);
	if (xml_parse((const char *) data, size, &doc, &err) == 0)
	{
		const xml_node *root = xml_root(doc);
		const xml_node *first = xml_child(root, NULL);
		aws_credentials creds;

		check(root != NULL, "an accepted document has a root");
		walk(root, 1);
		if (first)
		{
			char		path[512];
			const xml_node *second = xml_child(first, NULL);

			snprintf(path, sizeof(path), "%s%s%s", xml_name(first), second ? "/" : "",
					 second ? xml_name(second) : "");
			if (strlen(xml_name(first)) < 128 && (!second || strlen(xml_name(second)) < 128))
				check(xml_find(root, path) == (second ? second : first),
					  "a path of first children finds its element");
		}
		if (aws_sts_credentials(doc, "AssumeRoleWithWebIdentityResult", "fuzz", &creds,
								&err) == 0)
		{
			check(creds.access_key_id[0] && creds.secret_access_key[0] &&
				  creds.session_token && creds.session_token[0], "credentials are whole");
			aws_credentials_free(&creds);
		}
		read_as_rds(doc);
		xml_free(doc);
	}
	else
	{
		check(doc == NULL, "no document on failure");
		check(err.message[0] != '\0' && err.detail[0] != '\0', "a refusal says why");
	}

	/* as an error answer, into small buffers */
	aws_parse_error(NULL, (const char *) data, size, code, sizeof(code), msg, sizeof(msg));
	check(memchr(code, '\0', sizeof(code)) && memchr(msg, '\0', sizeof(msg)),
		  "code and message are terminated");
	check(strchr(code, ':') == NULL, "a code has no suffix");
	return 0;
}
