/*-------------------------------------------------------------------------
 *
 * version.h
 *	  What "pg_rotate --version" says: the program's version (the
 *	  release's, from META.json through the build) and the versions of the
 *	  libraries it runs with, as they report themselves at run time (the
 *	  Lambda package bundles its own).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_VERSION_H
#define PGR_VERSION_H

#include <stdbool.h>

#include "buf.h"

extern bool pgr_version_describe(const char *program_version, pgr_buf *out);

#endif							/* PGR_VERSION_H */
