/* hash.h -- FNV-1a string hashes: bucket numbers for the in-memory tables, and the per-tenant
 * and per-rule keys mixed into --seed (so a value must never change: ids depend on it). */
#ifndef EMU_HASH_H
#define EMU_HASH_H

#include <stdint.h>

/* The 32-bit FNV-1a hash of the NUL-terminated string s. */
uint32_t hash_fnv1a32(const char *s);
/* The 64-bit FNV-1a scheme over the NUL-terminated string s, started from 1469598103934665603
 * (one digit short of FNV's published offset basis, as the first ids were drawn with): not the
 * standard FNV-1a value, and kept so that every id ever generated stays the same. */
uint64_t hash_fnv1a64(const char *s);

#endif
