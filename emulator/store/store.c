/* store.c -- the only file that includes lmdb.h: environment, tables, transactions, documents.
 *
 * Sync mode: MDB_NOSYNC with MDB_WRITEMAP. A write transaction changes the file's shared
 * mapping (the OS page cache) in place, so a write answered 2xx survives the process being
 * killed, even with -9; it is not flushed to the disk on every commit, so a crash of the whole
 * machine may lose the last writes. That is the right trade for an emulator: durability against
 * crashes of the process under test, and commits that cost microseconds instead of an fsync.
 * The write map also means no private copy of the pages a transaction changes: without it LMDB
 * keeps every page it ever copied for a large transaction (a snapshot, a reset at scale) in the
 * heap for good. The data file is as long as the map, sparse. store_close() syncs. */
#include "store.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "err.h"

#define STORE_MAX_TABLES  96
#define STORE_MAX_INDEXES 32

/* An index entry's key in its table "<table>#<index>": group SEP sort SEP document key, group
 * and sort escaped (bytes below 0x20 as ESC and the byte + 0x40) so that SEP only separates.
 * A group's count lives in "<table>#n" under group SEP index name. */
#define INDEX_SEP       '\x1e'
#define INDEX_ESC       '\x1d'
#define INDEX_GROUP_MAX STORE_INDEX_PART
#define INDEX_SORT_MAX  100
#define INDEX_PKEY_MAX  128 /* with a snapshot's prefix, an entry's key stays under 511 */
#define INDEX_KEY_MAX   (INDEX_GROUP_MAX + INDEX_SORT_MAX + INDEX_PKEY_MAX + 2)

/* Pages kept back from ordinary writes: a full store must still be able to commit the
 * deletions that empty it (each copies a few pages, and the list of the pages it frees is
 * itself written, about 8 bytes a page), so the map LMDB gets is larger than --map-size by
 * this much, and writes are refused once their data would pass --map-size. */
#define STORE_RESERVE_MIN_PAGES 64

struct index_rt {
    const struct store_index *def;
    int table;   /* its table's position in names[] */
    MDB_dbi dbi; /* "<table>#<name>" */
    char dbname[128];
};

struct store {
    MDB_env *env;
    size_t soft_pages; /* --map-size in pages: ordinary commits stay within it */
    size_t page_size;
    size_t map_size; /* --map-size, as asked */
    int ntables;
    const char *names[STORE_MAX_TABLES]; /* borrowed from the caller's static lists */
    MDB_dbi dbis[STORE_MAX_TABLES];
    int indexed[STORE_MAX_TABLES];        /* 1: the table has indexes and a count table */
    MDB_dbi count_dbis[STORE_MAX_TABLES]; /* "<table>#n" */
    char count_names[STORE_MAX_TABLES][128];
    char
        data_path[PATH_MAX]; /* the data file's absolute path, as the process's map list names it */
    int nindexes;
    struct index_rt indexes[STORE_MAX_INDEXES];
    MDB_dbi built_dbi; /* "core.indexes": "<table>#<index>" -> "true" once built; the store's
                        * own, so that emptying core.meta (a full reseed) keeps it */
};

struct store_txn {
    struct store *st;
    MDB_txn *txn;
    int writable;
    int maintenance; /* 1: may use the reserve (a full store being emptied and reseeded) */
};

static int map_mdb(int rc, const char *what)
{
    switch (rc) {
    case MDB_SUCCESS:
        return EMU_OK;
    case MDB_NOTFOUND:
        return EMU_NOT_FOUND;
    case MDB_KEYEXIST:
        return EMU_CONFLICT;
    case MDB_MAP_FULL:
    case MDB_TXN_FULL:
        return EMU_STORE_FULL;
    case ENOMEM:
        return EMU_NOMEM;
    default:
        fprintf(stderr, "understudy: store: %s: %s\n", what, mdb_strerror(rc));
        return EMU_STORE;
    }
}

static int add_table(struct store *st, const char *name)
{
    for (int i = 0; i < st->ntables; i++)
        if (strcmp(st->names[i], name) == 0)
            return EMU_OK;
    if (st->ntables == STORE_MAX_TABLES)
        return EMU_INVALID;
    st->names[st->ntables++] = name;
    return EMU_OK;
}

static size_t reserve_pages(const struct store *st)
{
    size_t for_free_list = st->soft_pages / 256; /* twice 8 bytes for each page of the map */

    return for_free_list > STORE_RESERVE_MIN_PAGES ? for_free_list : STORE_RESERVE_MIN_PAGES;
}

static int add_index(struct store *st, const struct store_index *def)
{
    struct index_rt *ix;
    int t;

    for (t = 0; t < st->ntables; t++)
        if (strcmp(st->names[t], def->table) == 0)
            break;
    if (t == st->ntables || st->nindexes == STORE_MAX_INDEXES || def->entries == NULL)
        return EMU_INVALID;
    ix = &st->indexes[st->nindexes++];
    ix->def = def;
    ix->table = t;
    if (snprintf(ix->dbname, sizeof(ix->dbname), "%s#%s", def->table, def->name) >=
        (int)sizeof(ix->dbname))
        return EMU_INVALID;
    st->indexed[t] = 1;
    snprintf(st->count_names[t], sizeof(st->count_names[t]), "%s#n", def->table);
    return EMU_OK;
}

static int open_dbis(struct store *st, MDB_txn *txn)
{
    int rc = MDB_SUCCESS;

    for (int i = 0; rc == MDB_SUCCESS && i < st->ntables; i++) {
        rc = mdb_dbi_open(txn, st->names[i], MDB_CREATE, &st->dbis[i]);
        if (rc == MDB_SUCCESS && st->indexed[i])
            rc = mdb_dbi_open(txn, st->count_names[i], MDB_CREATE, &st->count_dbis[i]);
    }
    for (int i = 0; rc == MDB_SUCCESS && i < st->nindexes; i++)
        rc = mdb_dbi_open(txn, st->indexes[i].dbname, MDB_CREATE, &st->indexes[i].dbi);
    if (rc == MDB_SUCCESS)
        rc = mdb_dbi_open(txn, "core.indexes", MDB_CREATE, &st->built_dbi);
    return rc;
}

static int build_missing_indexes(struct store *st);

int store_open(struct store **out, const char *dir, size_t map_size, const char *const *tables,
               const struct store_index *const *indexes)
{
    struct store *st = calloc(1, sizeof(*st));
    MDB_txn *txn = NULL;
    int rc;

    *out = NULL;
    if (st == NULL)
        return EMU_NOMEM;
    rc = add_table(st, META_TABLE);
    for (int i = 0; rc == EMU_OK && tables[i] != NULL; i++)
        rc = add_table(st, tables[i]);
    for (int i = 0; rc == EMU_OK && indexes != NULL && indexes[i] != NULL; i++)
        rc = add_index(st, indexes[i]);
    /* Index and count tables are listed too (after the others, store_table), so that whatever
     * copies every table (snapshots, the seed image) copies them with their documents. */
    for (int i = 0, n = st->ntables; rc == EMU_OK && i < n; i++)
        if (st->indexed[i])
            rc = add_table(st, st->count_names[i]);
    for (int i = 0; rc == EMU_OK && i < st->nindexes; i++)
        rc = add_table(st, st->indexes[i].dbname);
    if (rc != EMU_OK) {
        free(st);
        return rc;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        free(st);
        return EMU_IO;
    }
    if (realpath(dir, st->data_path) == NULL ||
        strlen(st->data_path) + sizeof("/data.mdb") > sizeof(st->data_path))
        st->data_path[0] = '\0';
    else
        strcat(st->data_path, "/data.mdb");
    st->page_size = (size_t)sysconf(_SC_PAGESIZE); /* LMDB's page size is the OS's */
    st->map_size = map_size;
    st->soft_pages = map_size / st->page_size;
    rc = mdb_env_create(&st->env);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_set_maxdbs(st->env, (MDB_dbi)(st->ntables + 1));
    if (rc == MDB_SUCCESS)
        rc = mdb_env_set_mapsize(st->env, map_size + reserve_pages(st) * st->page_size);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_set_maxreaders(st->env, 1024);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_open(st->env, dir, MDB_NOSYNC | MDB_NOTLS | MDB_WRITEMAP, 0600);
    if (rc == MDB_SUCCESS)
        rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    if (rc == MDB_SUCCESS)
        rc = open_dbis(st, txn);
    if (rc == MDB_SUCCESS)
        rc = mdb_txn_commit(txn);
    else if (txn != NULL)
        mdb_txn_abort(txn);
    if (rc != MDB_SUCCESS) {
        int err = rc == ENOENT || rc == EACCES || rc == ENOTDIR ? EMU_IO : map_mdb(rc, "open");

        fprintf(stderr, "understudy: cannot open the store in %s: %s\n", dir, mdb_strerror(rc));
        if (st->env != NULL)
            mdb_env_close(st->env);
        free(st);
        return err;
    }
    rc = build_missing_indexes(st);
    if (rc != EMU_OK) {
        mdb_env_close(st->env);
        free(st);
        return rc;
    }
    *out = st;
    return EMU_OK;
}

void store_close(struct store *st)
{
    if (st == NULL)
        return;
    mdb_env_sync(st->env, 1);
    mdb_env_close(st->env);
    free(st);
}

static int dbi_of(struct store *st, const char *table, MDB_dbi *dbi)
{
    for (int i = 0; i < st->ntables; i++) {
        if (strcmp(st->names[i], table) == 0) {
            *dbi = st->dbis[i];
            return EMU_OK;
        }
    }
    fprintf(stderr, "understudy: store: no table %s\n", table);
    return EMU_INVALID;
}

int store_txn_begin(struct store *st, int writable, struct store_txn **out)
{
    struct store_txn *t = malloc(sizeof(*t));
    int rc;

    *out = NULL;
    if (t == NULL)
        return EMU_NOMEM;
    t->st = st;
    t->writable = writable;
    t->maintenance = 0;
    rc = mdb_txn_begin(st->env, NULL, writable ? 0 : MDB_RDONLY, &t->txn);
    if (rc != MDB_SUCCESS) {
        free(t);
        return map_mdb(rc, "txn_begin");
    }
    *out = t;
    return EMU_OK;
}

/* The pages txn's data would occupy once committed: every table's tree (indexes and counts
 * too) and the table of tables. (Free pages are not counted: LMDB reuses them.) */
static size_t data_pages(struct store_txn *txn)
{
    size_t pages = 0;
    MDB_stat stat;

    if (mdb_stat(txn->txn, 1 /* the table of tables */, &stat) == MDB_SUCCESS)
        pages += stat.ms_branch_pages + stat.ms_leaf_pages + stat.ms_overflow_pages;
    for (int i = 0; i < txn->st->ntables; i++) /* index and count tables among them */
        if (mdb_stat(txn->txn, txn->st->dbis[i], &stat) == MDB_SUCCESS)
            pages += stat.ms_branch_pages + stat.ms_leaf_pages + stat.ms_overflow_pages;
    return pages;
}

int store_txn_commit(struct store_txn *txn)
{
    int rc;

    if (txn->txn == NULL) {
        rc = MDB_BAD_TXN;
    } else if (txn->writable && !txn->maintenance && data_pages(txn) > txn->st->soft_pages) {
        mdb_txn_abort(txn->txn); /* past --map-size: the reserve is kept for emptying */
        rc = MDB_MAP_FULL;
    } else {
        rc = mdb_txn_commit(txn->txn);
    }
    free(txn);
    return map_mdb(rc, "commit");
}

void store_txn_abort(struct store_txn *txn)
{
    if (txn == NULL)
        return;
    if (txn->txn != NULL)
        mdb_txn_abort(txn->txn);
    free(txn);
}

int store_txn_checkpoint(struct store_txn *txn)
{
    int rc = txn->txn != NULL ? mdb_txn_commit(txn->txn) : MDB_BAD_TXN;

    txn->txn = NULL;
    txn->maintenance = 1;
    if (rc == MDB_SUCCESS)
        rc = mdb_txn_begin(txn->st->env, NULL, 0, &txn->txn);
    if (rc != MDB_SUCCESS)
        txn->txn = NULL;
    return map_mdb(rc, "checkpoint");
}

int store_txn_restart(struct store_txn *txn)
{
    int rc;

    if (txn->txn != NULL)
        mdb_txn_abort(txn->txn);
    txn->maintenance = 1;
    rc = mdb_txn_begin(txn->st->env, NULL, 0, &txn->txn);
    if (rc != MDB_SUCCESS)
        txn->txn = NULL;
    return map_mdb(rc, "restart");
}

static int make_key(const char *key, MDB_val *k)
{
    size_t len = strlen(key);

    if (len == 0 || len > 511)
        return EMU_INVALID;
    k->mv_data = (void *)key;
    k->mv_size = len;
    return EMU_OK;
}

int store_get(struct store_txn *txn, const char *table, const char *key, json_t **out)
{
    MDB_dbi dbi;
    MDB_val k, v;
    json_error_t jerr;
    int rc;

    *out = NULL;
    rc = dbi_of(txn->st, table, &dbi);
    if (rc != EMU_OK)
        return rc;
    if (make_key(key, &k) != EMU_OK)
        return EMU_NOT_FOUND;
    rc = map_mdb(mdb_get(txn->txn, dbi, &k, &v), "get");
    if (rc != EMU_OK)
        return rc;
    *out = json_loadb(v.mv_data, v.mv_size, JSON_DECODE_ANY, &jerr);
    if (*out == NULL) {
        fprintf(stderr, "understudy: store: %s/%s holds bad JSON: %s\n", table, key, jerr.text);
        return EMU_STORE;
    }
    return EMU_OK;
}

/* ---- index entries ---- */

struct emitted {
    int index;        /* position in st->indexes */
    size_t len;       /* of key */
    size_t group_len; /* of the escaped group at the start of key */
    char key[INDEX_KEY_MAX + 1];
};

struct store_emit {
    const char *pkey;
    size_t pkey_len, tenant_len; /* tenant_len: the key's prefix up to and with its first '/' */
    int index;
    size_t n, cap;
    struct emitted *items;
    int failed; /* EMU_NOMEM or EMU_INVALID: an entry could not be kept */
};

/* Escapes src into dst (at most max bytes, cut at a whole character of the escape); returns the
 * length written. */
static size_t escape_part(const char *src, char *dst, size_t max)
{
    size_t n = 0;

    for (; *src; src++) {
        unsigned char c = (unsigned char)*src;

        if (c < 0x20) {
            if (n + 2 > max)
                break;
            dst[n++] = INDEX_ESC;
            dst[n++] = (char)(c + 0x40);
        } else {
            if (n + 1 > max)
                break;
            dst[n++] = (char)c;
        }
    }
    return n;
}

void store_emit(struct store_emit *e, const char *group, const char *sort)
{
    struct emitted item;
    size_t n;

    if (e->failed)
        return;
    if (strncmp(group, e->pkey, e->tenant_len) != 0) {
        fprintf(stderr, "understudy: store: index group %s is not under %.*s\n", group,
                (int)e->tenant_len, e->pkey);
        e->failed = EMU_INVALID;
        return;
    }
    item.index = e->index;
    n = escape_part(group, item.key, INDEX_GROUP_MAX);
    item.group_len = n;
    item.key[n++] = INDEX_SEP;
    n += escape_part(sort ? sort : "", item.key + n, INDEX_SORT_MAX);
    item.key[n++] = INDEX_SEP;
    memcpy(item.key + n, e->pkey, e->pkey_len);
    n += e->pkey_len;
    item.key[n] = '\0';
    item.len = n;
    for (size_t i = 0; i < e->n; i++)
        if (e->items[i].index == item.index && e->items[i].len == n &&
            memcmp(e->items[i].key, item.key, n) == 0)
            return; /* emitted twice: one entry */
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 4;
        struct emitted *grown = cap <= 1024 ? realloc(e->items, cap * sizeof(*grown)) : NULL;

        if (grown == NULL) {
            e->failed = EMU_NOMEM;
            return;
        }
        e->items = grown;
        e->cap = cap;
    }
    e->items[e->n++] = item;
}

/* Collects the entries every index of table t gives doc (NULL: none) under key into e. */
static int collect_entries(struct store *st, int t, const char *key, const json_t *doc,
                           struct store_emit *e)
{
    const char *slash = strchr(key, '/');

    memset(e, 0, sizeof(*e));
    e->pkey = key;
    e->pkey_len = strlen(key);
    e->tenant_len = slash ? (size_t)(slash - key) + 1 : e->pkey_len;
    if (doc == NULL)
        return EMU_OK;
    if (e->pkey_len > INDEX_PKEY_MAX)
        return EMU_INVALID;
    for (const char *p = key; *p; p++)
        if ((unsigned char)*p < 0x20)
            return EMU_INVALID; /* a document key in an index must not hold the separators */
    for (int i = 0; i < st->nindexes && !e->failed; i++) {
        if (st->indexes[i].table != t)
            continue;
        e->index = i;
        st->indexes[i].def->entries(key, doc, e);
    }
    return e->failed ? e->failed : EMU_OK;
}

static int emitted_has(const struct store_emit *e, const struct emitted *item)
{
    for (size_t i = 0; i < e->n; i++)
        if (e->items[i].index == item->index && e->items[i].len == item->len &&
            memcmp(e->items[i].key, item->key, item->len) == 0)
            return 1;
    return 0;
}

/* Adds delta to the count of item's group in its index. */
static int count_add(struct store_txn *txn, const struct emitted *item, int delta)
{
    const struct index_rt *ix = &txn->st->indexes[item->index];
    MDB_dbi dbi = txn->st->count_dbis[ix->table];
    char key[INDEX_GROUP_MAX + 80], text[32];
    size_t nlen = strlen(ix->def->name);
    MDB_val k = {item->group_len + 1 + nlen, key}, v;
    unsigned long long n = 0;
    int mrc;

    if (item->group_len + 1 + nlen > sizeof(key))
        return EMU_INVALID;
    memcpy(key, item->key, item->group_len);
    key[item->group_len] = INDEX_SEP;
    memcpy(key + item->group_len + 1, ix->def->name, nlen);
    mrc = mdb_get(txn->txn, dbi, &k, &v);
    if (mrc == MDB_SUCCESS && v.mv_size < sizeof(text)) {
        memcpy(text, v.mv_data, v.mv_size);
        text[v.mv_size] = '\0';
        n = strtoull(text, NULL, 10);
    } else if (mrc != MDB_NOTFOUND && mrc != MDB_SUCCESS) {
        return map_mdb(mrc, "count");
    }
    n = delta < 0 && n < (unsigned long long)-delta ? 0 : n + (unsigned long long)(long long)delta;
    if (n == 0) {
        mrc = mdb_del(txn->txn, dbi, &k, NULL);
        return mrc == MDB_NOTFOUND ? EMU_OK : map_mdb(mrc, "count");
    }
    snprintf(text, sizeof(text), "%llu", n);
    v.mv_data = text;
    v.mv_size = strlen(text);
    return map_mdb(mdb_put(txn->txn, dbi, &k, &v, 0), "count");
}

/* Writes the difference between a document's old entries and its new ones. */
static int apply_entries(struct store_txn *txn, const struct store_emit *old,
                         const struct store_emit *new)
{
    int rc = EMU_OK;

    for (size_t i = 0; rc == EMU_OK && i < old->n; i++) {
        const struct emitted *item = &old->items[i];
        MDB_val k = {item->len, (void *)item->key};

        if (emitted_has(new, item))
            continue;
        rc = map_mdb(mdb_del(txn->txn, txn->st->indexes[item->index].dbi, &k, NULL), "unindex");
        if (rc == EMU_NOT_FOUND)
            rc = EMU_OK;
        if (rc == EMU_OK)
            rc = count_add(txn, item, -1);
    }
    for (size_t i = 0; rc == EMU_OK && i < new->n; i++) {
        const struct emitted *item = &new->items[i];
        MDB_val k = {item->len, (void *)item->key}, v = {0, (void *)""};

        if (emitted_has(old, item))
            continue;
        rc = map_mdb(mdb_put(txn->txn, txn->st->indexes[item->index].dbi, &k, &v, 0), "index");
        if (rc == EMU_OK)
            rc = count_add(txn, item, +1);
    }
    return rc;
}

/* The entries the document now under key in table t has (none when absent). */
static int old_entries(struct store_txn *txn, int t, const char *key, struct store_emit *e)
{
    MDB_val k = {strlen(key), (void *)key}, v;
    json_t *doc = NULL;
    int mrc = mdb_get(txn->txn, txn->st->dbis[t], &k, &v), rc;

    if (mrc == MDB_SUCCESS) {
        doc = json_loadb(v.mv_data, v.mv_size, JSON_DECODE_ANY, NULL);
        if (doc == NULL)
            return EMU_STORE;
    } else if (mrc != MDB_NOTFOUND) {
        return map_mdb(mrc, "get");
    }
    rc = collect_entries(txn->st, t, key, doc, e);
    json_decref(doc);
    return rc;
}

/* Keeps table t's indexes in step with the document under key becoming doc (NULL: deleted). */
static int reindex(struct store_txn *txn, int t, const char *key, const json_t *doc)
{
    struct store_emit old, new;
    int rc = old_entries(txn, t, key, &old);

    if (rc == EMU_OK)
        rc = collect_entries(txn->st, t, key, doc, &new);
    else
        memset(&new, 0, sizeof(new));
    if (rc == EMU_OK)
        rc = apply_entries(txn, &old, &new);
    free(old.items);
    free(new.items);
    return rc;
}

static int table_of(struct store *st, const char *table)
{
    for (int i = 0; i < st->ntables; i++)
        if (strcmp(st->names[i], table) == 0)
            return i;
    fprintf(stderr, "understudy: store: no table %s\n", table);
    return -1;
}

/* Writes val under key in table t; doc is val parsed (NULL: parsed here when t is indexed). */
static int put_document(struct store_txn *txn, int t, const char *key, const char *val, size_t len,
                        const json_t *doc)
{
    MDB_val k, v = {len, (void *)val};
    int rc = make_key(key, &k);

    if (rc == EMU_OK && txn->st->indexed[t]) {
        json_t *parsed = doc ? NULL : json_loadb(val, len, JSON_DECODE_ANY, NULL);

        if (doc == NULL && parsed == NULL)
            return EMU_INVALID;
        rc = reindex(txn, t, key, doc ? doc : parsed);
        json_decref(parsed);
    }
    if (rc == EMU_OK)
        rc = map_mdb(mdb_put(txn->txn, txn->st->dbis[t], &k, &v, 0), "put");
    return rc;
}

int store_put_raw(struct store_txn *txn, const char *table, const char *key, const char *val,
                  size_t len)
{
    int t = table_of(txn->st, table);

    return t < 0 ? EMU_INVALID : put_document(txn, t, key, val, len, NULL);
}

int store_put(struct store_txn *txn, const char *table, const char *key, const json_t *doc)
{
    int t = table_of(txn->st, table);
    char *text;
    int rc;

    if (t < 0)
        return EMU_INVALID;
    text = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text == NULL)
        return EMU_NOMEM;
    rc = put_document(txn, t, key, text, strlen(text), doc);
    free(text);
    return rc;
}

int store_del(struct store_txn *txn, const char *table, const char *key)
{
    int t = table_of(txn->st, table);
    MDB_val k;
    int rc;

    if (t < 0)
        return EMU_INVALID;
    if (make_key(key, &k) != EMU_OK)
        return EMU_NOT_FOUND;
    rc = map_mdb(mdb_get(txn->txn, txn->st->dbis[t], &k, &(MDB_val){0}), "get");
    if (rc == EMU_OK && txn->st->indexed[t])
        rc = reindex(txn, t, key, NULL);
    if (rc == EMU_OK)
        rc = map_mdb(mdb_del(txn->txn, txn->st->dbis[t], &k, NULL), "del");
    return rc;
}

/* What a walk returns: the callback's error, or the cursor's (running out is no error); a
 * callback's 1 (stop) is success. */
static int scan_result(int rc, int mrc, const char *what)
{
    if (rc == 1)
        return EMU_OK;
    if (rc != EMU_OK)
        return rc;
    return mrc == MDB_SUCCESS || mrc == MDB_NOTFOUND ? EMU_OK : map_mdb(mrc, what);
}

int store_scan_raw(struct store_txn *txn, const char *table, const char *prefix, store_raw_fn *fn,
                   void *arg)
{
    size_t plen = strlen(prefix);
    MDB_cursor *cur;
    MDB_dbi dbi;
    MDB_val k = {plen, (void *)prefix}, v;
    int rc = dbi_of(txn->st, table, &dbi), mrc;

    if (rc != EMU_OK)
        return rc;
    mrc = mdb_cursor_open(txn->txn, dbi, &cur);
    if (mrc != MDB_SUCCESS)
        return map_mdb(mrc, "cursor");
    mrc = mdb_cursor_get(cur, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
    while (mrc == MDB_SUCCESS) {
        if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
            break;
        rc = fn(k.mv_data, k.mv_size, v.mv_data, v.mv_size, arg);
        if (rc != 0)
            break;
        mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return scan_result(rc, mrc, "scan");
}

struct doc_scan {
    store_doc_fn *fn;
    void *arg;
};

static int parse_then_call(const char *key, size_t klen, const char *val, size_t vlen, void *arg)
{
    struct doc_scan *ds = arg;
    char keybuf[512];
    json_error_t jerr;
    json_t *doc;
    int rc;

    if (klen >= sizeof(keybuf))
        return EMU_STORE;
    memcpy(keybuf, key, klen);
    keybuf[klen] = '\0';
    doc = json_loadb(val, vlen, JSON_DECODE_ANY, &jerr);
    if (doc == NULL)
        return EMU_STORE;
    rc = ds->fn(keybuf, doc, ds->arg);
    json_decref(doc);
    return rc;
}

int store_scan(struct store_txn *txn, const char *table, const char *prefix, store_doc_fn *fn,
               void *arg)
{
    struct doc_scan ds = {fn, arg};

    return store_scan_raw(txn, table, prefix, parse_then_call, &ds);
}

static int seq_read(struct store_txn *txn, MDB_dbi dbi, MDB_val *k, uint64_t *n)
{
    char text[32];
    MDB_val v;
    int mrc = mdb_get(txn->txn, dbi, k, &v);

    *n = 0;
    if (mrc == MDB_SUCCESS && v.mv_size < sizeof(text)) {
        memcpy(text, v.mv_data, v.mv_size);
        text[v.mv_size] = '\0';
        *n = strtoull(text, NULL, 10);
        return EMU_OK;
    }
    return mrc == MDB_NOTFOUND ? EMU_OK : map_mdb(mrc, "seq");
}

static int seq_write(struct store_txn *txn, MDB_dbi dbi, MDB_val *k, uint64_t n)
{
    char text[32];
    MDB_val v;

    snprintf(text, sizeof(text), "%llu", (unsigned long long)n);
    v.mv_data = text;
    v.mv_size = strlen(text);
    return map_mdb(mdb_put(txn->txn, dbi, k, &v, 0), "seq");
}

/* Reads sequence name's current value into *n; key (of keycap bytes) holds the key k names. */
static int seq_current(struct store_txn *txn, const char *name, char *key, size_t keycap,
                       MDB_dbi *dbi, MDB_val *k, uint64_t *n)
{
    int rc = dbi_of(txn->st, META_TABLE, dbi);

    if (rc != EMU_OK)
        return rc;
    snprintf(key, keycap, "seq/%s", name);
    k->mv_data = key;
    k->mv_size = strlen(key);
    return seq_read(txn, *dbi, k, n);
}

int store_seq_raise(struct store_txn *txn, const char *name, uint64_t value)
{
    char key[128];
    MDB_dbi dbi;
    MDB_val k;
    uint64_t n;
    int rc = seq_current(txn, name, key, sizeof(key), &dbi, &k, &n);

    if (rc == EMU_OK && value > n)
        rc = seq_write(txn, dbi, &k, value);
    return rc;
}

int store_seq_next(struct store_txn *txn, const char *name, uint64_t *out)
{
    char key[128];
    MDB_dbi dbi;
    MDB_val k;
    uint64_t n;
    int rc = seq_current(txn, name, key, sizeof(key), &dbi, &k, &n);

    if (rc == EMU_OK)
        rc = seq_write(txn, dbi, &k, n + 1);
    if (rc == EMU_OK)
        *out = n + 1;
    return rc;
}

/* Deletes every entry of dbi whose key starts with prefix (plen bytes; 0: empties it). */
static int del_dbi_prefix(struct store_txn *txn, MDB_dbi dbi, const char *prefix, size_t plen)
{
    MDB_cursor *cur;
    MDB_val k = {plen, (void *)prefix}, v;
    int mrc;

    if (plen == 0)
        return map_mdb(mdb_drop(txn->txn, dbi, 0), "drop");
    mrc = mdb_cursor_open(txn->txn, dbi, &cur);
    if (mrc != MDB_SUCCESS)
        return map_mdb(mrc, "cursor");
    mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (mrc == MDB_SUCCESS && k.mv_size >= plen && memcmp(k.mv_data, prefix, plen) == 0) {
        mrc = mdb_cursor_del(cur, 0);
        k.mv_size = plen; /* seek again: the first key left with the prefix is the next one */
        k.mv_data = (void *)prefix;
        if (mrc == MDB_SUCCESS)
            mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    }
    mdb_cursor_close(cur);
    return mrc == MDB_SUCCESS || mrc == MDB_NOTFOUND ? EMU_OK : map_mdb(mrc, "del_prefix");
}

/* The keys of table t under prefix, one batch at a time, for deleting them document by
 * document without a cursor open on the table being changed. */
struct key_batch {
    size_t n;
    char keys[64][512];
};

static int batch_key(const char *key, size_t klen, const char *val, size_t vlen, void *arg)
{
    struct key_batch *b = arg;

    (void)val;
    (void)vlen;
    if (klen >= sizeof(b->keys[0]))
        return EMU_STORE;
    memcpy(b->keys[b->n], key, klen);
    b->keys[b->n++][klen] = '\0';
    return b->n == sizeof(b->keys) / sizeof(b->keys[0]) ? 1 : 0;
}

int store_del_prefix(struct store_txn *txn, const char *table, const char *prefix)
{
    int t = table_of(txn->st, table), rc = EMU_OK;
    size_t plen = strlen(prefix);
    const char *slash = strchr(prefix, '/');
    struct key_batch *batch;

    if (t < 0)
        return EMU_INVALID;
    if (!txn->st->indexed[t])
        return del_dbi_prefix(txn, txn->st->dbis[t], prefix, plen);
    /* Index entries start with their document's tenant prefix: a whole tenant, or the whole
     * table, goes with its entries and counts in one sweep each. */
    if (plen == 0 || (slash != NULL && slash[1] == '\0')) {
        for (int i = 0; rc == EMU_OK && i < txn->st->nindexes; i++)
            if (txn->st->indexes[i].table == t)
                rc = del_dbi_prefix(txn, txn->st->indexes[i].dbi, prefix, plen);
        if (rc == EMU_OK)
            rc = del_dbi_prefix(txn, txn->st->count_dbis[t], prefix, plen);
        return rc == EMU_OK ? del_dbi_prefix(txn, txn->st->dbis[t], prefix, plen) : rc;
    }
    batch = malloc(sizeof(*batch));
    if (batch == NULL)
        return EMU_NOMEM;
    do {
        batch->n = 0;
        rc = store_scan_raw(txn, table, prefix, batch_key, batch);
        for (size_t i = 0; rc == EMU_OK && i < batch->n; i++)
            rc = store_del(txn, table, batch->keys[i]);
    } while (rc == EMU_OK && batch->n > 0);
    free(batch);
    return rc;
}

/* ---- reading indexes ---- */

static const struct index_rt *index_of(struct store *st, const char *table, const char *index)
{
    for (int i = 0; i < st->nindexes; i++)
        if (strcmp(st->indexes[i].def->table, table) == 0 &&
            strcmp(st->indexes[i].def->name, index) == 0)
            return &st->indexes[i];
    fprintf(stderr, "understudy: store: no index %s#%s\n", table, index);
    return NULL;
}

/* *out is the count of the escaped group (NUL-terminated) in index ix. */
static int store_count_escaped(struct store_txn *txn, const struct index_rt *ix, const char *group,
                               uint64_t *out)
{
    char key[INDEX_GROUP_MAX + 80], text[32];
    size_t n = strlen(group), nlen = strlen(ix->def->name);
    MDB_val k, v;
    int mrc;

    *out = 0;
    if (n > INDEX_GROUP_MAX)
        return EMU_INVALID;
    memcpy(key, group, n);
    if (n + 1 + nlen > sizeof(key))
        return EMU_INVALID;
    key[n] = INDEX_SEP;
    memcpy(key + n + 1, ix->def->name, nlen);
    k.mv_data = key;
    k.mv_size = n + 1 + nlen;
    mrc = mdb_get(txn->txn, txn->st->count_dbis[ix->table], &k, &v);
    if (mrc == MDB_NOTFOUND)
        return EMU_OK;
    if (mrc != MDB_SUCCESS)
        return map_mdb(mrc, "count");
    if (v.mv_size >= sizeof(text))
        return EMU_STORE;
    memcpy(text, v.mv_data, v.mv_size);
    text[v.mv_size] = '\0';
    *out = strtoull(text, NULL, 10);
    return EMU_OK;
}

int store_count(struct store_txn *txn, const char *table, const char *index, const char *group,
                uint64_t *out)
{
    const struct index_rt *ix = index_of(txn->st, table, index);
    char escaped[INDEX_GROUP_MAX + 1];

    *out = 0;
    if (ix == NULL)
        return EMU_INVALID;
    escaped[escape_part(group, escaped, INDEX_GROUP_MAX)] = '\0';
    return store_count_escaped(txn, ix, escaped, out);
}

/* The sort part and the document key of an index entry's key k, whose escaped group and
 * separator are glen bytes long. */
static void split_entry(const MDB_val *k, size_t glen, const char **sort, size_t *slen,
                        const char **pkey, size_t *pklen)
{
    const char *start = (const char *)k->mv_data + glen,
               *end = (const char *)k->mv_data + k->mv_size;
    const char *sep = memchr(start, INDEX_SEP, (size_t)(end - start));

    if (sep == NULL)
        sep = end;
    *sort = start;
    *slen = (size_t)(sep - start);
    *pkey = sep < end ? sep + 1 : end;
    *pklen = (size_t)(end - *pkey);
}

/* Where sort (slen bytes) stands against bound: <0 before, 0 at, >0 after; a sort that starts
 * with bound is at it. */
static int against(const char *sort, size_t slen, const char *bound, size_t blen)
{
    int c = memcmp(sort, bound, slen < blen ? slen : blen);

    if (c != 0)
        return c;
    return slen < blen ? -1 : 0;
}

int store_index_scan(struct store_txn *txn, const char *table, const char *index,
                     const struct store_range *r, store_key_fn *fn, void *arg)
{
    const struct index_rt *ix = index_of(txn->st, table, index);
    char seek[INDEX_GROUP_MAX + INDEX_SORT_MAX + 4], from[INDEX_SORT_MAX], to[INDEX_SORT_MAX];
    char pkey[INDEX_PKEY_MAX + 1];
    size_t glen, flen = 0, tlen = 0, slen, pklen;
    uint64_t skipped = 0;
    const char *sort, *pk;
    MDB_cursor *cur;
    MDB_val k, v;
    int mrc, rc = 0;

    if (ix == NULL)
        return EMU_INVALID;
    glen = escape_part(r->group, seek, INDEX_GROUP_MAX);
    seek[glen++] = INDEX_SEP;
    if (r->from != NULL)
        flen = escape_part(r->from, from, sizeof(from));
    if (r->to != NULL)
        tlen = escape_part(r->to, to, sizeof(to));
    mrc = mdb_cursor_open(txn->txn, ix->dbi, &cur);
    if (mrc != MDB_SUCCESS)
        return map_mdb(mrc, "cursor");
    k.mv_data = seek;
    if (!r->descending) {
        memcpy(seek + glen, from, flen);
        k.mv_size = glen + flen;
        mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    } else {
        size_t n = glen;

        if (r->to != NULL) {
            memcpy(seek + n, to, tlen);
            n += tlen;
            seek[n++] = (char)0xff; /* past every sort that starts with to */
        } else {
            seek[n - 1] = INDEX_SEP + 1; /* past the whole group */
        }
        k.mv_size = n;
        mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        mrc = mdb_cursor_get(cur, &k, &v, mrc == MDB_SUCCESS ? MDB_PREV : MDB_LAST);
    }
    for (; mrc == MDB_SUCCESS;
         mrc = mdb_cursor_get(cur, &k, &v, r->descending ? MDB_PREV : MDB_NEXT)) {
        if (k.mv_size < glen || memcmp(k.mv_data, seek, glen - 1) != 0 ||
            ((const char *)k.mv_data)[glen - 1] != INDEX_SEP)
            break;
        split_entry(&k, glen, &sort, &slen, &pk, &pklen);
        if (!r->descending && r->to != NULL && against(sort, slen, to, tlen) > 0)
            break;
        if (r->descending && r->from != NULL && against(sort, slen, from, flen) < 0)
            break;
        if (skipped < r->offset) {
            skipped++;
            continue;
        }
        if (pklen >= sizeof(pkey)) {
            rc = EMU_STORE;
            break;
        }
        memcpy(pkey, pk, pklen);
        pkey[pklen] = '\0';
        rc = fn(pkey, arg);
        if (rc != 0)
            break;
    }
    mdb_cursor_close(cur);
    return scan_result(rc, mrc, "index scan");
}

struct first_key {
    char *key;
    size_t len;
    int found;
};

static int take_first(const char *key, void *arg)
{
    struct first_key *f = arg;

    snprintf(f->key, f->len, "%s", key);
    f->found = 1;
    return 1;
}

int store_index_first(struct store_txn *txn, const char *table, const char *index,
                      const char *group, char *key, size_t keylen)
{
    struct store_range r = {.group = group};
    struct first_key f = {key, keylen, 0};
    int rc = store_index_scan(txn, table, index, &r, take_first, &f);

    if (rc == EMU_OK && !f.found)
        rc = EMU_NOT_FOUND;
    return rc;
}

/* ---- building and checking ---- */

struct index_walk {
    struct store_txn *txn;
    int t, index;     /* index: one index of table t, or -1 for all of them */
    uint64_t entries; /* entries the documents give */
    char *report;
    size_t len;
    int problems;
};

static void problem(struct index_walk *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void problem(struct index_walk *w, const char *fmt, ...)
{
    size_t used = strlen(w->report);
    va_list ap;

    w->problems++;
    if (used + 1 >= w->len)
        return;
    va_start(ap, fmt);
    vsnprintf(w->report + used, w->len - used, fmt, ap);
    va_end(ap);
    used = strlen(w->report);
    if (used + 1 < w->len) {
        w->report[used] = '\n';
        w->report[used + 1] = '\0';
    }
}

/* Adds the index entries of one document (building), or checks they are there (checking). */
static int walk_document(const char *key, size_t klen, const char *val, size_t vlen, void *arg)
{
    struct index_walk *w = arg;
    struct store_emit e;
    char keybuf[512];
    json_t *doc;
    int rc;

    if (klen >= sizeof(keybuf))
        return EMU_STORE;
    memcpy(keybuf, key, klen);
    keybuf[klen] = '\0';
    doc = json_loadb(val, vlen, JSON_DECODE_ANY, NULL);
    if (doc == NULL) {
        if (w->report == NULL)
            return EMU_STORE;
        problem(w, "%s/%s: not JSON", w->txn->st->names[w->t], keybuf);
        return 0;
    }
    rc = collect_entries(w->txn->st, w->t, keybuf, doc, &e);
    json_decref(doc);
    for (size_t i = 0; rc == EMU_OK && i < e.n; i++) {
        const struct emitted *item = &e.items[i];
        MDB_val k = {item->len, (void *)item->key}, v = {0, (void *)""};

        if (w->index >= 0 && item->index != w->index)
            continue;
        w->entries++;
        if (w->report == NULL) {
            rc = map_mdb(mdb_put(w->txn->txn, w->txn->st->indexes[item->index].dbi, &k, &v, 0),
                         "index");
            if (rc == EMU_OK)
                rc = count_add(w->txn, item, +1);
        } else if (mdb_get(w->txn->txn, w->txn->st->indexes[item->index].dbi, &k, &v) !=
                   MDB_SUCCESS) {
            problem(w, "%s: no entry for %s", w->txn->st->indexes[item->index].dbname, keybuf);
        }
    }
    free(e.items);
    if (rc != EMU_OK && w->report != NULL) {
        problem(w, "%s/%s: its index entries cannot be computed", w->txn->st->names[w->t], keybuf);
        rc = EMU_OK;
    }
    return rc;
}

/* Walks the documents of table t through walk_document. */
static int walk_table(struct index_walk *w)
{
    return store_scan_raw(w->txn, w->txn->st->names[w->t], "", walk_document, w);
}

/* Empties index i and its counts, then fills them from its table. */
static int build_index(struct store_txn *txn, int i)
{
    const struct index_rt *ix = &txn->st->indexes[i];
    struct index_walk w = {.txn = txn, .t = ix->table, .index = i};
    char suffix[80];
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = del_dbi_prefix(txn, ix->dbi, "", 0), mrc;
    size_t slen;

    snprintf(suffix, sizeof(suffix), "%c%s", INDEX_SEP, ix->def->name);
    slen = strlen(suffix);
    mrc = rc == EMU_OK ? mdb_cursor_open(txn->txn, txn->st->count_dbis[ix->table], &cur) : -1;
    if (rc == EMU_OK && mrc != MDB_SUCCESS)
        return map_mdb(mrc, "cursor");
    for (mrc = rc == EMU_OK ? mdb_cursor_get(cur, &k, &v, MDB_FIRST) : MDB_NOTFOUND;
         mrc == MDB_SUCCESS; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size > slen && memcmp((char *)k.mv_data + k.mv_size - slen, suffix, slen) == 0)
            mrc = mdb_cursor_del(cur, 0);
        if (mrc != MDB_SUCCESS)
            break;
    }
    if (rc == EMU_OK) {
        mdb_cursor_close(cur);
        if (mrc != MDB_SUCCESS && mrc != MDB_NOTFOUND)
            rc = map_mdb(mrc, "count");
    }
    return rc == EMU_OK ? walk_table(&w) : rc;
}

static int build_missing_indexes(struct store *st)
{
    struct store_txn *txn;
    int rc = store_txn_begin(st, 1, &txn), built = 0;

    for (int i = 0; rc == EMU_OK && i < st->nindexes; i++) {
        MDB_val k = {strlen(st->indexes[i].dbname), st->indexes[i].dbname}, v = {4, "true"};

        if (mdb_get(txn->txn, st->built_dbi, &k, &(MDB_val){0}) == MDB_SUCCESS)
            continue;
        rc = build_index(txn, i);
        if (rc == EMU_OK)
            rc = map_mdb(mdb_put(txn->txn, st->built_dbi, &k, &v, 0), "index built");
        built = 1;
    }
    if (rc != EMU_OK) {
        store_txn_abort(txn);
        return rc;
    }
    if (!built) {
        store_txn_abort(txn);
        return EMU_OK;
    }
    txn->maintenance = 1; /* building must not fail for want of room */
    return store_txn_commit(txn);
}

int store_index_repair(struct store_txn *txn)
{
    int rc = EMU_OK;

    for (int i = 0; rc == EMU_OK && i < txn->st->nindexes; i++) {
        const struct index_rt *ix = &txn->st->indexes[i];
        MDB_stat entries, documents;

        if (mdb_stat(txn->txn, ix->dbi, &entries) != MDB_SUCCESS ||
            mdb_stat(txn->txn, txn->st->dbis[ix->table], &documents) != MDB_SUCCESS)
            return EMU_STORE;
        if (entries.ms_entries == 0 && documents.ms_entries > 0)
            rc = build_index(txn, i);
    }
    return rc;
}

/* Checks index i's entries against its counts: every group's entries are counted right, and
 * every count has its entries. */
static void check_counts(struct index_walk *w, int i)
{
    const struct index_rt *ix = &w->txn->st->indexes[i];
    char group[INDEX_GROUP_MAX + 1] = "", suffix[80];
    uint64_t n = 0, seen = 0, groups = 0, counted_groups = 0;
    MDB_cursor *cur;
    MDB_val k, v;
    int mrc;

    if (mdb_cursor_open(w->txn->txn, ix->dbi, &cur) != MDB_SUCCESS)
        return;
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const char *sep = mrc == MDB_SUCCESS ? memchr(k.mv_data, INDEX_SEP, k.mv_size) : NULL;
        size_t glen = sep ? (size_t)(sep - (const char *)k.mv_data) : 0;

        if (mrc != MDB_SUCCESS || glen != strlen(group) || memcmp(k.mv_data, group, glen) != 0) {
            if (n > 0) {
                uint64_t stored;

                groups++;
                store_count_escaped(w->txn, ix, group, &stored);
                if (stored != n)
                    problem(w, "%s: group %s has %llu entries, counted %llu", ix->dbname, group,
                            (unsigned long long)n, (unsigned long long)stored);
            }
            if (mrc != MDB_SUCCESS)
                break;
            if (sep == NULL || glen >= sizeof(group)) {
                problem(w, "%s: a malformed entry", ix->dbname);
                group[0] = '\0';
                n = 0;
                continue;
            }
            memcpy(group, k.mv_data, glen);
            group[glen] = '\0';
            n = 0;
        }
        n++;
        seen++;
    }
    mdb_cursor_close(cur);
    if (seen != w->entries)
        problem(w, "%s: %llu entries, the documents give %llu", ix->dbname,
                (unsigned long long)seen, (unsigned long long)w->entries);
    snprintf(suffix, sizeof(suffix), "%c%s", INDEX_SEP, ix->def->name);
    if (mdb_cursor_open(w->txn->txn, w->txn->st->count_dbis[ix->table], &cur) != MDB_SUCCESS)
        return;
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == MDB_SUCCESS;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        if (k.mv_size > strlen(suffix) &&
            memcmp((char *)k.mv_data + k.mv_size - strlen(suffix), suffix, strlen(suffix)) == 0)
            counted_groups++;
    mdb_cursor_close(cur);
    if (counted_groups != groups)
        problem(w, "%s: %llu groups hold entries, %llu are counted", ix->dbname,
                (unsigned long long)groups, (unsigned long long)counted_groups);
}

int store_check(struct store *st, char *report, size_t len)
{
    struct index_walk w = {.report = report, .len = len};
    int rc = store_txn_begin(st, 0, &w.txn);

    if (len > 0)
        report[0] = '\0';
    for (int i = 0; rc == EMU_OK && i < st->nindexes; i++) {
        MDB_val k = {strlen(st->indexes[i].dbname), st->indexes[i].dbname}, v;

        if (mdb_get(w.txn->txn, st->built_dbi, &k, &v) != MDB_SUCCESS)
            problem(&w, "%s: not built", st->indexes[i].dbname);
        w.t = st->indexes[i].table;
        w.index = i;
        w.entries = 0;
        rc = walk_table(&w);
        if (rc == EMU_OK)
            check_counts(&w, i);
    }
    store_txn_abort(w.txn);
    if (rc != EMU_OK)
        return rc;
    return w.problems == 0 ? EMU_OK : EMU_INVALID;
}

void store_usage(struct store *st, size_t *used, size_t *map_size)
{
    MDB_envinfo info;
    MDB_stat stat;

    mdb_env_info(st->env, &info);
    mdb_env_stat(st->env, &stat);
    *used = (info.me_last_pgno + 1) * (size_t)stat.ms_psize;
    *map_size = st->map_size; /* as asked: the reserve beyond it is not for data */
}

const char *store_table(const struct store_txn *txn, int i)
{
    return i >= 0 && i < txn->st->ntables ? txn->st->names[i] : NULL;
}

int store_copy(struct store_txn *txn, const char *from, const char *from_prefix, const char *to,
               const char *to_prefix)
{
    size_t fplen = strlen(from_prefix), tplen = strlen(to_prefix), cap = 0;
    MDB_cursor *src = NULL, *dst = NULL;
    MDB_dbi sdbi, ddbi;
    MDB_val k = {fplen, (void *)from_prefix}, v, nk, nv;
    unsigned flags = MDB_APPEND;
    char key[512], *val = NULL;
    int rc = dbi_of(txn->st, from, &sdbi), mrc;

    if (rc == EMU_OK)
        rc = dbi_of(txn->st, to, &ddbi);
    if (rc != EMU_OK)
        return rc;
    if (sdbi == ddbi || tplen >= sizeof(key))
        return EMU_INVALID;
    memcpy(key, to_prefix, tplen);
    mrc = mdb_cursor_open(txn->txn, sdbi, &src);
    if (mrc == MDB_SUCCESS)
        mrc = mdb_cursor_open(txn->txn, ddbi, &dst);
    if (mrc == MDB_SUCCESS)
        mrc = mdb_cursor_get(src, &k, &v, fplen ? MDB_SET_RANGE : MDB_FIRST);
    while (mrc == MDB_SUCCESS && k.mv_size >= fplen && memcmp(k.mv_data, from_prefix, fplen) == 0) {
        size_t klen = tplen + k.mv_size - fplen;

        if (klen == 0 || klen >= sizeof(key)) {
            rc = EMU_INVALID;
            break;
        }
        /* The value is copied out of the source page before the write: a write may spill
         * dirty pages of this transaction, and the value's page with them. */
        if (v.mv_size > cap) {
            char *grown = realloc(val, v.mv_size);

            if (grown == NULL) {
                rc = EMU_NOMEM;
                break;
            }
            val = grown;
            cap = v.mv_size;
        }
        if (v.mv_size > 0)
            memcpy(val, v.mv_data, v.mv_size);
        memcpy(key + tplen, (const char *)k.mv_data + fplen, k.mv_size - fplen);
        nk.mv_size = klen;
        nk.mv_data = key;
        nv.mv_size = v.mv_size;
        nv.mv_data = val;
        /* Appending is much cheaper, and right while the keys come after every key of the
         * destination (an emptied table); past the first key that does not, plain writes. */
        mrc = mdb_cursor_put(dst, &nk, &nv, flags);
        if (mrc == MDB_KEYEXIST && flags == MDB_APPEND) {
            flags = 0;
            mrc = mdb_cursor_put(dst, &nk, &nv, 0);
        }
        if (mrc == MDB_SUCCESS)
            mrc = mdb_cursor_get(src, &k, &v, MDB_NEXT);
    }
    if (dst != NULL)
        mdb_cursor_close(dst);
    if (src != NULL)
        mdb_cursor_close(src);
    free(val);
    if (rc != EMU_OK)
        return rc;
    return mrc == MDB_SUCCESS || mrc == MDB_NOTFOUND ? EMU_OK : map_mdb(mrc, "copy");
}

void store_txn_usage(struct store_txn *txn, size_t *used, size_t *map_size)
{
    *used = data_pages(txn) * txn->st->page_size;
    *map_size = txn->st->map_size;
}

void store_release_mapped(struct store *st)
{
    char line[PATH_MAX + 128];
    FILE *maps;

    /* LMDB does not tell where it mapped the file: the process's map list does. */
    if (st->data_path[0] == '\0' || (maps = fopen("/proc/self/maps", "r")) == NULL)
        return;
    while (fgets(line, sizeof(line), maps) != NULL) {
        unsigned long start, end;
        char *path = strchr(line, '/');

        if (path == NULL || sscanf(line, "%lx-%lx", &start, &end) != 2)
            continue;
        path[strcspn(path, "\n")] = '\0';
        /* On a shared file mapping this only unmaps the pages from the process: changed ones
         * stay in the page cache, marked for writing, and the next read maps them in again. */
        if (strcmp(path, st->data_path) == 0)
            madvise((void *)start, end - start, MADV_DONTNEED);
    }
    fclose(maps);
}
