/*-------------------------------------------------------------------------
 *
 * file.h
 *	  The client's one way to read a file, a pipe or standard input.
 *
 * Everything lands in a pgr_buf (buf.h), so a file that holds a secret (a
 * credentials file, a secret value, a token) leaves no copy in freed
 * memory. A read error is an error, never a short read taken for the end
 * of the file: a secret cut short must not be uploaded as if whole.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_FILE_H
#define PGR_FILE_H

#include <stddef.h>

#include "buf.h"
#include "error.h"

extern int	pgr_read_fd(int fd, size_t limit, const char *what, const char *name,
						pgr_buf *out, pgr_error *err);
extern int	pgr_read_file(const char *path, size_t limit, const char *what,
						  pgr_buf *out, pgr_error *err);

#endif							/* PGR_FILE_H */
