/*-------------------------------------------------------------------------
 *
 * secretsmanager.h
 *	  The AWS Secrets Manager API calls pg_rotate needs (awsJson1_1 over
 *	  SigV4): GetSecretValue, DescribeSecret, PutSecretValue,
 *	  UpdateSecretVersionStage, GetRandomPassword.
 *
 * An sm_client holds the resolved configuration, the credentials (resolved
 * on first use and again when they are about to expire) and one
 * http_client, so every call reuses the same connection. Not thread safe:
 * one sm_client per thread.
 *
 * Every call returns 0 or -1. On -1 the pgr_error's code holds the
 * service's error code (ResourceNotFoundException, AccessDeniedException,
 * ...) so callers can branch with sm_error_is(); the message names the
 * operation and the secret. Each call can also hand back the raw response
 * object (json-c, owned by the caller, put with sm_response_put() which
 * wipes secret strings first).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_SECRETSMANAGER_H
#define PGR_SECRETSMANAGER_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "aws_config.h"
#include "error.h"
#include "http.h"

/* Secrets Manager's limits: 64 KiB secret values. */
#define SM_MAX_SECRET_SIZE		65536
#define SM_MAX_RESPONSE_SIZE	(1024 * 1024)

typedef struct sm_client sm_client;

/* A secret version's value; secret_string is wiped by sm_secret_value_free. */
typedef struct sm_secret_value
{
	char	   *arn;
	char	   *name;
	char	   *version_id;
	char	   *secret_string;	/* NULL if the version holds SecretBinary */
	char	  **version_stages;
	int			nstages;
	double		created_date;	/* seconds since the epoch, 0 if absent */
} sm_secret_value;

typedef struct sm_version
{
	char	   *version_id;
	char	  **stages;
	int			nstages;
} sm_version;

typedef struct sm_description
{
	char	   *arn;
	char	   *name;
	bool		rotation_enabled;	/* false when absent */
	bool		rotation_enabled_present;
	char	   *rotation_lambda_arn;
	bool		deleted;		/* DeletedDate present: scheduled for deletion */
	sm_version *versions;		/* from VersionIdsToStages */
	int			nversions;
} sm_description;

typedef struct sm_put_input
{
	const char *secret_id;
	const char *client_request_token;	/* NULL: the service makes one */
	const char *secret_string;	/* secret */
	const char *const *version_stages;	/* NULL: AWSCURRENT */
	int			nstages;
	const char *rotation_token;	/* from the rotation event, or NULL */
} sm_put_input;

typedef struct sm_put_output
{
	char	   *arn;
	char	   *name;
	char	   *version_id;
} sm_put_output;

/* GetRandomPassword; a *_set flag says the option was given at all. */
typedef struct sm_random_password_input
{
	long		password_length;	/* 0: the service's default (32) */
	const char *exclude_characters;
	bool		exclude_numbers,
				exclude_numbers_set;
	bool		exclude_punctuation,
				exclude_punctuation_set;
	bool		exclude_uppercase,
				exclude_uppercase_set;
	bool		exclude_lowercase,
				exclude_lowercase_set;
	bool		include_space,
				include_space_set;
	bool		require_each_included_type,
				require_each_included_type_set;
} sm_random_password_input;

extern int	sm_client_new(const aws_config *cfg, http_client *shared_http,
						  sm_client **out, pgr_error *err);
extern void sm_client_free(sm_client *sm);
extern http_client *sm_client_http(sm_client *sm);

extern int	sm_get_secret_value(sm_client *sm, const char *secret_id,
								const char *version_id, const char *version_stage,
								sm_secret_value *out, json_object **response,
								pgr_error *err);
extern int	sm_describe_secret(sm_client *sm, const char *secret_id,
							   sm_description *out, json_object **response,
							   pgr_error *err);
extern int	sm_put_secret_value(sm_client *sm, const sm_put_input *in,
								sm_put_output *out, json_object **response,
								pgr_error *err);
extern int	sm_update_secret_version_stage(sm_client *sm, const char *secret_id,
										   const char *version_stage,
										   const char *move_to_version_id,
										   const char *remove_from_version_id,
										   json_object **response, pgr_error *err);
extern int	sm_get_random_password(sm_client *sm, const sm_random_password_input *in,
								   char **password, json_object **response,
								   pgr_error *err);

extern void sm_secret_value_free(sm_secret_value *v);
extern void sm_description_free(sm_description *d);
extern void sm_put_output_free(sm_put_output *o);
extern void sm_response_put(json_object *response);
extern const char *sm_version_with_stage(const sm_description *d, const char *stage);
extern bool sm_version_has_stage(const sm_description *d, const char *version_id,
								 const char *stage);

/* Response parsing, pure; exposed for tests and fuzzing. */
extern json_object *sm_parse_json(const char *text, size_t len);
extern int	sm_secret_value_from_response(json_object *doc, sm_secret_value *out,
										  pgr_error *err);
extern int	sm_description_from_response(json_object *doc, sm_description *out,
										 pgr_error *err);
extern void sm_put_output_from_response(json_object *doc, sm_put_output *out);

/* Error handling, exposed for the retry layer and for tests. */
extern void sm_parse_error(const char *errortype_header, const char *body, size_t len,
						   char *code, size_t codelen, char *message, size_t msglen);
extern void sm_error_code(const http_response *resp, char *code, size_t codelen);
extern bool sm_error_is(const pgr_error *err, const char *code);

#endif							/* PGR_SECRETSMANAGER_H */
