/* snapshot.c -- saving and restoring the store through table core.snapshots. */
#include "snapshot.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "store.h"

#define SEP '\x1f'

int snapshot_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;

    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && !strchr(".-_", name[i]))
            return 0;
    return 1;
}

/* Entries gathered from a scan, copied out of LMDB before anything is written. */
struct entries {
    size_t n, cap;
    char **keys, **vals;
    size_t *klens, *vlens;
};

static int gather(const char *key, size_t klen, const char *val, size_t vlen, void *arg)
{
    struct entries *e = arg;

    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 64;
        char **k = realloc(e->keys, cap * sizeof(*k)), **v;
        size_t *kl, *vl;

        if (k == NULL)
            return EMU_NOMEM;
        e->keys = k;
        if ((v = realloc(e->vals, cap * sizeof(*v))) == NULL)
            return EMU_NOMEM;
        e->vals = v;
        if ((kl = realloc(e->klens, cap * sizeof(*kl))) == NULL)
            return EMU_NOMEM;
        e->klens = kl;
        if ((vl = realloc(e->vlens, cap * sizeof(*vl))) == NULL)
            return EMU_NOMEM;
        e->vlens = vl;
        e->cap = cap;
    }
    e->keys[e->n] = malloc(klen + 1);
    e->vals[e->n] = malloc(vlen + 1);
    if (e->keys[e->n] == NULL || e->vals[e->n] == NULL) {
        free(e->keys[e->n]);
        free(e->vals[e->n]);
        return EMU_NOMEM;
    }
    memcpy(e->keys[e->n], key, klen);
    e->keys[e->n][klen] = '\0';
    memcpy(e->vals[e->n], val, vlen);
    e->vals[e->n][vlen] = '\0';
    e->klens[e->n] = klen;
    e->vlens[e->n] = vlen;
    e->n++;
    return 0;
}

static void release(struct entries *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->keys[i]);
        free(e->vals[i]);
    }
    free(e->keys);
    free(e->vals);
    free(e->klens);
    free(e->vlens);
    memset(e, 0, sizeof(*e));
}

static int exists(struct store_txn *txn, const char *name)
{
    char prefix[80];
    struct entries e = {0};
    int rc;

    snprintf(prefix, sizeof(prefix), "%s%c", name, SEP);
    rc = store_scan_raw(txn, SNAPSHOT_TABLE, prefix, gather, &e);
    rc = rc == EMU_OK ? (e.n > 0 ? EMU_OK : EMU_NOT_FOUND) : rc;
    release(&e);
    return rc;
}

int snapshot_delete(struct store_txn *txn, const char *name)
{
    char prefix[80];
    int rc = exists(txn, name);

    snprintf(prefix, sizeof(prefix), "%s%c", name, SEP);
    return rc == EMU_OK ? store_del_prefix(txn, SNAPSHOT_TABLE, prefix) : rc;
}

/* Whether a snapshot holds table: every table but the snapshots themselves and core.meta (the id
 * sequences, which only move forward). */
static int copied(const char *table)
{
    return strcmp(table, SNAPSHOT_TABLE) != 0 && strcmp(table, META_TABLE) != 0;
}

int snapshot_save(struct store_txn *txn, const char *name)
{
    char prefix[80], key[1024];
    const char *table;
    int rc;

    snprintf(prefix, sizeof(prefix), "%s%c", name, SEP);
    rc = store_del_prefix(txn, SNAPSHOT_TABLE, prefix);
    /* A marker, so that a snapshot of an empty store still exists. */
    snprintf(key, sizeof(key), "%s%c", name, SEP);
    if (rc == EMU_OK)
        rc = store_put_raw(txn, SNAPSHOT_TABLE, key, "{}", 2);
    for (int t = 0; rc == EMU_OK && (table = store_table(txn, t)) != NULL; t++) {
        struct entries e = {0};

        if (!copied(table))
            continue;
        rc = store_scan_raw(txn, table, "", gather, &e);
        for (size_t i = 0; rc == EMU_OK && i < e.n; i++) {
            if (snprintf(key, sizeof(key), "%s%c%s%c%s", name, SEP, table, SEP, e.keys[i]) >=
                (int)sizeof(key))
                rc = EMU_INVALID;
            else
                rc = store_put_raw(txn, SNAPSHOT_TABLE, key, e.vals[i], e.vlens[i]);
        }
        release(&e);
    }
    return rc;
}

int snapshot_restore(struct store_txn *txn, const char *name)
{
    struct entries e = {0};
    const char *emptied;
    char prefix[80];
    int rc = exists(txn, name);

    for (int t = 0; rc == EMU_OK && (emptied = store_table(txn, t)) != NULL; t++)
        if (copied(emptied))
            rc = store_del_prefix(txn, emptied, "");
    snprintf(prefix, sizeof(prefix), "%s%c", name, SEP);
    if (rc == EMU_OK)
        rc = store_scan_raw(txn, SNAPSHOT_TABLE, prefix, gather, &e);
    for (size_t i = 0; rc == EMU_OK && i < e.n; i++) {
        char *table = e.keys[i] + strlen(prefix), *sep = strchr(table, SEP);

        if (sep == NULL)
            continue; /* the marker */
        *sep = '\0';
        rc = store_put_raw(txn, table, sep + 1, e.vals[i], e.vlens[i]);
    }
    release(&e);
    return rc;
}

static int gather_name(const char *key, size_t klen, const char *val, size_t vlen, void *arg)
{
    (void)val;
    (void)vlen;
    if (klen > 0 && key[klen - 1] == SEP) /* a snapshot's marker */
        return json_array_append_new(arg, json_stringn(key, klen - 1)) == 0 ? 0 : EMU_NOMEM;
    return 0;
}

int snapshot_list(struct store_txn *txn, json_t **out)
{
    *out = json_array();
    return *out ? store_scan_raw(txn, SNAPSHOT_TABLE, "", gather_name, *out) : EMU_NOMEM;
}
