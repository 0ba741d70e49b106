/*-------------------------------------------------------------------------
 *
 * rotation_env.c
 *	  pg_rotate's rotation settings from the environment (see
 *	  rotation_env.h).
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <stdlib.h>

#include "rotation_env.h"

/*
 * Apply the variables that are set to opts and resolve (entries given
 * later, on the command line, win). Returns 0, or -1 with a usage error
 * naming the variable.
 */
int
rot_settings_from_env(rot_options *opts, resolve_map *resolve, pgr_error *err)
{
	const char *v;

	if ((v = getenv("PG_ROTATE_RESOLVE")) &&
		resolve_map_add_list(resolve, v, "PG_ROTATE_RESOLVE", err) != 0)
		return -1;
	if ((v = getenv("PG_ROTATE_REPLICA_WAIT")) && v[0])
	{
		char	   *end;
		long		n;

		errno = 0;
		n = strtol(v, &end, 10);
		if (errno || *end || n < 0 || n > ROT_MAX_REPLICA_WAIT_S)
		{
			pgr_error_set(err, PGR_ERR_USAGE, NULL, "invalid PG_ROTATE_REPLICA_WAIT \"%s\"", v);
			pgr_error_hint(err, "Give whole seconds from 0 to %d.", ROT_MAX_REPLICA_WAIT_S);
			return -1;
		}
		opts->replica_wait_ms = (int) n * 1000;
	}
	if ((v = getenv("PG_ROTATE_ADMIN_DBNAME")) && v[0])
		opts->admin_dbname = v;
	opts->db.resolve = resolve;
	return 0;
}
