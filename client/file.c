/*-------------------------------------------------------------------------
 *
 * file.c
 *	  Reading whole files into wiping buffers, read errors included.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "file.h"

/*
 * Read fd to its end into out (initialized here, with limit as its size
 * limit; 0: none). what and name are for messages ("AWS config file",
 * "/home/x/.aws/config"). Returns 0, or -1 with err filled: a read error
 * (errclass PGR_ERR_INPUT) or more than limit bytes (the same, and
 * out->overflow set so that the caller may say it its own way). out is
 * empty (its data "") after an empty read, and freed after an error.
 */
int
pgr_read_fd(int fd, size_t limit, const char *what, const char *name, pgr_buf *out,
			pgr_error *err)
{
	char		chunk[4096];
	ssize_t		n;
	int			rc = -1;

	pgr_buf_init(out, limit);
	for (;;)
	{
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (!pgr_buf_append(out, chunk, (size_t) n))
		{
			if (out->overflow)
			{
				pgr_error_set(err, PGR_ERR_INPUT, NULL,
							  "%s \"%s\" is larger than %zu bytes", what, name, limit);
				goto done;
			}
			pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
			goto done;
		}
	}
	if (n < 0)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL, "could not read %s \"%s\": %s",
					  what, name, strerror(errno));
		goto done;
	}
	if (!out->data && !pgr_buf_append(out, "", 0))
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		goto done;
	}
	rc = 0;

done:
	pgr_wipe(chunk, sizeof(chunk));
	if (rc != 0)
	{
		bool		overflow = out->overflow;

		pgr_buf_free(out);
		out->overflow = overflow;
	}
	return rc;
}

/*
 * Read the file at path (see pgr_read_fd). Returns 1 when read, 0 when it
 * does not exist (out empty), -1 on any other error.
 */
int
pgr_read_file(const char *path, size_t limit, const char *what, pgr_buf *out,
			  pgr_error *err)
{
	int			fd = open(path, O_RDONLY | O_CLOEXEC);
	int			rc;

	if (fd < 0)
	{
		pgr_buf_init(out, limit);
		if (errno == ENOENT)
			return 0;
		pgr_error_set(err, PGR_ERR_INPUT, NULL, "could not open %s \"%s\": %s",
					  what, path, strerror(errno));
		return -1;
	}
	rc = pgr_read_fd(fd, limit, what, path, out, err);
	close(fd);
	return rc == 0 ? 1 : -1;
}
