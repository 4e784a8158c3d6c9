/* strmap.h -- a chained hash from NUL-terminated string keys to fixed-size values, for the
 * small in-memory tables (metrics counters, rate-limit windows). It has no lock: its owner
 * serializes every call. Buckets are fixed at creation; chains grow with the keys. */
#ifndef EMU_STRMAP_H
#define EMU_STRMAP_H

#include <stddef.h>

struct strmap;

/* A map of nbuckets chains whose values are value_size bytes; NULL when memory ran out. Freed
 * with strmap_free. */
struct strmap *strmap_new(size_t nbuckets, size_t value_size);
void strmap_free(struct strmap *m);

/* The value stored under key, or NULL. Owned by the map until the key is removed. */
void *strmap_find(const struct strmap *m, const char *key);
/* The value stored under key, added zero-filled (and *added set to 1) when absent; NULL when
 * memory ran out. Owned by the map. */
void *strmap_find_or_add(struct strmap *m, const char *key, int *added);
/* Calls fn on every entry, in no particular order; fn must not add or remove entries. */
void strmap_each(const struct strmap *m, void (*fn)(const char *key, void *value, void *ctx),
                 void *ctx);
/* Removes every entry whose key starts with prefix ("" removes all). */
void strmap_remove_prefix(struct strmap *m, const char *prefix);

#endif
