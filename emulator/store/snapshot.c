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

/* Stops a scan at its first entry: the scan then says whether there is one. */
static int found_one(const char *key, size_t klen, const char *val, size_t vlen, void *arg)
{
    (void)key;
    (void)klen;
    (void)val;
    (void)vlen;
    *(int *)arg = 1;
    return 1;
}

static int exists(struct store_txn *txn, const char *name)
{
    char prefix[80];
    int found = 0, rc;

    snprintf(prefix, sizeof(prefix), "%s%c", name, SEP);
    rc = store_scan_raw(txn, SNAPSHOT_TABLE, prefix, found_one, &found);
    return rc == EMU_OK && !found ? EMU_NOT_FOUND : rc;
}

int snapshot_delete(struct store_txn *txn, const char *name)
{
    char prefix[80];
    int rc = exists(txn, name);

    snprintf(prefix, sizeof(prefix), "%s%c", name, SEP);
    return rc == EMU_OK ? store_del_prefix(txn, SNAPSHOT_TABLE, prefix) : rc;
}

/* Whether a snapshot holds table: every table the store lists but the snapshots themselves and
 * core.meta (the id sequences, which only move forward). */
static int copied(const char *table)
{
    return strcmp(table, SNAPSHOT_TABLE) != 0 && strcmp(table, META_TABLE) != 0;
}

/* Where a snapshot keeps table's entries: "<name>\x1f<table>\x1f". */
static int table_prefix(char *buf, size_t len, const char *name, const char *table)
{
    return snprintf(buf, len, "%s%c%s%c", name, SEP, table, SEP) < (int)len ? EMU_OK : EMU_INVALID;
}

/* The table that comes next after prev (NULL: the first) in byte order of the names. */
static const char *next_table(struct store_txn *txn, const char *prev)
{
    const char *best = NULL, *t;

    for (int i = 0; (t = store_table(txn, i)) != NULL; i++)
        if ((prev == NULL || strcmp(t, prev) > 0) && (best == NULL || strcmp(t, best) < 0))
            best = t;
    return best;
}

/* Copies every table into snapshot name, core.meta too when with_meta, in the order of the
 * tables' names, so that the snapshot's keys come in increasing order and can be appended. */
static int copy_tables(struct store_txn *txn, const char *name, int with_meta)
{
    char prefix[300];
    const char *table = NULL;
    int rc = EMU_OK;

    while (rc == EMU_OK && (table = next_table(txn, table)) != NULL) {
        if (strcmp(table, SNAPSHOT_TABLE) == 0 || (!with_meta && !copied(table)))
            continue;
        rc = table_prefix(prefix, sizeof(prefix), name, table);
        if (rc == EMU_OK)
            rc = store_copy(txn, table, "", SNAPSHOT_TABLE, prefix);
    }
    return rc;
}

/* Both directions stream entry by entry through store_copy, inside the caller's transaction:
 * nothing of a table is held in memory, however large it is. */
int snapshot_save(struct store_txn *txn, const char *name)
{
    char prefix[300];
    int rc;

    snprintf(prefix, sizeof(prefix), "%s%c", name, SEP);
    rc = store_del_prefix(txn, SNAPSHOT_TABLE, prefix);
    /* A marker, so that a snapshot of an empty store still exists. */
    if (rc == EMU_OK)
        rc = store_put_raw(txn, SNAPSHOT_TABLE, prefix, "{}", 2);
    return rc == EMU_OK ? copy_tables(txn, name, 0) : rc;
}

int snapshot_restore(struct store_txn *txn, const char *name)
{
    char prefix[300];
    const char *table;
    int rc = exists(txn, name);

    /* Each table is emptied (LMDB drops its pages at once) and filled in key order, which is
     * the order the snapshot keeps it in. A table the snapshot does not hold stays empty. */
    for (int t = 0; rc == EMU_OK && (table = store_table(txn, t)) != NULL; t++) {
        if (!copied(table))
            continue;
        rc = store_del_prefix(txn, table, "");
        if (rc == EMU_OK)
            rc = table_prefix(prefix, sizeof(prefix), name, table);
        if (rc == EMU_OK)
            rc = store_copy(txn, SNAPSHOT_TABLE, prefix, table, "");
    }
    return rc == EMU_OK ? store_index_repair(txn) : rc;
}

static int gather_name(const char *key, size_t klen, const char *val, size_t vlen, void *arg)
{
    (void)val;
    (void)vlen;
    if (klen > 0 && key[klen - 1] == SEP && key[0] != SNAPSHOT_IMAGE[0]) /* a marker */
        return json_array_append_new(arg, json_stringn(key, klen - 1)) == 0 ? 0 : EMU_NOMEM;
    return 0;
}

int snapshot_list(struct store_txn *txn, json_t **out)
{
    *out = json_array();
    return *out ? store_scan_raw(txn, SNAPSHOT_TABLE, "", gather_name, *out) : EMU_NOMEM;
}

/* The image is saved like a snapshot, with core.meta too, under a name no snapshot can have. */
int snapshot_image_drop(struct store_txn *txn)
{
    char prefix[80];

    snprintf(prefix, sizeof(prefix), "%s%c", SNAPSHOT_IMAGE, SEP);
    return store_del_prefix(txn, SNAPSHOT_TABLE, prefix);
}

int snapshot_image_save(struct store_txn *txn, const char *stamp)
{
    char prefix[300];
    json_t *marker = json_string(stamp);
    char *text = marker ? json_dumps(marker, JSON_ENCODE_ANY) : NULL;
    int rc = text ? snapshot_image_drop(txn) : EMU_NOMEM;

    snprintf(prefix, sizeof(prefix), "%s%c", SNAPSHOT_IMAGE, SEP);
    if (rc == EMU_OK)
        rc = store_put_raw(txn, SNAPSHOT_TABLE, prefix, text, strlen(text));
    free(text);
    json_decref(marker);
    return rc == EMU_OK ? copy_tables(txn, SNAPSHOT_IMAGE, 1) : rc;
}

int snapshot_image_matches(struct store_txn *txn, const char *stamp)
{
    char key[80];
    json_t *marker = NULL;
    int same;

    snprintf(key, sizeof(key), "%s%c", SNAPSHOT_IMAGE, SEP);
    if (store_get(txn, SNAPSHOT_TABLE, key, &marker) != EMU_OK)
        return 0;
    same = json_is_string(marker) && strcmp(json_string_value(marker), stamp) == 0;
    json_decref(marker);
    return same;
}

int snapshot_image_restore(struct store_txn *txn, int checkpoint)
{
    char prefix[300];
    const char *table;
    int rc = EMU_OK;

    for (int t = 0; rc == EMU_OK && (table = store_table(txn, t)) != NULL; t++) {
        if (strcmp(table, SNAPSHOT_TABLE) == 0)
            continue;
        rc = store_del_prefix(txn, table, "");
        if (rc == EMU_OK && checkpoint)
            rc = store_txn_checkpoint(txn);
    }
    for (int t = 0; rc == EMU_OK && (table = store_table(txn, t)) != NULL; t++) {
        if (strcmp(table, SNAPSHOT_TABLE) == 0)
            continue;
        rc = table_prefix(prefix, sizeof(prefix), SNAPSHOT_IMAGE, table);
        if (rc == EMU_OK)
            rc = store_copy(txn, SNAPSHOT_TABLE, prefix, table, "");
    }
    return rc == EMU_OK ? store_index_repair(txn) : rc;
}

int snapshot_image_copy(struct store_txn *txn, const char *table, const char *prefix)
{
    char from[600];

    if (snprintf(from, sizeof(from), "%s%c%s%c%s", SNAPSHOT_IMAGE, SEP, table, SEP, prefix) >=
        (int)sizeof(from))
        return EMU_INVALID;
    return store_copy(txn, SNAPSHOT_TABLE, from, table, prefix);
}
