/* strmap.c -- chains of entries, each one allocation: the header, the value, then the key. */
#include "strmap.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

struct entry {
    struct entry *next;
    const char *key;     /* points past the value, inside this allocation */
    max_align_t value[]; /* value_size bytes, aligned for any type */
};

struct strmap {
    size_t nbuckets, value_size;
    struct entry *buckets[];
};

struct strmap *strmap_new(size_t nbuckets, size_t value_size)
{
    struct strmap *m;

    if (nbuckets == 0)
        nbuckets = 1;
    m = calloc(1, sizeof(*m) + nbuckets * sizeof(m->buckets[0]));
    if (m == NULL)
        return NULL;
    m->nbuckets = nbuckets;
    m->value_size = value_size;
    return m;
}

void strmap_free(struct strmap *m)
{
    if (m == NULL)
        return;
    strmap_remove_prefix(m, "");
    free(m);
}

static struct entry **bucket_of(const struct strmap *m, const char *key)
{
    return (struct entry **)&m->buckets[hash_fnv1a32(key) % m->nbuckets];
}

void *strmap_find(const struct strmap *m, const char *key)
{
    for (struct entry *e = *bucket_of(m, key); e != NULL; e = e->next)
        if (strcmp(e->key, key) == 0)
            return e->value;
    return NULL;
}

void *strmap_find_or_add(struct strmap *m, const char *key, int *added)
{
    struct entry **head = bucket_of(m, key), *e;
    size_t keylen = strlen(key);
    void *found = strmap_find(m, key);

    *added = 0;
    if (found != NULL)
        return found;
    e = calloc(1, sizeof(*e) + m->value_size + keylen + 1);
    if (e == NULL)
        return NULL;
    memcpy((char *)e->value + m->value_size, key, keylen + 1);
    e->key = (char *)e->value + m->value_size;
    e->next = *head;
    *head = e;
    *added = 1;
    return e->value;
}

void strmap_each(const struct strmap *m, void (*fn)(const char *key, void *value, void *ctx),
                 void *ctx)
{
    for (size_t b = 0; b < m->nbuckets; b++)
        for (struct entry *e = m->buckets[b]; e != NULL; e = e->next)
            fn(e->key, e->value, ctx);
}

void strmap_remove_prefix(struct strmap *m, const char *prefix)
{
    size_t plen = strlen(prefix);

    for (size_t b = 0; b < m->nbuckets; b++) {
        struct entry **link = &m->buckets[b];

        while (*link != NULL) {
            struct entry *e = *link;

            if (strncmp(e->key, prefix, plen) == 0) {
                *link = e->next;
                free(e);
            } else {
                link = &e->next;
            }
        }
    }
}
