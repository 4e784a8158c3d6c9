/* store.h -- JSON documents in named tables, over LMDB.
 *
 * A table is an LMDB named database ("guayaba.contacts"); keys are strings, values are compact
 * JSON whose key order is kept as written. Every table is opened once in store_open(), before
 * any request thread runs. One transaction per request: store_txn_begin() is called by the
 * dispatcher, handlers only read and write through it. Keys of tenant data start with
 * "<tenant>/", so a tenant is a key prefix in every table. Nothing borrowed from LMDB escapes
 * this module except through a scan callback, for the duration of that call.
 *
 * A table may keep secondary indexes (struct store_index): from each document an index derives
 * entries (group, sort); the store writes them, and a count per group, in the same transaction
 * as the document, so an index never disagrees with its table, even after kill -9. Reading a
 * group in sort order, or its count, costs O(log N) plus what is read. Index tables are the
 * store's own: store_table() does not list them, and writing a document is the only way to
 * change them. */
#ifndef EMU_STORE_H
#define EMU_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct store;
struct store_txn;

/* The store's own table: the counters of store_seq_next ("seq/<name>") and other flags. */
#define META_TABLE "core.meta"

/* The longest group and sort an index entry keeps; longer ones are cut (entries of two groups
 * that agree on the first STORE_INDEX_PART bytes then share a group: check the documents when
 * that matters, as a uniqueness lookup on a long name must). */
#define STORE_INDEX_PART 160

/* Collects the entries store_index.entries emits for one document. */
struct store_emit;
/* Adds the entry (group, sort) to e. group must start with the document key's tenant prefix
 * ("demo/" for key "demo/42"), so that a tenant's entries go with its data; sort orders the
 * group's entries (then the document key does), bytewise: write numbers with a fixed width. */
void store_emit(struct store_emit *e, const char *group, const char *sort);

struct store_index {
    const char *table; /* the indexed table, "guayaba.contacts" */
    const char *name;  /* "phone": unique within the table */
    /* Emits doc's entries (none, one, or several, as a contact in three groups has three);
     * key is the document's key. Must depend on nothing but key and doc. */
    void (*entries)(const char *key, const json_t *doc, struct store_emit *e);
};

/* Opens (creating) the environment in dir with the given map size and tables (NULL-ended;
 * META_TABLE is always added), and indexes (NULL-ended, or NULL) on those tables. An index the
 * data directory does not hold yet (a new index, or data written by an older understudy) is
 * built from its table here. Errors: EMU_IO when dir is unusable, EMU_STORE otherwise.
 * Commits whose data would pass map_size fail with EMU_STORE_FULL; LMDB's map is a little
 * larger (a reserve of at least 64 pages, and 1/256 of the map) so that a full store can
 * still be emptied (see store_txn_restart). */
int store_open(struct store **out, const char *dir, size_t map_size, const char *const *tables,
               const struct store_index *const *indexes);
/* Flushes and closes; NULL is fine. No transaction may be open. */
void store_close(struct store *st);

/* Begins a read (writable 0) or write transaction. Write transactions are serialised by LMDB. */
int store_txn_begin(struct store *st, int writable, struct store_txn **out);
/* Commits and frees txn, also on error (EMU_STORE_FULL when the map is full). */
int store_txn_commit(struct store_txn *txn);
/* Aborts and frees txn; NULL is fine. */
void store_txn_abort(struct store_txn *txn);
/* For a write transaction that must free pages before it can write: commits what txn holds
 * and goes on in a new write transaction under the same handle. Pages freed before the
 * checkpoint (a table emptied) can be written after it, which LMDB does not allow within one
 * transaction, so a full store can be emptied and refilled. Another writer may run in
 * between. On failure txn holds no transaction: commit then fails and abort just frees it. */
int store_txn_checkpoint(struct store_txn *txn);
/* Throws away what write transaction txn did (after a failure, such as EMU_STORE_FULL, that
 * leaves it unusable) and goes on in a new write transaction under the same handle. From then
 * on txn may use the reserve beyond the map size: for emptying a full store and reseeding it,
 * which must not fail for want of room. */
int store_txn_restart(struct store_txn *txn);

/* *out is a new reference. EMU_NOT_FOUND when absent. */
int store_get(struct store_txn *txn, const char *table, const char *key, json_t **out);
/* Writes doc (borrowed) under key, replacing what was there. */
int store_put(struct store_txn *txn, const char *table, const char *key, const json_t *doc);
/* Writes len bytes of compact JSON (borrowed) under key. */
int store_put_raw(struct store_txn *txn, const char *table, const char *key, const char *val,
                  size_t len);
/* EMU_NOT_FOUND when absent. */
int store_del(struct store_txn *txn, const char *table, const char *key);

/* Called for each entry whose key starts with the scan's prefix, in key order. key and val are
 * borrowed for the call only and are not NUL-terminated. Return 0 to go on, 1 to stop early,
 * or an error code to stop and have the scan return it. */
typedef int store_raw_fn(const char *key, size_t klen, const char *val, size_t vlen, void *arg);
int store_scan_raw(struct store_txn *txn, const char *table, const char *prefix, store_raw_fn *fn,
                   void *arg);
/* Like store_scan_raw with the value parsed: doc is borrowed for the call only. */
typedef int store_doc_fn(const char *key, json_t *doc, void *arg);
int store_scan(struct store_txn *txn, const char *table, const char *prefix, store_doc_fn *fn,
               void *arg);

/* Deletes every entry whose key starts with prefix ("" empties the table). */
int store_del_prefix(struct store_txn *txn, const char *table, const char *prefix);

/* Copies, byte for byte, every entry of table from whose key starts with from_prefix into table
 * to, under to_prefix followed by the rest of the key ("" and "" copy a whole table). Entries
 * stream through cursors: memory stays that of one entry whatever the table holds. Fastest
 * into an emptied table. from and to must differ (EMU_INVALID); a key that would pass the
 * store's 511 bytes is EMU_INVALID. Raw: into an indexed table it writes no index entries, so
 * the table's index and count tables must be copied with it (as every-table copies do). */
int store_copy(struct store_txn *txn, const char *from, const char *from_prefix, const char *to,
               const char *to_prefix);

/* ---- reading indexes ---- */

/* *out is the number of entries in group of table's index name (0 when none). */
int store_count(struct store_txn *txn, const char *table, const char *index, const char *group,
                uint64_t *out);

/* Which entries of a group store_index_scan walks. */
struct store_range {
    const char *group;
    const char *from, *to; /* sort bounds, NULL: open; to also takes sorts that start with it */
    int descending;        /* 1: from the highest sort down */
    uint64_t offset;       /* entries passed over first (a page's start) */
};
/* Called with each entry's document key (NUL-terminated, borrowed for the call). Returns 0 to
 * go on, 1 to stop, or an error code to stop and have the scan return it. */
typedef int store_key_fn(const char *key, void *arg);
/* Walks r's entries of table's index name in sort order, or the reverse. */
int store_index_scan(struct store_txn *txn, const char *table, const char *index,
                     const struct store_range *r, store_key_fn *fn, void *arg);
/* The key of the first document in group (key of keylen bytes); EMU_NOT_FOUND when empty. */
int store_index_first(struct store_txn *txn, const char *table, const char *index,
                      const char *group, char *key, size_t keylen);

/* Recomputes every index from its table and compares: missing, extra and miscounted entries
 * are described in report (len bytes, one problem a line, cut when long). EMU_OK when all
 * agree, EMU_INVALID otherwise. */
int store_check(struct store *st, char *report, size_t len);
/* Builds again, in txn, every index that holds no entry while its table holds documents: after
 * a copy that brought documents without their index tables (a snapshot taken before the index
 * existed). */
int store_index_repair(struct store_txn *txn);

/* Increments the named counter in core.meta and stores the new value in *out (first is 1). */
int store_seq_next(struct store_txn *txn, const char *name, uint64_t *out);

/* Sets the named counter so that the next store_seq_next gives value + 1 (never lowers it). */
int store_seq_raise(struct store_txn *txn, const char *name, uint64_t value);

/* The i-th table the store was opened with, or NULL past the last: META_TABLE first, then
 * store_open's list in order (a name listed twice, once), then the store's own index tables
 * ("<table>#<index>") and count tables ("<table>#n"). Those change only with their documents;
 * a copy of every table (a snapshot) copies them as they are, which keeps them in step. */
const char *store_table(const struct store_txn *txn, int i);

/* Bytes the tables' pages take as transaction txn sees them, and the map size (as asked). */
void store_txn_usage(struct store_txn *txn, size_t *used, size_t *map_size);

/* Lets go of the pages of the data file the process has mapped in (they count in its resident
 * memory; a full scan maps the whole file): they stay in the OS's page cache, and what is read
 * next is mapped in again. Safe at any time, with transactions running. */
void store_release_mapped(struct store *st);

/* Bytes in use by the environment's pages and the map size. */
void store_usage(struct store *st, size_t *used, size_t *map_size);

#endif
