/*-------------------------------------------------------------------------
 *
 * test_audit_chain.c
 *	  The audit log's chain checked on the client (audit_chain.c): anchors,
 *	  row hashes (vectors computed by the extension's own
 *	  rotate.audit_row_hash() on PostgreSQL 15), and the verdict on logs
 *	  cut, re-chained or edited. test/test_audit_anchor.py checks the same
 *	  against real logs.
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

#include <cmocka.h>

#include "audit_chain.h"

#define ZEROS	"0000000000000000000000000000000000000000000000000000000000000000"
#define ONES	"1111111111111111111111111111111111111111111111111111111111111111"

/*
 * SELECT rotate.audit_row_hash(ROW(5, '2026-01-02 03:04:05.123456+00',
 *   'rotator', 'app', 'finished', 'arn:x', 'v-1', '127.0.0.1/32', 'pg_rotate',
 *   '{"lag_ms": 2.5, "é": "ü"}', repeat('0',64), repeat('a',64))::rotate.audit_log)
 */
static const audit_row vector1 = {
	{"5", "2026-01-02T03:04:05.123456Z", "rotator", "app", "finished", "arn:x", "v-1",
	 "127.0.0.1/32", "pg_rotate", "{\"\xc3\xa9\": \"\xc3\xbc\", \"lag_ms\": 2.5}", ZEROS},
	"a97a9cbef209abbfc4e3628ba15800c473fc3cb1cf22099e9fe57f88e5bd271d"
};

/* ROW(6, '2026-01-02 03:04:05+00', 'postgres', NULL, 'role_added', NULL, NULL,
 *     NULL, NULL, '{}', repeat('1',64), ...) */
static const audit_row vector2 = {
	{"6", "2026-01-02T03:04:05.000000Z", "postgres", NULL, "role_added", NULL, NULL,
	 NULL, NULL, "{}", ONES},
	"f52095da85af0b1cd3c9b90757c3b6d2dd062e804702f6dc635e79e3a2d9dfa7"
};

static void
test_row_hash_vectors(void **state)
{
	char		hash[AUDIT_HASH_LEN + 1];

	(void) state;
	assert_true(audit_row_hash(&vector1, hash));
	assert_string_equal(hash, vector1.row_hash);
	assert_true(audit_row_hash(&vector2, hash));
	assert_string_equal(hash, vector2.row_hash);
}

static void
test_anchor_parse(void **state)
{
	long long	id;
	char		hash[AUDIT_HASH_LEN + 1];
	pgr_error	err;

	(void) state;
	assert_int_equal(audit_anchor_parse("42:" ZEROS, &id, hash, &err), 0);
	assert_int_equal(id, 42);
	assert_string_equal(hash, ZEROS);
	assert_int_equal(audit_anchor_parse("123456789012345678:" ONES, &id, hash, &err), 0);
	assert_int_equal(id, 123456789012345678LL);
	assert_int_equal(audit_anchor_parse("1234567890123456789:" ONES, &id, hash, &err), -1);
	assert_int_equal(audit_anchor_parse("42:" ZEROS "0", &id, hash, &err), -1);
	/* upper case is not what the server writes */
	assert_int_equal(audit_anchor_parse("42:A000000000000000000000000000000000000000000000000000"
										"000000000000", &id, hash, &err), -1);
	assert_int_equal(audit_anchor_parse("-4:" ZEROS, &id, hash, &err), -1);
	assert_int_equal(audit_anchor_parse(":" ZEROS, &id, hash, &err), -1);
	assert_int_equal(audit_anchor_parse("42", &id, hash, &err), -1);
	assert_int_equal(audit_anchor_parse(NULL, &id, hash, &err), -1);
	assert_string_equal(err.message, "invalid audit log anchor");
}

/* A log of n rows chained properly, ids 1..n: rows[i] and their hashes. */
typedef struct log
{
	char		ids[8][4];
	char		hashes[8][AUDIT_HASH_LEN + 1];
	audit_row	rows[8];
	int			n;
} log;

static void
make_log(log *l, int n)
{
	l->n = n;
	for (int i = 0; i < n; i++)
	{
		audit_row  *r = &l->rows[i];

		memset(r, 0, sizeof(*r));
		snprintf(l->ids[i], sizeof(l->ids[i]), "%d", i + 1);
		r->field[AUDIT_ID] = l->ids[i];
		r->field[AUDIT_LOGGED_AT] = "2026-01-02T03:04:05.000000Z";
		r->field[AUDIT_ACTOR] = "rotator";
		r->field[AUDIT_EVENT] = "tested";
		r->field[AUDIT_DETAIL] = "{}";
		r->field[AUDIT_PREV_HASH] = i == 0 ? ZEROS : l->hashes[i - 1];
		assert_true(audit_row_hash(r, l->hashes[i]));
		r->row_hash = l->hashes[i];
	}
}

static audit_verdict
check(const log *l, long long anchor_id, const char *anchor_hash)
{
	audit_chain chain;
	audit_verdict v;

	audit_chain_init(&chain, anchor_id, anchor_hash);
	for (int i = 0; i < l->n; i++)
		audit_chain_add(&chain, &l->rows[i]);
	audit_chain_finish(&chain, &v);
	return v;
}

static void
test_verdicts(void **state)
{
	log			l;
	char		anchor_hash[AUDIT_HASH_LEN + 1];
	audit_verdict v;

	(void) state;
	make_log(&l, 5);
	snprintf(anchor_hash, sizeof(anchor_hash), "%s", l.hashes[3]);

	/* whole: the chain alone, and against the anchor of row 4 */
	v = check(&l, 0, NULL);
	assert_true(v.ok);
	assert_int_equal(v.rows_checked, 5);
	v = check(&l, 4, anchor_hash);
	assert_true(v.ok);
	assert_string_equal(v.problem, "");

	/* the newest rows deleted: the chain holds, the anchor does not */
	l.n = 3;
	v = check(&l, 0, NULL);
	assert_true(v.ok);
	v = check(&l, 4, anchor_hash);
	assert_false(v.ok);
	assert_int_equal(v.first_bad_id, 4);
	assert_string_equal(v.problem, "the log ends at row 3, before the anchor's row 4: rows were "
						"removed from its end, or it was restarted (DROP EXTENSION and CREATE "
						"EXTENSION)");
	l.n = 0;
	v = check(&l, 4, anchor_hash);
	assert_false(v.ok);
	assert_non_null(strstr(v.problem, "the log ends before its first row, before the anchor's row 4"));

	/* row 2 edited and everything after re-chained: only the anchor sees it */
	make_log(&l, 5);
	l.rows[1].field[AUDIT_TARGET] = "someone_else";
	for (int i = 1; i < 5; i++)
	{
		l.rows[i].field[AUDIT_PREV_HASH] = l.hashes[i - 1];
		assert_true(audit_row_hash(&l.rows[i], l.hashes[i]));
	}
	assert_true(check(&l, 0, NULL).ok);
	v = check(&l, 4, anchor_hash);
	assert_false(v.ok);
	assert_int_equal(v.first_bad_id, 4);
	assert_non_null(strstr(v.problem, "row 4 no longer has the anchor's hash"));

	/* an edit without re-chaining: the chain finds the row */
	make_log(&l, 5);
	l.rows[2].field[AUDIT_EVENT] = "finished";
	v = check(&l, 4, anchor_hash);
	assert_false(v.ok);
	assert_int_equal(v.first_bad_id, 3);
	assert_string_equal(v.problem, "row_hash does not match the row's contents");
	assert_int_equal(v.rows_checked, 5);

	/* a row taken out of the middle: the next one does not link */
	make_log(&l, 5);
	memmove(&l.rows[2], &l.rows[3], 2 * sizeof(audit_row));
	l.n = 4;
	v = check(&l, 0, NULL);
	assert_false(v.ok);
	assert_int_equal(v.first_bad_id, 4);
	assert_string_equal(v.problem, "prev_hash does not match the row before it");

	/* the anchor's row renumbered away, the log longer than it */
	make_log(&l, 5);
	l.rows[3].field[AUDIT_ID] = "40";
	l.rows[4].field[AUDIT_ID] = "41";
	for (int i = 3; i < 5; i++)
	{
		l.rows[i].field[AUDIT_PREV_HASH] = l.hashes[i - 1];
		assert_true(audit_row_hash(&l.rows[i], l.hashes[i]));
	}
	v = check(&l, 4, anchor_hash);
	assert_false(v.ok);
	assert_string_equal(v.problem, "the anchor's row 4 is missing: the log was rewritten and re-chained");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_row_hash_vectors),
		cmocka_unit_test(test_anchor_parse),
		cmocka_unit_test(test_verdicts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
