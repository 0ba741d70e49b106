/*-------------------------------------------------------------------------
 *
 * resolve_map.h
 *	  --resolve HOST:PORT:ADDRESS[,ADDRESS...], with curl's syntax and
 *	  meaning, for database connections: a connection to HOST on PORT dials
 *	  ADDRESS (the addresses in turn) instead of what DNS says, and still
 *	  verifies the server's certificate against HOST. That is a tunnel's
 *	  case (a bastion's port forward, an SSM session), where the name to
 *	  verify and the address to dial differ.
 *
 * HOST may be "*" (any host on PORT); IPv6 addresses are written in
 * brackets. An entry given later for the same HOST and PORT wins, so the
 * command line overrides PG_ROTATE_RESOLVE. Pure: no I/O.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_RESOLVE_MAP_H
#define PGR_RESOLVE_MAP_H

#include <stdbool.h>

#include "error.h"

#define RESOLVE_MAX_ADDRS	8
#define RESOLVE_ADDR_LEN	46	/* INET6_ADDRSTRLEN */
#define RESOLVE_HOST_LEN	256

typedef struct resolve_entry
{
	char		host[RESOLVE_HOST_LEN];	/* "*": any */
	int			port;
	char		addrs[RESOLVE_MAX_ADDRS][RESOLVE_ADDR_LEN];
	int			naddrs;
} resolve_entry;

typedef struct resolve_map
{
	resolve_entry *entries;
	int			nentries;
} resolve_map;

extern int	resolve_map_add(resolve_map *map, const char *spec, const char *source,
							pgr_error *err);
extern int	resolve_map_add_list(resolve_map *map, const char *list, const char *source,
								 pgr_error *err);
extern const resolve_entry *resolve_map_lookup(const resolve_map *map, const char *host,
											   int port);
extern void resolve_map_free(resolve_map *map);

#endif							/* PGR_RESOLVE_MAP_H */
