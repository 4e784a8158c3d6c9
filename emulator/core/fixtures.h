/* fixtures.h -- the demo data: loading, checking, and seeding it into the store.
 *
 * A fixture set is a directory: tenants.json (the tenants and their credentials for each
 * vendor) and <vendor>/<table>.json files, each an object from tenant id to an array of rows.
 * The default set is compiled into the binary from fixtures/. Loading checks every file and
 * reports the first problem as "file:line:col: sentence". Seeding writes a tenant's rows (or
 * every tenant's) into the store inside the caller's write transaction. */
#ifndef EMU_FIXTURES_H
#define EMU_FIXTURES_H

#include <stddef.h>

#include <jansson.h>

struct fixtures;
struct store_txn;

/* Loads and checks the set in dir, or the built-in set when dir is NULL. On failure returns
 * EMU_INVALID (or EMU_IO, EMU_NOMEM) with one sentence in err. */
int fixtures_load(struct fixtures **out, const char *dir, char *err, size_t errlen);
void fixtures_free(struct fixtures *fx);

/* Checks one fixture file or a whole set directory without loading it for use. */
int fixtures_check_path(const char *path, char *err, size_t errlen);

/* 1 when every number among the members of cred (a credential row) is a whole number from 0
 * to INT_MAX, as rate limits are counted; otherwise 0 with *bad naming the first member that
 * is not. */
int fixtures_credential_numbers_ok(const json_t *cred, const char **bad);

/* Replaces the store's data of tenant (NULL: every tenant, and all data of tenants the set does
 * not know) with the set's. EMU_NOT_FOUND when the set has no such tenant. */
int fixtures_seed(const struct fixtures *fx, struct store_txn *txn, const char *tenant);

/* Makes tenant id a copy of tenant from's fixture data (not its current state) with the given
 * credentials ({"<vendor>": [credential rows]}, borrowed; not checked here). EMU_INVALID for
 * a malformed id, EMU_NOT_FOUND when the set has no tenant from, EMU_CONFLICT when id exists. */
int fixtures_copy_tenant(const struct fixtures *fx, struct store_txn *txn, const char *id,
                         const char *from, const json_t *credentials);
/* Deletes tenant id and all its data. EMU_NOT_FOUND when there is no such tenant. */
int fixtures_delete_tenant(struct store_txn *txn, const char *id);

/* 1 when the store was seeded before (a kept --data-dir), 0 when it is empty. */
int fixtures_store_is_seeded(struct store_txn *txn);

#endif
