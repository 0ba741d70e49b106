/*-------------------------------------------------------------------------
 *
 * aws_ini.h
 *	  The AWS config and credentials files' format: "[section]" headers,
 *	  "key = value" lines, full-line comments, and nested settings (a key
 *	  with an empty value followed by indented "sub = value" lines, stored
 *	  as "key.sub"). Pure: the text is passed in.
 *
 * Values may be secret keys: every line read and every value kept is wiped
 * when it is freed.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_AWS_INI_H
#define PGR_AWS_INI_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

typedef struct aws_ini aws_ini;

extern int	aws_ini_parse(const char *text, size_t len, aws_ini **out, pgr_error *err);
extern const char *aws_ini_get(const aws_ini *ini, const char *section, const char *key);
extern bool aws_ini_has_section(const aws_ini *ini, const char *section);
extern void aws_ini_free(aws_ini *ini);

#endif							/* PGR_AWS_INI_H */
