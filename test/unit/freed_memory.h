/*-------------------------------------------------------------------------
 *
 * freed_memory.h
 *	  Test-only: what the client's own code freed, kept for scanning.
 *
 * Linked (with -Wl,--wrap=malloc,...,--wrap=free, see client/client.mk)
 * into the unit tests and into client/pg_rotate-testhooks, never into the
 * shipped program. Every free() made by the client's code (and every block
 * its realloc() moves away from) then hands the block's bytes, as they are
 * at that moment, to a sink before the block goes back to malloc:
 *
 *	- in the unit tests, memory of this process, searched with
 *	  freed_memory_holds() between freed_memory_keep(true) and (false);
 *	- in pg_rotate-testhooks, the file named by PG_ROTATE_TEST_FREED_DUMP
 *	  (appended to), which the leak test scans for every secret it knows.
 *
 * A block's bytes are its usable size (malloc_usable_size); the wrapped
 * allocators zero every new block whole, so stale bytes that a library
 * left in freed memory are never taken for ours. Frees inside shared
 * libraries (libcurl, libpq, OpenSSL, libexpat) are not seen: this scans
 * what pg_rotate frees, which is what pg_rotate can wipe.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_FREED_MEMORY_H
#define PGR_FREED_MEMORY_H

#include <stdbool.h>
#include <stddef.h>

extern void freed_memory_keep(bool on);
extern bool freed_memory_holds(const void *needle, size_t len);
extern bool freed_memory_holds_str(const char *needle);

#endif							/* PGR_FREED_MEMORY_H */
