/* snapshot.h -- named copies of the whole store, saved and restored in one transaction.
 *
 * A snapshot copies every entry of every table (tenants, credentials, every vendor's data, the
 * outbox, index tables) into table core.snapshots under "<name>\x1f<table>\x1f<key>", byte for
 * byte; restoring empties those tables and copies the entries back. Both stream entry by entry
 * within the caller's write transaction, so memory does not grow with the store. The id
 * sequences (core.meta) are not copied: they only move forward, so an id handed out after a
 * restore is still new. Snapshots survive /__admin/reset, so a test can reset, build a state
 * once, and return to it many times. */
#ifndef EMU_SNAPSHOT_H
#define EMU_SNAPSHOT_H

#include <jansson.h>

struct store_txn;

#define SNAPSHOT_TABLE "core.snapshots"

/* 1 when name is 1-64 letters, digits, '.', '-' or '_'. */
int snapshot_name_valid(const char *name);
/* Saves the store as name, replacing a snapshot of that name. */
int snapshot_save(struct store_txn *txn, const char *name);
/* Makes the store what it was when name was saved. EMU_NOT_FOUND when there is none. */
int snapshot_restore(struct store_txn *txn, const char *name);
/* Deletes snapshot name. EMU_NOT_FOUND when there is none. */
int snapshot_delete(struct store_txn *txn, const char *name);
/* *out is a new array of the snapshots' names. */
int snapshot_list(struct store_txn *txn, json_t **out);

#endif
