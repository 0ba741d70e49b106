/*-------------------------------------------------------------------------
 *
 * test_resolve_map.c
 *	  --resolve entries (resolve_map.c): curl's HOST:PORT:ADDRESS[,...]
 *	  syntax, its refusals, and which entry a connection uses.
 *
 *-------------------------------------------------------------------------
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "resolve_map.h"

static void
test_entries(void **state)
{
	resolve_map m = {0};
	pgr_error	err;
	const resolve_entry *e;

	(void) state;
	assert_int_equal(resolve_map_add(&m, "db.example.com:5432:127.0.0.1", "--resolve", &err), 0);
	assert_int_equal(resolve_map_add(&m, "v6.example.com:6543:[::1],10.0.0.2", "--resolve",
									 &err), 0);
	e = resolve_map_lookup(&m, "DB.Example.COM", 5432);
	assert_non_null(e);
	assert_int_equal(e->naddrs, 1);
	assert_string_equal(e->addrs[0], "127.0.0.1");
	e = resolve_map_lookup(&m, "v6.example.com", 6543);
	assert_int_equal(e->naddrs, 2);
	assert_string_equal(e->addrs[0], "::1");
	assert_string_equal(e->addrs[1], "10.0.0.2");
	/* the port is part of the key */
	assert_null(resolve_map_lookup(&m, "db.example.com", 5433));
	assert_null(resolve_map_lookup(&m, "other.example.com", 5432));
	assert_null(resolve_map_lookup(&m, NULL, 5432));
	assert_null(resolve_map_lookup(NULL, "db.example.com", 5432));

	/* a later entry wins (the command line after PG_ROTATE_RESOLVE); "*" is any host */
	assert_int_equal(resolve_map_add(&m, "db.example.com:5432:127.0.0.9", "--resolve", &err), 0);
	assert_string_equal(resolve_map_lookup(&m, "db.example.com", 5432)->addrs[0], "127.0.0.9");
	assert_int_equal(resolve_map_add(&m, "*:5432:127.0.0.3", "--resolve", &err), 0);
	assert_string_equal(resolve_map_lookup(&m, "any.example.com", 5432)->addrs[0], "127.0.0.3");
	assert_string_equal(resolve_map_lookup(&m, "db.example.com", 5432)->addrs[0], "127.0.0.9");
	resolve_map_free(&m);
	assert_int_equal(m.nentries, 0);
}

static void
test_list(void **state)
{
	resolve_map m = {0};
	pgr_error	err;

	(void) state;
	assert_int_equal(resolve_map_add_list(&m, "  a.example:1:127.0.0.1\n\tb.example:2:127.0.0.2 ",
										  "PG_ROTATE_RESOLVE", &err), 0);
	assert_int_equal(m.nentries, 2);
	assert_string_equal(resolve_map_lookup(&m, "b.example", 2)->addrs[0], "127.0.0.2");
	assert_int_equal(resolve_map_add_list(&m, "", "PG_ROTATE_RESOLVE", &err), 0);
	assert_int_equal(resolve_map_add_list(&m, "c.example:3", "PG_ROTATE_RESOLVE", &err), -1);
	assert_string_equal(err.message, "invalid PG_ROTATE_RESOLVE entry \"c.example:3\"");
	assert_int_equal(m.nentries, 2);
	resolve_map_free(&m);
}

static void
test_refusals(void **state)
{
	static const struct
	{
		const char *spec;
		const char *detail;
	}			bad[] = {
		{"db.example.com", "It needs a host, a port and an address, separated by colons."},
		{"db.example.com:5432", "It needs a host, a port and an address, separated by colons."},
		{":5432:127.0.0.1", "It needs a host, a port and an address, separated by colons."},
		{"db.example.com::127.0.0.1", "The port is not a number from 1 to 65535."},
		{"db.example.com:0:127.0.0.1", "The port is not a number from 1 to 65535."},
		{"db.example.com:65536:127.0.0.1", "The port is not a number from 1 to 65535."},
		{"db.example.com:+5:127.0.0.1", "The port is not a number from 1 to 65535."},
		{"db.example.com:5432:", "An address is not a numeric IPv4 address or a bracketed IPv6 address."},
		{"db.example.com:5432:db.internal", "An address is not a numeric IPv4 address or a bracketed IPv6 address."},
		{"db.example.com:5432:::1", "An address is not a numeric IPv4 address or a bracketed IPv6 address."},
		{"db.example.com:5432:[127.0.0.1]", "An address is not a numeric IPv4 address or a bracketed IPv6 address."},
		{"db.example.com:5432:127.0.0.1,", "An address is not a numeric IPv4 address or a bracketed IPv6 address."},
		{"db example:5432:127.0.0.1", "The host name holds a space, a comma or a control character."},
		{"a,b:5432:127.0.0.1", "The host name holds a space, a comma or a control character."},
		{"h:1:1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8,1.1.1.9",
		"It names more than 8 addresses."},
	};
	resolve_map m = {0};
	pgr_error	err;

	(void) state;
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
	{
		char		message[512];

		pgr_error_clear(&err);
		assert_int_equal(resolve_map_add(&m, bad[k].spec, "--resolve", &err), -1);
		snprintf(message, sizeof(message), "invalid --resolve entry \"%s\"", bad[k].spec);
		assert_string_equal(err.message, message);
		assert_string_equal(err.detail, bad[k].detail);
		assert_int_equal(err.errclass, PGR_ERR_USAGE);
		assert_non_null(strstr(err.hint, "HOST:PORT:ADDRESS"));
	}
	assert_int_equal(m.nentries, 0);
	resolve_map_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
