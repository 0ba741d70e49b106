/*-------------------------------------------------------------------------
 *
 * test_scram.c
 *	  Unit tests of client/scram.c and db_scram_verifier() (no server).
 *
 * The known answers were computed independently with Python's standard
 * library (hashlib.pbkdf2_hmac, hmac, base64), not with this code:
 *
 *	sp  = hashlib.pbkdf2_hmac('sha256', pw.encode(), salt, it)
 *	ck  = hmac.new(sp, b'Client Key', hashlib.sha256).digest()
 *	sk  = hashlib.sha256(ck).digest()
 *	srv = hmac.new(sp, b'Server Key', hashlib.sha256).digest()
 *	f"SCRAM-SHA-256${it}:{b64(salt)}${b64(sk)}:{b64(srv)}"
 *
 * libpq's own PQencryptPasswordConn is a second, independent check: the
 * salt and iteration count of its (random) verifier are fed back into
 * scram_build_verifier() and the keys must come out identical.
 *
 *-------------------------------------------------------------------------
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <openssl/evp.h>

#include "buf.h"
#include "db.h"
#include "scram.h"

typedef struct kat
{
	const char *password;
	unsigned char salt[16];
	int			iterations;
	const char *expected;
} kat;

static const kat kats[] = {
	{"pencil",
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, 4096,
	"SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw==$zHCdol2044/ZyWzPLi7oxApCkamKw9Z+E4U/QApd/5Y=:dd5peBOitVnLNFu7VmwP+HiDaaw4OUCv396eVCWhYiE="},
	{"correct horse battery staple",
		"pg_rotate-salt!!", 4096,
	"SCRAM-SHA-256$4096:cGdfcm90YXRlLXNhbHQhIQ==$iPA1TclxkoPrV1UxG55rS4aKLlvWB/v6E57BZHi//88=:r/abF+dNRqf/OK//CbHx8sgAgu3M31UzCkYDR7tTBr8="},
	{"x",
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 1,
	"SCRAM-SHA-256$1://///////////////////w==$pBCfaLPMFMj4w4eRTn729+i/4D2XauGYufVA2/Wibs0=:j7O+Jv5fRNKFWwRcnX/pbNhqyC4WFIusrSxoA5udEHg="},
	{"p@ss:w\"rd\\'`~ ",
		{100, 101, 102, 103, 104, 105, 106, 107,
		108, 109, 110, 111, 112, 113, 114, 115}, 10000,
	"SCRAM-SHA-256$10000:ZGVmZ2hpamtsbW5vcHFycw==$uZHdNOJhxNkRsvLpcZAFYvp078ckqvb+ZZLTDabig1A=:RN+NZglS0usdqSWUiutkUOhmHtkDalE0oDmN006jIPg="},
};

/* The pure verifier matches values computed independently with Python. */
static void
test_known_answers(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(kats) / sizeof(kats[0]); i++)
	{
		char	   *v = NULL;
		pgr_error	err;

		assert_int_equal(scram_build_verifier(kats[i].password, kats[i].salt, 16,
											  kats[i].iterations, &v, &err), 0);
		assert_string_equal(v, kats[i].expected);
		assert_true(scram_verifier_is_valid(v));
		pgr_free_secret(v);
	}
}

/* Defaults: 4096 iterations, a fresh 16-byte salt each time. */
static void
test_make_verifier_defaults(void **state)
{
	char	   *a = NULL;
	char	   *b = NULL;
	pgr_error	err;
	const char *salt;
	const char *end;

	(void) state;
	assert_int_equal(scram_make_verifier("secret", &a, &err), 0);
	assert_int_equal(scram_make_verifier("secret", &b, &err), 0);
	assert_true(scram_verifier_is_valid(a));
	assert_string_not_equal(a, b);
	assert_memory_equal(a, "SCRAM-SHA-256$4096:", strlen("SCRAM-SHA-256$4096:"));
	salt = a + strlen("SCRAM-SHA-256$4096:");
	end = strchr(salt, '$');
	assert_non_null(end);
	assert_int_equal(end - salt, 24);	/* base64 of 16 bytes */
	pgr_free_secret(a);
	pgr_free_secret(b);
}

/* Bad arguments and non-ASCII passwords are refused with a message. */
static void
test_build_refusals(void **state)
{
	unsigned char salt[16] = {0};
	char	   *v = NULL;
	pgr_error	err;

	(void) state;
	assert_int_equal(scram_build_verifier("pw", salt, 0, 4096, &v, &err), -1);
	assert_int_equal(scram_build_verifier("pw", salt, 16, 0, &v, &err), -1);
	assert_int_equal(scram_build_verifier("pw", salt, SCRAM_MAX_SALT_LEN + 1, 4096,
										  &v, &err), -1);
	assert_int_equal(scram_build_verifier(NULL, salt, 16, 4096, &v, &err), -1);
	assert_int_equal(scram_build_verifier("p\xc3\xa4ss", salt, 16, 4096, &v, &err), -1);
	assert_int_equal(err.errclass, PGR_ERR_INPUT);
	assert_non_null(strstr(err.message, "non-ASCII"));
	assert_null(v);
	assert_true(scram_password_is_ascii("plain ascii \t~"));
	assert_false(scram_password_is_ascii("\x80"));
}

/* The shape check accepts real verifiers and refuses every near miss. */
static void
test_verifier_shape(void **state)
{
	static const char *const bad[] = {
		"",
		"secret",
		"md5d41d8cd98f00b204e9800998ecf8427e",
		"SCRAM-SHA-256$",
		"SCRAM-SHA-256$4096",
		"SCRAM-SHA-256$0:AAECAwQFBgcICQoLDA0ODw==$zHCdol2044/ZyWzPLi7oxApCkamKw9Z+E4U/QApd/5Y=:dd5peBOitVnLNFu7VmwP+HiDaaw4OUCv396eVCWhYiE=",
		"SCRAM-SHA-256$04096:AAECAwQFBgcICQoLDA0ODw==$zHCdol2044/ZyWzPLi7oxApCkamKw9Z+E4U/QApd/5Y=:dd5peBOitVnLNFu7VmwP+HiDaaw4OUCv396eVCWhYiE=",
		"SCRAM-SHA-256$99999999999:AAECAwQFBgcICQoLDA0ODw==$zHCdol2044/ZyWzPLi7oxApCkamKw9Z+E4U/QApd/5Y=:dd5peBOitVnLNFu7VmwP+HiDaaw4OUCv396eVCWhYiE=",
		"SCRAM-SHA-256$4096:$zHCdol2044/ZyWzPLi7oxApCkamKw9Z+E4U/QApd/5Y=:dd5peBOitVnLNFu7VmwP+HiDaaw4OUCv396eVCWhYiE=",
		"SCRAM-SHA-256$4096:AAEC'wQF$zHCdol2044/ZyWzPLi7oxApCkamKw9Z+E4U/QApd/5Y=:dd5peBOitVnLNFu7VmwP+HiDaaw4OUCv396eVCWhYiE=",
		"SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw==$zHCdol2044/ZyWzPLi7oxApCkamKw9Z+E4U/QApd/5Y=",
		"SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw==$zHCdol2044/ZyWzPLi7oxApCkamKw9Z+E4U/QApd/5Y=:dd5peBOitVnLNFu7VmwP",
		"SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw==$zHCdol2044/ZyWzPLi7oxApCkamKw9Z+E4U/QApd/5Y=:dd5peBOitVnLNFu7VmwP+HiDaaw4OUCv396eVCWhYiE= ",
		"SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw==$zHCdol2044/ZyWzPLi7oxApCkamKw9Z+E4U/QApd/5Y=:dd5peBOitVnLNFu7VmwP+HiDaaw4OUCv396eVCWhYiE=\n",
		"SCRAM-SHA-256$4096:AA=CAwQFBgcICQoLDA0ODw==$zHCdol2044/ZyWzPLi7oxApCkamKw9Z+E4U/QApd/5Y=:dd5peBOitVnLNFu7VmwP+HiDaaw4OUCv396eVCWhYiE=",
		"scram-sha-256$4096:AAECAwQFBgcICQoLDA0ODw==$zHCdol2044/ZyWzPLi7oxApCkamKw9Z+E4U/QApd/5Y=:dd5peBOitVnLNFu7VmwP+HiDaaw4OUCv396eVCWhYiE=",
	};

	(void) state;
	assert_false(scram_verifier_is_valid(NULL));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		if (scram_verifier_is_valid(bad[i]))
			fail_msg("accepted bad verifier #%zu", i);
	}
	for (size_t i = 0; i < sizeof(kats) / sizeof(kats[0]); i++)
		assert_true(scram_verifier_is_valid(kats[i].expected));
}

/*
 * Split "SCRAM-SHA-256$<iter>:<salt>$..." into iterations and decoded salt.
 */
static void
parse_iter_salt(const char *v, int *iter, unsigned char *salt, size_t *saltlen)
{
	const char *p = v + strlen("SCRAM-SHA-256$");
	const char *colon = strchr(p, ':');
	const char *dollar = strchr(p, '$');
	char		b64[128];
	int			n;
	size_t		len;

	assert_non_null(colon);
	assert_non_null(dollar);
	*iter = (int) strtol(p, NULL, 10);
	len = (size_t) (dollar - colon - 1);
	assert_true(len < sizeof(b64));
	memcpy(b64, colon + 1, len);
	b64[len] = '\0';
	n = EVP_DecodeBlock(salt, (const unsigned char *) b64, (int) len);
	assert_true(n > 0);
	/* EVP_DecodeBlock counts padding bytes too */
	while (len > 0 && b64[len - 1] == '=')
	{
		n--;
		len--;
	}
	*saltlen = (size_t) n;
}

/* Compute libpq's verifier for password and check ours agrees, same salt. */
static void
check_agrees_with_libpq(PGconn *scratch, const char *libpq_pw, const char *our_pw)
{
	char	   *enc = PQencryptPasswordConn(scratch, libpq_pw, "app", "scram-sha-256");
	char	   *ours = NULL;
	unsigned char salt[SCRAM_MAX_SALT_LEN];
	size_t		saltlen = 0;
	int			iter = 0;
	pgr_error	err;

	assert_non_null(enc);
	assert_true(scram_verifier_is_valid(enc));
	parse_iter_salt(enc, &iter, salt, &saltlen);
	assert_int_equal(saltlen, 16);
	assert_int_equal(scram_build_verifier(our_pw, salt, saltlen, iter, &ours, &err), 0);
	assert_string_equal(ours, enc);
	pgr_free_secret(ours);
	PQfreemem(enc);
}

/* Our OpenSSL verifier equals libpq's for the same salt and iterations. */
static void
test_agrees_with_libpq(void **state)
{
	static const char *const pws[] = {
		"pencil", "a", "Zx9!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ spaces",
		"tab\tand\nnewline are ASCII too",
		"0123456789012345678901234567890123456789012345678901234567890123456789",
	};
	PGconn	   *scratch = PQconnectdb("pg_rotate_no_connection=1");

	(void) state;
	assert_non_null(scratch);
	for (size_t i = 0; i < sizeof(pws) / sizeof(pws[0]); i++)
		check_agrees_with_libpq(scratch, pws[i], pws[i]);

	/*
	 * SASLprep: libpq maps U+00A0 (no-break space) to a plain space first,
	 * which is why non-ASCII passwords go through libpq.
	 */
	check_agrees_with_libpq(scratch, "pass\xc2\xa0word", "pass word");
	PQfinish(scratch);
}

/* db_scram_verifier without a connection: valid for ASCII and non-ASCII. */
static void
test_db_verifier_without_connection(void **state)
{
	char	   *v = NULL;
	pgr_error	err;

	(void) state;
	assert_int_equal(db_scram_verifier(NULL, "app", "ascii-pw", &v, &err), 0);
	assert_true(scram_verifier_is_valid(v));
	pgr_free_secret(v);
	v = NULL;
	assert_int_equal(db_scram_verifier(NULL, "app", "gr\xc3\xbc\xc3\x9f" "e", &v, &err), 0);
	assert_true(scram_verifier_is_valid(v));
	pgr_free_secret(v);
	v = NULL;
	assert_int_equal(db_scram_verifier(NULL, NULL, "x", &v, &err), -1);
	assert_null(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_make_verifier_defaults),
		cmocka_unit_test(test_build_refusals),
		cmocka_unit_test(test_verifier_shape),
		cmocka_unit_test(test_agrees_with_libpq),
		cmocka_unit_test(test_db_verifier_without_connection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
