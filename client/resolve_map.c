/*-------------------------------------------------------------------------
 *
 * resolve_map.c
 *	  Parsing and looking up --resolve entries (see resolve_map.h).
 *
 *-------------------------------------------------------------------------
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "resolve_map.h"

static int
bad_spec(pgr_error *err, const char *spec, const char *source, const char *why)
{
	pgr_error_set(err, PGR_ERR_USAGE, NULL, "invalid %s entry \"%s\"", source, spec);
	pgr_error_detail(err, "%s", why);
	pgr_error_hint(err, "Write HOST:PORT:ADDRESS[,ADDRESS...], for example "
				   "db.example.com:5432:127.0.0.1 or db.example.com:5432:[::1].");
	return -1;
}

/* One address of the list, numeric, brackets removed; false when not one. */
static bool
take_address(const char *s, size_t len, char *out)
{
	unsigned char bin[16];

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']')
	{
		s++;
		len -= 2;
		if (len == 0 || len >= RESOLVE_ADDR_LEN)
			return false;
		memcpy(out, s, len);
		out[len] = '\0';
		return inet_pton(AF_INET6, out, bin) == 1;
	}
	if (len == 0 || len >= RESOLVE_ADDR_LEN)
		return false;
	memcpy(out, s, len);
	out[len] = '\0';
	return inet_pton(AF_INET, out, bin) == 1;
}

/*
 * Add one HOST:PORT:ADDRESS[,ADDRESS...] entry; source names where it came
 * from ("--resolve", "PG_ROTATE_RESOLVE") in messages.
 */
int
resolve_map_add(resolve_map *map, const char *spec, const char *source, pgr_error *err)
{
	resolve_entry e;
	const char *c1 = strchr(spec, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	const char *p;
	char		portbuf[8];
	char	   *end;
	long		port;
	resolve_entry *grown;

	memset(&e, 0, sizeof(e));
	if (!c1 || !c2 || c1 == spec)
		return bad_spec(err, spec, source, "It needs a host, a port and an address, "
						"separated by colons.");
	if ((size_t) (c1 - spec) >= sizeof(e.host))
		return bad_spec(err, spec, source, "The host name is longer than 255 bytes.");
	memcpy(e.host, spec, (size_t) (c1 - spec));
	for (p = e.host; *p; p++)
		if (isspace((unsigned char) *p) || iscntrl((unsigned char) *p) || *p == ',')
			return bad_spec(err, spec, source, "The host name holds a space, a comma or "
							"a control character.");
	if (c2 - c1 - 1 <= 0 || (size_t) (c2 - c1 - 1) >= sizeof(portbuf))
		return bad_spec(err, spec, source, "The port is not a number from 1 to 65535.");
	memcpy(portbuf, c1 + 1, (size_t) (c2 - c1 - 1));
	portbuf[c2 - c1 - 1] = '\0';
	errno = 0;
	port = strtol(portbuf, &end, 10);
	if (errno || *end != '\0' || !isdigit((unsigned char) portbuf[0]) || port < 1 ||
		port > 65535)
		return bad_spec(err, spec, source, "The port is not a number from 1 to 65535.");
	e.port = (int) port;
	for (p = c2 + 1;;)
	{
		size_t		len = strcspn(p, ",");

		if (e.naddrs == RESOLVE_MAX_ADDRS)
			return bad_spec(err, spec, source, "It names more than 8 addresses.");
		if (!take_address(p, len, e.addrs[e.naddrs]))
			return bad_spec(err, spec, source, "An address is not a numeric IPv4 address "
							"or a bracketed IPv6 address.");
		e.naddrs++;
		p += len;
		if (*p != ',')
			break;
		p++;
	}
	grown = realloc(map->entries, (size_t) (map->nentries + 1) * sizeof(*grown));
	if (!grown)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		return -1;
	}
	map->entries = grown;
	map->entries[map->nentries++] = e;
	return 0;
}

/*
 * Add every entry of a list separated by white space (PG_ROTATE_RESOLVE's
 * form; commas belong to an entry's addresses).
 */
int
resolve_map_add_list(resolve_map *map, const char *list, const char *source,
					 pgr_error *err)
{
	const char *p = list;

	while (*p)
	{
		size_t		len;
		char		spec[RESOLVE_HOST_LEN + 16 + RESOLVE_MAX_ADDRS * (RESOLVE_ADDR_LEN + 3)];

		while (*p && isspace((unsigned char) *p))
			p++;
		len = 0;
		while (p[len] && !isspace((unsigned char) p[len]))
			len++;
		if (len == 0)
			break;
		if (len >= sizeof(spec))
			return bad_spec(err, "...", source, "An entry is too long.");
		memcpy(spec, p, len);
		spec[len] = '\0';
		if (resolve_map_add(map, spec, source, err) != 0)
			return -1;
		p += len;
	}
	return 0;
}

/*
 * The entry for host and port (the last one given; an entry for "*"
 * counts when none names host), or NULL.
 */
const resolve_entry *
resolve_map_lookup(const resolve_map *map, const char *host, int port)
{
	const resolve_entry *any = NULL;

	if (!map || !host)
		return NULL;
	for (int i = map->nentries - 1; i >= 0; i--)
	{
		const resolve_entry *e = &map->entries[i];

		if (e->port != port)
			continue;
		if (strcasecmp(e->host, host) == 0)
			return e;
		if (!any && strcmp(e->host, "*") == 0)
			any = e;
	}
	return any;
}

void
resolve_map_free(resolve_map *map)
{
	if (!map)
		return;
	free(map->entries);
	map->entries = NULL;
	map->nentries = 0;
}
