/*-------------------------------------------------------------------------
 *
 * test_file.c
 *	  The one file reader (file.c): whole files, missing ones, read errors
 *	  (never a short read taken for the end), size limits, pipes, and the
 *	  wiping of what was read.
 *
 *-------------------------------------------------------------------------
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "file.h"
#include "freed_memory.h"

static char dir[64];

static int
make_dir(void **state)
{
	(void) state;
	snprintf(dir, sizeof(dir), "/tmp/pgr-test-file-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
remove_dir(void **state)
{
	char		cmd[128];

	(void) state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *
write_file(const char *name, const char *content, size_t len)
{
	static char path[128];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(content, 1, len, f), len);
	fclose(f);
	return path;
}

static void
test_whole_file(void **state)
{
	char		big[10000];
	pgr_buf		b;
	pgr_error	err;

	(void) state;
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(pgr_read_file(write_file("big", big, sizeof(big)), 0, "test file", &b,
								   &err), 1);
	assert_int_equal(b.len, sizeof(big));	/* the NUL byte included */
	assert_int_equal(memcmp(b.data, big, sizeof(big)), 0);
	pgr_buf_free(&b);
	assert_int_equal(pgr_read_file(write_file("empty", "", 0), 0, "test file", &b, &err), 1);
	assert_string_equal(b.data, "");
	assert_int_equal(b.len, 0);
	pgr_buf_free(&b);
}

static void
test_missing_and_errors(void **state)
{
	char		path[128];
	pgr_buf		b;
	pgr_error	err;

	(void) state;
	snprintf(path, sizeof(path), "%s/absent", dir);
	assert_int_equal(pgr_read_file(path, 0, "test file", &b, &err), 0);
	assert_null(b.data);
	/* a directory opens, but reading it fails: an error, not an empty file */
	pgr_error_clear(&err);
	assert_int_equal(pgr_read_file(dir, 0, "secret value file", &b, &err), -1);
	assert_null(b.data);
	assert_int_equal(err.errclass, PGR_ERR_INPUT);
	assert_non_null(strstr(err.message, "could not read secret value file"));
	assert_non_null(strstr(err.message, "Is a directory"));
	snprintf(path, sizeof(path), "%s/big/x", dir);
	write_file("big", "x", 1);
	assert_int_equal(pgr_read_file(path, 0, "test file", &b, &err), -1);
	assert_non_null(strstr(err.message, "could not open test file"));
	assert_non_null(strstr(err.message, "Not a directory"));
}

static void
test_limit(void **state)
{
	pgr_buf		b;
	pgr_error	err;
	char	   *path = write_file("nine", "123456789", 9);

	(void) state;
	assert_int_equal(pgr_read_file(path, 9, "test file", &b, &err), 1);
	pgr_buf_free(&b);
	assert_int_equal(pgr_read_file(path, 8, "test file", &b, &err), -1);
	assert_true(b.overflow);
	assert_null(b.data);
	assert_int_equal(err.errclass, PGR_ERR_INPUT);
	assert_non_null(strstr(err.message, "is larger than 8 bytes"));
}

static void
test_pipe(void **state)
{
	int			fds[2];
	pgr_buf		b;
	pgr_error	err;

	(void) state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "from a pipe", 11), 11);
	close(fds[1]);
	assert_int_equal(pgr_read_fd(fds[0], 0, "output", "cmd", &b, &err), 0);
	close(fds[0]);
	assert_string_equal(b.data, "from a pipe");
	pgr_buf_free(&b);
}

/* What a file held leaves nothing in freed memory, however it grew. */
static void
test_wiped(void **state)
{
	char		text[20000];
	pgr_buf		b;
	pgr_error	err;
	char	   *path;

	(void) state;
	for (size_t i = 0; i < sizeof(text); i += 20)
		memcpy(text + i, "hunter2-MUST-NOT-ST.", 20);
	path = write_file("secret", text, sizeof(text));
	freed_memory_keep(true);
	assert_int_equal(pgr_read_file(path, 0, "test file", &b, &err), 1);
	pgr_buf_free(&b);
	assert_false(freed_memory_holds_str("MUST-NOT-ST"));
	freed_memory_keep(false);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_file),
		cmocka_unit_test(test_missing_and_errors),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_pipe),
		cmocka_unit_test(test_wiped),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
