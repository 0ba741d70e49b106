/*-------------------------------------------------------------------------
 *
 * secretsmanager.h
 *	  The AWS Secrets Manager operations a rotation needs, typed, through
 *	  an AWS session (aws_session.h): GetSecretValue, DescribeSecret,
 *	  PutSecretValue, UpdateSecretVersionStage, GetRandomPassword.
 *
 * Every call returns 0 or -1. On -1 the pgr_error's code holds the
 * service's error code (ResourceNotFoundException, AccessDeniedException,
 * ...), so callers can branch with pgr_error_code_is(); the message names
 * the operation and the secret.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_SECRETSMANAGER_H
#define PGR_SECRETSMANAGER_H

#include <stdbool.h>
#include <stddef.h>

#include "aws_session.h"
#include "error.h"
#include "json.h"
#include "secret.h"

/* Secrets Manager's limit: 64 KiB secret values. */
#define SM_MAX_SECRET_SIZE		65536

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

typedef struct sm_tag
{
	char	   *key;
	char	   *value;
} sm_tag;

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
	sm_tag	   *tags;			/* from Tags */
	int			ntags;
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

extern int	sm_get_secret_value(aws_session *session, const char *secret_id,
								const char *version_id, const char *version_stage,
								sm_secret_value *out, pgr_error *err);
extern int	sm_describe_secret(aws_session *session, const char *secret_id,
							   sm_description *out, pgr_error *err);
extern int	sm_put_secret_value(aws_session *session, const sm_put_input *in,
								pgr_error *err);
extern int	sm_update_secret_version_stage(aws_session *session, const char *secret_id,
										   const char *version_stage,
										   const char *move_to_version_id,
										   const char *remove_from_version_id,
										   pgr_error *err);
extern int	sm_get_random_password(aws_session *session, const pgr_password_rules *rules,
								   char **password, pgr_error *err);

extern void sm_secret_value_free(sm_secret_value *v);
extern void sm_description_free(sm_description *d);
extern const char *sm_version_with_stage(const sm_description *d, const char *stage);
extern bool sm_version_has_stage(const sm_description *d, const char *version_id,
								 const char *stage);
extern const char *sm_description_tag(const sm_description *d, const char *key);

/* Answers, typed; pure, exposed for tests and fuzzing. */
extern int	sm_secret_value_from_response(const json_value *doc, sm_secret_value *out,
										  pgr_error *err);
extern int	sm_description_from_response(const json_value *doc, sm_description *out,
										 pgr_error *err);

#endif							/* PGR_SECRETSMANAGER_H */
