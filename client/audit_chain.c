/*-------------------------------------------------------------------------
 *
 * audit_chain.c
 *	  The audit log's hash chain, checked on the client (audit_chain.h).
 *
 * A row's hash, as extension/audit.c's header defines it: the lowercase hex
 * SHA-256 of "pg_rotate.audit.v1\n" followed, for each field in
 * audit_field's order, by "-\n" for NULL or "<length in characters>:<text>\n".
 * The verdicts use rotate.verify_audit_log()'s words, so that either check
 * reads the same.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "audit_chain.h"

#define AUDIT_HASH_VERSION	"pg_rotate.audit.v1\n"
#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

static bool
is_hex_hash(const char *s, size_t len)
{
	if (len != AUDIT_HASH_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* A decimal id of 1 to 18 digits (what verify_audit_log(anchor) accepts). */
static bool
parse_id(const char *s, size_t len, long long *out)
{
	char		digits[AUDIT_MAX_ID_DIGITS + 1];
	char	   *end;

	if (len == 0 || len > AUDIT_MAX_ID_DIGITS || strspn(s, "0123456789") < len)
		return false;
	memcpy(digits, s, len);
	digits[len] = '\0';
	errno = 0;
	*out = strtoll(digits, &end, 10);
	return errno == 0 && *end == '\0';
}

/*
 * Parse an anchor "<id>:<row_hash>" into *id and hash (AUDIT_HASH_LEN + 1
 * bytes). Returns 0, or -1 with an input error that quotes no more than the
 * anchor's shape.
 */
int
audit_anchor_parse(const char *text, long long *id, char *hash, pgr_error *err)
{
	const char *colon = text ? strchr(text, ':') : NULL;

	if (!colon || !parse_id(text, (size_t) (colon - text), id) ||
		!is_hex_hash(colon + 1, strlen(colon + 1)))
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL, "invalid audit log anchor");
		pgr_error_detail(err, "An anchor is \"<id>:<row_hash>\": 1 to %d digits, a colon and "
						 "%d lowercase hexadecimal digits, as rotate.audit_anchor() returns it.",
						 AUDIT_MAX_ID_DIGITS, AUDIT_HASH_LEN);
		return -1;
	}
	memcpy(hash, colon + 1, AUDIT_HASH_LEN + 1);
	return 0;
}

/* Characters, not bytes, in UTF-8 text: SQL's length(). */
static size_t
utf8_length(const char *s)
{
	size_t		n = 0;

	for (; *s; s++)
		if (((unsigned char) *s & 0xc0) != 0x80)
			n++;
	return n;
}

/*
 * The hash the row must carry, into out (AUDIT_HASH_LEN + 1 bytes).
 * Returns false only when OpenSSL fails.
 */
bool
audit_row_hash(const audit_row *row, char *out)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	bool		ok;

	ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
		EVP_DigestUpdate(md, AUDIT_HASH_VERSION, strlen(AUDIT_HASH_VERSION)) == 1;
	for (int i = 0; ok && i < AUDIT_NFIELDS; i++)
	{
		const char *text = row->field[i];
		char		len[32];

		if (!text)
		{
			ok = EVP_DigestUpdate(md, "-\n", 2) == 1;
			continue;
		}
		snprintf(len, sizeof(len), "%zu:", utf8_length(text));
		ok = EVP_DigestUpdate(md, len, strlen(len)) == 1 &&
			EVP_DigestUpdate(md, text, strlen(text)) == 1 &&
			EVP_DigestUpdate(md, "\n", 1) == 1;
	}
	ok = ok && EVP_DigestFinal_ex(md, digest, &dlen) == 1 && dlen * 2 == AUDIT_HASH_LEN;
	EVP_MD_CTX_free(md);
	if (!ok)
		return false;
	for (unsigned int i = 0; i < dlen; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
	return true;
}

/*
 * Start a check of a log against the anchor (anchor_hash NULL: the chain
 * alone, as verify_audit_log() does).
 */
void
audit_chain_init(audit_chain *chain, long long anchor_id, const char *anchor_hash)
{
	memset(chain, 0, sizeof(*chain));
	chain->verdict.ok = true;
	memcpy(chain->expected_prev, ZERO_HASH, sizeof(chain->expected_prev));
	if (anchor_hash)
	{
		chain->has_anchor = true;
		chain->anchor_id = anchor_id;
		snprintf(chain->anchor_hash, sizeof(chain->anchor_hash), "%s", anchor_hash);
	}
}

static void
first_bad(audit_chain *chain, long long id, const char *problem)
{
	if (!chain->verdict.ok)
		return;
	chain->verdict.ok = false;
	chain->verdict.first_bad_id = id;
	snprintf(chain->verdict.problem, sizeof(chain->verdict.problem), "%s", problem);
}

/*
 * The next row, in id order: its prev_hash must be the row_hash of the row
 * before it (64 zeros for the first) and its row_hash the hash of its
 * fields. Only the first bad row is reported; every row is counted.
 */
void
audit_chain_add(audit_chain *chain, const audit_row *row)
{
	const char *prev = row->field[AUDIT_PREV_HASH];
	const char *id_text = row->field[AUDIT_ID];
	char		computed[AUDIT_HASH_LEN + 1];
	long long	id = 0;

	chain->verdict.rows_checked++;
	if (!id_text || !parse_id(id_text, strlen(id_text), &id) || id <= chain->last_id)
		first_bad(chain, chain->last_id + 1, "a row's id is not a number after the one before it");
	else if (!prev || strcmp(prev, chain->expected_prev) != 0)
		first_bad(chain, id, "prev_hash does not match the row before it");
	else if (!row->row_hash || !audit_row_hash(row, computed) ||
			 strcmp(computed, row->row_hash) != 0)
		first_bad(chain, id, "row_hash does not match the row's contents");
	if (id > chain->last_id)
		chain->last_id = id;
	snprintf(chain->expected_prev, sizeof(chain->expected_prev), "%s",
			 row->row_hash ? row->row_hash : "");
	if (chain->has_anchor && id == chain->anchor_id)
	{
		chain->anchor_row_seen = true;
		chain->anchor_row_matches = row->row_hash &&
			strcmp(row->row_hash, chain->anchor_hash) == 0;
	}
}

/* The verdict, once every row was added (*out may be chain's own). */
void
audit_chain_finish(audit_chain *chain, audit_verdict *out)
{
	audit_verdict *v = &chain->verdict;

	if (v->ok && chain->has_anchor)
	{
		long long	anchor = chain->anchor_id;

		if (chain->anchor_row_seen && !chain->anchor_row_matches)
		{
			v->ok = false;
			v->first_bad_id = anchor;
			snprintf(v->problem, sizeof(v->problem),
					 "row %lld no longer has the anchor's hash: the log was rewritten and "
					 "re-chained up to that row, or restarted (DROP EXTENSION and CREATE "
					 "EXTENSION)", anchor);
		}
		else if (!chain->anchor_row_seen && chain->last_id < anchor)
		{
			char		end[64];

			if (chain->last_id > 0)
				snprintf(end, sizeof(end), "at row %lld", chain->last_id);
			else
				snprintf(end, sizeof(end), "before its first row");
			v->ok = false;
			v->first_bad_id = anchor;
			snprintf(v->problem, sizeof(v->problem),
					 "the log ends %s, before the anchor's row %lld: rows were removed from "
					 "its end, or it was restarted (DROP EXTENSION and CREATE EXTENSION)",
					 end, anchor);
		}
		else if (!chain->anchor_row_seen)
		{
			v->ok = false;
			v->first_bad_id = anchor;
			snprintf(v->problem, sizeof(v->problem),
					 "the anchor's row %lld is missing: the log was rewritten and re-chained",
					 anchor);
		}
	}
	if (out != v)
		*out = *v;
}
