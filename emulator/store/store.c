/* store.c -- the only file that includes lmdb.h: environment, tables, transactions, documents.
 *
 * Sync mode: MDB_NOSYNC. A commit writes the pages to the file (the OS page cache) before it
 * returns, so a write answered 2xx survives the process being killed, even with -9; it is not
 * flushed to the disk on every commit, so a crash of the whole machine may lose the last
 * writes. That is the right trade for an emulator: durability against crashes of the process
 * under test, and commits that cost microseconds instead of an fsync. store_close() syncs. */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "err.h"

#define STORE_MAX_TABLES 48

/* Pages kept back from ordinary writes: a full store must still be able to commit the
 * deletions that empty it (each copies a few pages, and the list of the pages it frees is
 * itself written, about 8 bytes a page), so the map LMDB gets is larger than --map-size by
 * this much, and writes are refused once their data would pass --map-size. */
#define STORE_RESERVE_MIN_PAGES 64

struct store {
    MDB_env *env;
    size_t soft_pages; /* --map-size in pages: ordinary commits stay within it */
    size_t page_size;
    size_t map_size; /* --map-size, as asked */
    int ntables;
    const char *names[STORE_MAX_TABLES]; /* borrowed from the caller's static lists */
    MDB_dbi dbis[STORE_MAX_TABLES];
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

int store_open(struct store **out, const char *dir, size_t map_size, const char *const *tables)
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
    if (rc != EMU_OK) {
        free(st);
        return rc;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        free(st);
        return EMU_IO;
    }
    st->page_size = (size_t)sysconf(_SC_PAGESIZE); /* LMDB's page size is the OS's */
    st->map_size = map_size;
    st->soft_pages = map_size / st->page_size;
    rc = mdb_env_create(&st->env);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_set_maxdbs(st->env, (MDB_dbi)st->ntables);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_set_mapsize(st->env, map_size + reserve_pages(st) * st->page_size);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_set_maxreaders(st->env, 1024);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_open(st->env, dir, MDB_NOSYNC | MDB_NOTLS, 0600);
    if (rc == MDB_SUCCESS)
        rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    for (int i = 0; rc == MDB_SUCCESS && i < st->ntables; i++)
        rc = mdb_dbi_open(txn, st->names[i], MDB_CREATE, &st->dbis[i]);
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

/* The pages txn's data would occupy once committed: every table's tree and the table of
 * tables. (Free pages are not counted: LMDB reuses them.) */
static size_t data_pages(struct store_txn *txn)
{
    size_t pages = 0;
    MDB_stat stat;

    if (mdb_stat(txn->txn, 1 /* the table of tables */, &stat) == MDB_SUCCESS)
        pages += stat.ms_branch_pages + stat.ms_leaf_pages + stat.ms_overflow_pages;
    for (int i = 0; i < txn->st->ntables; i++)
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

int store_put_raw(struct store_txn *txn, const char *table, const char *key, const char *val,
                  size_t len)
{
    MDB_dbi dbi;
    MDB_val k, v;
    int rc = dbi_of(txn->st, table, &dbi);

    if (rc != EMU_OK)
        return rc;
    rc = make_key(key, &k);
    if (rc != EMU_OK)
        return rc;
    v.mv_data = (void *)val;
    v.mv_size = len;
    return map_mdb(mdb_put(txn->txn, dbi, &k, &v, 0), "put");
}

int store_put(struct store_txn *txn, const char *table, const char *key, const json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
    int rc;

    if (text == NULL)
        return EMU_NOMEM;
    rc = store_put_raw(txn, table, key, text, strlen(text));
    free(text);
    return rc;
}

int store_del(struct store_txn *txn, const char *table, const char *key)
{
    MDB_dbi dbi;
    MDB_val k;
    int rc = dbi_of(txn->st, table, &dbi);

    if (rc != EMU_OK)
        return rc;
    if (make_key(key, &k) != EMU_OK)
        return EMU_NOT_FOUND;
    return map_mdb(mdb_del(txn->txn, dbi, &k, NULL), "del");
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
    if (rc == 1)
        return EMU_OK;
    if (rc != EMU_OK)
        return rc;
    return mrc == MDB_SUCCESS || mrc == MDB_NOTFOUND ? EMU_OK : map_mdb(mrc, "scan");
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

int store_del_prefix(struct store_txn *txn, const char *table, const char *prefix)
{
    size_t plen = strlen(prefix);
    MDB_cursor *cur;
    MDB_dbi dbi;
    MDB_val k = {plen, (void *)prefix}, v;
    int rc = dbi_of(txn->st, table, &dbi), mrc;

    if (rc != EMU_OK)
        return rc;
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
