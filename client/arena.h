/*-------------------------------------------------------------------------
 *
 * arena.h
 *	  A bump allocator whose memory is wiped when it is released.
 *
 * The JSON and XML readers put every node and every decoded string of a
 * document in one arena, so that one call wipes and frees all of it: a
 * parsed response may hold a secret anywhere, and nothing of it may
 * survive in freed memory. Blocks are never moved or resized (no realloc
 * that could leave an unwiped copy behind); a full block is followed by a
 * new, larger one.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_ARENA_H
#define PGR_ARENA_H

#include <stdbool.h>
#include <stddef.h>

typedef struct pgr_arena_block pgr_arena_block;

typedef struct pgr_arena
{
	pgr_arena_block *blocks;	/* newest first */
	size_t		next_size;		/* the size of the next block to allocate */
	bool		oom;			/* an allocation failed */
} pgr_arena;

extern void pgr_arena_init(pgr_arena *arena, size_t first_block);
extern void *pgr_arena_alloc(pgr_arena *arena, size_t size);
extern char *pgr_arena_strndup(pgr_arena *arena, const char *s, size_t len);
extern void pgr_arena_free(pgr_arena *arena);

#endif							/* PGR_ARENA_H */
