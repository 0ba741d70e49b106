/*-------------------------------------------------------------------------
 *
 * rotation_env.h
 *	  pg_rotate's own settings from the environment, for what has no
 *	  command line (the Lambda runtime) and as defaults the options
 *	  override:
 *
 *	 PG_ROTATE_RESOLVE		  --resolve entries, separated by white space
 *	 PG_ROTATE_REPLICA_WAIT	  --replica-wait, in seconds
 *	 PG_ROTATE_ADMIN_DBNAME	  --admin-dbname
 *
 * Read by the callers of Rotation, as password_env.h's variables are.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_ROTATION_ENV_H
#define PGR_ROTATION_ENV_H

#include "error.h"
#include "resolve_map.h"
#include "rotation.h"

#define ROT_MAX_REPLICA_WAIT_S	3600

extern int	rot_settings_from_env(rot_options *opts, resolve_map *resolve, pgr_error *err);

#endif							/* PGR_ROTATION_ENV_H */
