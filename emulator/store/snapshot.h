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

/* The seed image: the store as seeding from a fixture set left it, every table and core.meta,
 * kept in core.snapshots under SNAPSHOT_IMAGE (a name no snapshot can have, left out of
 * snapshot_list) and stamped with the set's fingerprint. Resetting from it copies pages of
 * entries instead of writing every fixture row again; the stamp tells whether it still
 * matches the fixtures the emulator runs with. */
#define SNAPSHOT_IMAGE "#seed"

/* Replaces the image with the store as it is now, stamped. */
int snapshot_image_save(struct store_txn *txn, const char *stamp);
/* Deletes the image (there may be none). */
int snapshot_image_drop(struct store_txn *txn);
/* 1 when there is an image stamped stamp. */
int snapshot_image_matches(struct store_txn *txn, const char *stamp);
/* Makes every table but core.snapshots what the image holds. With checkpoint, each emptied
 * table is committed before anything is written (store_txn_checkpoint): for a full store. */
int snapshot_image_restore(struct store_txn *txn, int checkpoint);
/* Copies the image's entries of table whose keys start with prefix back into table. */
int snapshot_image_copy(struct store_txn *txn, const char *table, const char *prefix);

#endif
