/* rng.h -- the seeded generator behind every id.
 *
 * Ids come from a keyed hash of (seed, sequence number): the sequence lives in the store and
 * moves inside the request's write transaction, so the same seed and the same writes give the
 * same ids, and a restart on the same data never repeats one. */
#ifndef EMU_RNG_H
#define EMU_RNG_H

#include <stdint.h>

/* A 64-bit value drawn from (seed, n): the same inputs give the same value on every machine. */
uint64_t rng_draw(uint64_t seed, uint64_t n);
/* Writes the UUIDv4 drawn from (seed, n) as 36 lowercase characters plus NUL into buf[37]. */
void rng_uuid(uint64_t seed, uint64_t n, char buf[37]);

#endif
