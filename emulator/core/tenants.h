/* tenants.h -- a tenant's life in the store: seeded from the fixtures, copied, reset, deleted.
 *
 * A tenant is a row of core.tenants, its credentials in core.credentials ("<vendor>/<secret>"
 * keys), and its rows in every vendor table under the key prefix "<tenant>/". Everything here
 * runs inside the caller's write transaction.
 *
 * Seeding the whole store also keeps it as the seed image (snapshot.h), stamped with the
 * fixture set's fingerprint, when the map has room for it: resetting the store or a tenant of
 * the set then copies the image's entries back instead of writing every fixture row again, so
 * a reset costs a copy of pages, not a parse and a write of each row. A set that changed (a
 * kept --data-dir started with other fixtures) does not match the stamp and seeds from rows. */
#ifndef EMU_TENANTS_H
#define EMU_TENANTS_H

#include <jansson.h>

struct fixtures;
struct store_txn;

/* Replaces the store's data of tenant (NULL: every tenant, and all data of tenants the set does
 * not know) with the set's. EMU_NOT_FOUND when the set has no such tenant. Commits what txn
 * holds (store_txn_checkpoint), so that a store too full to take wipe and rows in one commit
 * can take them in two; txn goes on as a fresh write transaction. */
int tenants_seed(struct fixtures *fx, struct store_txn *txn, const char *tenant);

/* Makes tenant id a copy of tenant from's fixture data (not its current state) with the given
 * credentials ({"<vendor>": [credential rows]}, borrowed; not checked here). EMU_INVALID for
 * a malformed id, EMU_NOT_FOUND when the set has no tenant from, EMU_CONFLICT when id exists. */
int tenants_copy(struct fixtures *fx, struct store_txn *txn, const char *id, const char *from,
                 const json_t *credentials);
/* Deletes tenant id and all its data. EMU_NOT_FOUND when there is no such tenant. */
int tenants_delete(struct store_txn *txn, const char *id);

/* 1 when seeding or resetting may need the set's rows (loaded by fixtures_complete): the
 * store holds no seed image of this very set. A kept --data-dir seeded from the same files
 * can then start without reading them. */
int tenants_need_rows(const struct fixtures *fx, struct store_txn *txn);

/* 1 when the store was seeded before (a kept --data-dir), 0 when it is empty. */
int tenants_store_is_seeded(struct store_txn *txn);

#endif
