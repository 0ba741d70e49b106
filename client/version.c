/*-------------------------------------------------------------------------
 *
 * version.c
 *	  The program's and its libraries' versions (see version.h).
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include <curl/curl.h>
#include <expat.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "version.h"

/*
 * One line each, into out (initialized by the caller): "pg_rotate X.Y.Z",
 * then "libpq", "libcurl", "OpenSSL" and "libexpat" with the version each
 * library reports now, which is the one loaded, not the one built against.
 * Returns false when out ran out of memory.
 */
bool
pgr_version_describe(const char *program_version, pgr_buf *out)
{
	int			pq = PQlibVersion();
	const curl_version_info_data *curl = curl_version_info(CURLVERSION_NOW);
	const char *expat = XML_ExpatVersion();
	const char *ssl;

#ifdef OPENSSL_VERSION_STRING
	ssl = OpenSSL_version(OPENSSL_VERSION_STRING);
#else
	ssl = OpenSSL_version(OPENSSL_VERSION);
	if (strncmp(ssl, "OpenSSL ", 8) == 0)
		ssl += 8;
#endif
	/* expat says "expat_2.5.0" */
	if (strncmp(expat, "expat_", 6) == 0)
		expat += 6;
	pgr_buf_printf(out, "pg_rotate %s\n", program_version);
	/* since PostgreSQL 10, 150005 is 15.5 */
	pgr_buf_printf(out, "libpq %d.%d\n", pq / 10000, pq % 10000);
	pgr_buf_printf(out, "libcurl %s\n", curl && curl->version ? curl->version : "unknown");
	pgr_buf_printf(out, "OpenSSL %s\n", ssl);
	pgr_buf_printf(out, "libexpat %s\n", expat);
	return !out->oom;
}
