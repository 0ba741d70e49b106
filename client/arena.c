/*-------------------------------------------------------------------------
 *
 * arena.c
 *	  A bump allocator whose memory is wiped when it is released.
 *
 *-------------------------------------------------------------------------
 */
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"

#define MIN_BLOCK	1024

struct pgr_arena_block
{
	pgr_arena_block *next;
	size_t		size;			/* bytes of data[] */
	size_t		used;
	alignas(max_align_t) unsigned char data[];
};

/* Start an empty arena; its first block will hold at least first_block bytes. */
void
pgr_arena_init(pgr_arena *arena, size_t first_block)
{
	memset(arena, 0, sizeof(*arena));
	arena->next_size = first_block > MIN_BLOCK ? first_block : MIN_BLOCK;
}

/*
 * size bytes, zeroed and aligned for any type; NULL (and arena->oom) when
 * out of memory. Lives until pgr_arena_free().
 */
void *
pgr_arena_alloc(pgr_arena *arena, size_t size)
{
	pgr_arena_block *b = arena->blocks;
	size_t		align = alignof(max_align_t);
	size_t		need = (size + align - 1) & ~(align - 1);
	void	   *p;

	if (arena->oom || need < size)
		goto oom;
	if (!b || b->size - b->used < need)
	{
		size_t		bsize = arena->next_size;

		while (bsize < need)
		{
			if (bsize > SIZE_MAX / 4)
				goto oom;
			bsize *= 2;
		}
		b = malloc(sizeof(*b) + bsize);
		if (!b)
			goto oom;
		b->size = bsize;
		b->used = 0;
		b->next = arena->blocks;
		arena->blocks = b;
		if (arena->next_size <= SIZE_MAX / 4)
			arena->next_size = bsize * 2;
	}
	p = b->data + b->used;
	b->used += need;
	memset(p, 0, need);
	return p;

oom:
	arena->oom = true;
	return NULL;
}

/* A NUL-terminated copy of s[0..len), in the arena; NULL when out of memory. */
char *
pgr_arena_strndup(pgr_arena *arena, const char *s, size_t len)
{
	char	   *copy = len < SIZE_MAX ? pgr_arena_alloc(arena, len + 1) : NULL;

	if (copy && len)
		memcpy(copy, s, len);
	return copy;
}

/* Wipe and free every block; the arena may be reused after init. */
void
pgr_arena_free(pgr_arena *arena)
{
	pgr_arena_block *b = arena->blocks;

	while (b)
	{
		pgr_arena_block *next = b->next;

		pgr_wipe(b->data, b->used);
		free(b);
		b = next;
	}
	arena->blocks = NULL;
}
