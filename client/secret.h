/*-------------------------------------------------------------------------
 *
 * secret.h
 *	  The database secret (Secrets Manager's RDS JSON format) and local
 *	  password generation. Pure: no I/O, no clock.
 *
 *	{"engine":"postgres","host":"db.example.com","port":5432,"dbname":"app",
 *	 "username":"app","password":"...","masterarn":"arn:..."}
 *
 * username and password are required. host is required of a rotated
 * secret (the caller checks: an RDS-managed admin secret holds only username
 * and password, see topology.h). engine ("postgres" or "aurora-postgresql"
 * when present), port (number or decimal string, default 5432), dbname
 * (default "postgres"), ssl (bool or "true" / "false"), sslrootcert and
 * masterarn are optional. Every other key is kept as it was and written
 * back by secret_with_password(), in the same order.
 *
 * One key is pg_rotate's own: SECRET_ANCHOR_KEY, the audit log's anchor
 * ("<id>:<row_hash>") taken when the version was made, with
 * --anchor-in-secret. secret_with_password_and_anchor() writes it for a new
 * version, or leaves it out: a version never carries an older one's.
 *
 * Ownership: secret_parse() gives the caller a pgr_secret to release with
 * secret_free(), which wipes the password. Accessors return borrowed
 * pointers valid until then. Every char ** out-parameter that receives a
 * password or a secret JSON must be released with pgr_free_secret().
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_SECRET_H
#define PGR_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define SECRET_MAX_JSON_LEN		65536	/* SecretString limit of the service */
#define SECRET_MAX_USERNAME_LEN 63		/* NAMEDATALEN - 1: longer is truncated */
#define SECRET_MAX_DBNAME_LEN	63
#define SECRET_MAX_HOST_LEN		255
#define SECRET_MAX_PASSWORD_LEN 4096
#define SECRET_DEFAULT_PORT		5432
#define SECRET_DEFAULT_DBNAME	"postgres"
#define SECRET_ANCHOR_KEY		"pg_rotate_audit_anchor"

typedef struct pgr_secret pgr_secret;

/* The "ssl" key: absent, or what it said. */
typedef enum secret_ssl
{
	SECRET_SSL_UNSET = 0,
	SECRET_SSL_TRUE,
	SECRET_SSL_FALSE
} secret_ssl;

extern int	secret_parse(const char *json, pgr_secret **out, pgr_error *err);
extern int	secret_parse_len(const char *json, size_t len, pgr_secret **out,
							 pgr_error *err);
extern void secret_free(pgr_secret *s);

extern const char *secret_engine(const pgr_secret *s);	/* NULL if absent */
extern const char *secret_host(const pgr_secret *s);	/* NULL if absent */
extern int	secret_port(const pgr_secret *s);
extern const char *secret_dbname(const pgr_secret *s);
extern const char *secret_username(const pgr_secret *s);
extern const char *secret_password(const pgr_secret *s);
extern const char *secret_masterarn(const pgr_secret *s);	/* NULL if absent */
extern const char *secret_sslrootcert(const pgr_secret *s); /* NULL if absent */
extern secret_ssl secret_get_ssl(const pgr_secret *s);
extern const char *secret_audit_anchor(const pgr_secret *s);	/* NULL if absent */

extern int	secret_with_password(const pgr_secret *s, const char *new_password,
								 char **json_out, pgr_error *err);
extern int	secret_with_password_and_anchor(const pgr_secret *s, const char *new_password,
											const char *anchor, char **json_out,
											pgr_error *err);
extern bool secret_same_target(const pgr_secret *a, const pgr_secret *b);

/*
 * Rules for a generated password, with GetRandomPassword's meaning.
 * secret_password_rules_init() sets the defaults of AWS's rotation
 * templates: 32 characters, no :/@"'\ and one of each included type.
 */
typedef struct pgr_password_rules
{
	int			length;				/* 1 .. SECRET_MAX_PASSWORD_LEN */
	const char *exclude_characters; /* NULL or "" for none */
	bool		exclude_numbers;
	bool		exclude_punctuation;
	bool		exclude_uppercase;
	bool		exclude_lowercase;
	bool		include_space;
	bool		require_each_included_type;
} pgr_password_rules;

#define SECRET_DEFAULT_PASSWORD_LENGTH	32
#define SECRET_DEFAULT_EXCLUDE_CHARS	":/@\"'\\"
/* GetRandomPassword's punctuation: every ASCII punctuation character */
#define SECRET_PUNCTUATION	"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

extern void secret_password_rules_init(pgr_password_rules *rules);
extern int	secret_generate_password(const pgr_password_rules *rules, char **out,
									 pgr_error *err);

#endif							/* PGR_SECRET_H */
