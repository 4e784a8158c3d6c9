/* rng.c -- the seeded generator behind every id: a keyed hash of (seed, sequence number). */
#include "rng.h"

#include <stdio.h>

/* splitmix64's finaliser: a bijective mix, so distinct (seed, n) pairs rarely collide. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t rng_draw(uint64_t seed, uint64_t n)
{
    return mix64(mix64(seed + 0x9e3779b97f4a7c15ULL) ^ (n * 0x9e3779b97f4a7c15ULL + n));
}

void rng_uuid(uint64_t seed, uint64_t n, char buf[37])
{
    uint64_t hi = rng_draw(seed, 2 * n), lo = rng_draw(seed, 2 * n + 1);

    hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL; /* version 4 */
    lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL; /* variant 10 */
    snprintf(buf, 37, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(hi >> 32),
             (unsigned)(hi >> 16 & 0xffff), (unsigned)(hi & 0xffff), (unsigned)(lo >> 48),
             (unsigned long long)(lo & 0xffffffffffffULL));
}
