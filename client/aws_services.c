/*-------------------------------------------------------------------------
 *
 * aws_services.c
 *	  The table of AWS services (see aws_services.h).
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "aws_services.h"

static const aws_error_hint secretsmanager_hints[] = {
	{"AccessDeniedException", "Grant the caller's IAM identity this Secrets Manager action on the secret (and kms:Decrypt on its key)."},
	{"AccessDenied", "Grant the caller's IAM identity this Secrets Manager action on the secret (and kms:Decrypt on its key)."},
	{"ResourceNotFoundException", "Check the secret id, the version id or stage, and the region."},
	{"InvalidRequestException", "The secret's current state does not allow this request; see the message."},
	{"DecryptionFailure", "Grant kms:Decrypt on the secret's KMS key to the caller."},
	{NULL, NULL}
};

static const aws_error_hint sts_hints[] = {
	{"AccessDenied", "Check the role's trust policy: it must allow this identity to assume the role."},
	{NULL, NULL}
};

static const aws_error_hint rds_hints[] = {
	{"AccessDenied", "Grant the caller's IAM identity the read-only RDS action named in the detail (see \"On Amazon RDS and Aurora\" in README.md)."},
	{"AccessDeniedException", "Grant the caller's IAM identity the read-only RDS action named in the detail (see \"On Amazon RDS and Aurora\" in README.md)."},
	{"DBInstanceNotFound", "Check the identifier and the region; the DB instance may have been deleted or renamed."},
	{"DBClusterNotFoundFault", "Check the identifier and the region; the DB cluster may have been deleted or renamed."},
	{"DBProxyNotFoundFault", "Check the proxy's name and the region."},
	{NULL, NULL}
};

/*
 * One row per service: its names (messages; its endpoint's option;
 * AWS_ENDPOINT_URL_<id>; its key in [services]; its host; an older
 * variable; the endpoint without a region), then SigV4's name, the
 * protocol, and what that protocol needs.
 */
static const aws_service services[AWS_NSERVICES] = {
	[AWS_SECRETS_MANAGER] = {AWS_SECRETS_MANAGER, "Secrets Manager", "--endpoint-url",
		"SECRETS_MANAGER", "secretsmanager", "secretsmanager", "SECRETS_MANAGER_ENDPOINT", NULL,
		"secretsmanager", AWS_PROTOCOL_JSON, "secretsmanager", NULL, 1024 * 1024,
	secretsmanager_hints},
	[AWS_STS] = {AWS_STS, "AWS STS", NULL,
		"STS", "sts", "sts", NULL, "https://sts.amazonaws.com",
		"sts", AWS_PROTOCOL_QUERY, NULL, "2011-06-15", 256 * 1024,
	sts_hints},
	[AWS_RDS] = {AWS_RDS, "Amazon RDS", "--rds-endpoint-url",
		"RDS", "rds", "rds", NULL, NULL,
		"rds", AWS_PROTOCOL_QUERY, NULL, "2014-10-31", 1024 * 1024,
	rds_hints},
};

const aws_service *
aws_service_get(aws_service_id id)
{
	return id >= 0 && id < AWS_NSERVICES ? &services[id] : NULL;
}

/* The service's own hint for an error code, or NULL. */
const char *
aws_service_hint(const aws_service *svc, const char *code)
{
	for (const aws_error_hint *h = svc->hints; h && h->code; h++)
		if (strcmp(h->code, code) == 0)
			return h->hint;
	return NULL;
}
