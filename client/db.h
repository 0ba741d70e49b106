/*-------------------------------------------------------------------------
 *
 * db.h
 *	  PostgreSQL access for pg_rotate: connecting with a secret, SCRAM
 *	  verifiers, and the calls into the pg_rotate extension.
 *
 * Connections are made with keyword arrays (the password is never pasted
 * into a conninfo string), application_name "pg_rotate", and TLS: sslmode
 * verify-full when a CA is known, else require; plaintext only when the
 * caller asks for sslmode "disable". "allow" and "prefer" are refused, as
 * they may fall back to plaintext silently.
 *
 * No password or verifier is ever sent where the server could log it: see
 * db_set_password() for how the verifier travels.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_DB_H
#define PGR_DB_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "audit_chain.h"
#include "error.h"
#include "resolve_map.h"
#include "secret.h"

/* pipeline mode (db_log_event_and_anchor) came with libpq 14 */
#ifndef LIBPQ_HAS_PIPELINING
#error "pg_rotate needs libpq 14 or later"
#endif

#define DB_DEFAULT_CONNECT_TIMEOUT	10	/* seconds */
#define DB_APPLICATION_NAME			"pg_rotate"
#define DB_LOCK_CLASS				"1886417524"	/* "pgrt": advisory lock class */
#define DB_LOCK_TIMEOUT				"30s"

typedef struct db_options
{
	const char *sslmode;		/* NULL: verify-full with a CA, else require */
	const char *sslrootcert;	/* NULL: $PGSSLROOTCERT, then the secret's */
	const char *dbname;			/* NULL: the secret's dbname */
	const char *host;			/* NULL: the secret's host (and port) */
	int			port;			/* with host */
	const resolve_map *resolve; /* --resolve: addresses to dial, or NULL */
	int			connect_timeout;	/* seconds; <= 0: the default */
} db_options;

extern void db_options_init(db_options *opts);
extern const char *db_effective_sslmode(const pgr_secret *s, const db_options *opts,
										const char **sslrootcert);

extern int	db_connect(const pgr_secret *s, const db_options *opts, PGconn **out,
					   pgr_error *err);
extern void db_disconnect(PGconn *conn);

extern int	db_login_test(const pgr_secret *s, const db_options *opts,
						  double *elapsed_ms, pgr_error *err);

extern int	db_scram_verifier(PGconn *conn, const char *user, const char *password,
							  char **out, pgr_error *err);

extern int	db_has_extension(PGconn *conn, bool *out, bool *has_anchor, pgr_error *err);
extern int	db_set_password(PGconn *admin, const char *target_role,
							const char *verifier, const char *secret_id,
							const char *version_id, long long *audit_id,
							pgr_error *err);
extern int	db_set_password_prepare(PGconn *admin, const char *target_role,
									const char *verifier, const char *secret_id,
									const char *version_id, long long *audit_id,
									pgr_error *err);
extern int	db_commit(PGconn *admin, pgr_error *err);
extern int	db_lock_role(PGconn *admin, const char *target_role, pgr_error *err);
extern void db_rollback(PGconn *admin);
extern int	db_log_event(PGconn *admin, const char *target_role, const char *event,
						 const char *secret_id, const char *version_id,
						 const char *detail_json, long long *audit_id,
						 pgr_error *err);
extern int	db_log_event_and_anchor(PGconn *admin, const char *target_role,
									const char *event, const char *secret_id,
									const char *version_id, const char *detail_json,
									char *anchor, pgr_error *err, pgr_error *anchor_err);
extern int	db_audit_anchor(PGconn *conn, char *anchor, pgr_error *err);
extern int	db_verify_audit_log(PGconn *conn, const char *anchor, audit_verdict *out,
								pgr_error *err);
extern int	db_read_audit_log(PGconn *conn, void (*fn) (void *ctx, const audit_row *row),
							  void *ctx, pgr_error *err);
extern int	db_alter_role_password_direct(PGconn *admin, const char *role,
										  const char *verifier, pgr_error *err);

#endif							/* PGR_DB_H */
