/* fixtures.h -- the demo data: loading and checking it.
 *
 * A fixture set is a directory: tenants.json (the tenants and their credentials for each
 * vendor) and <vendor>/<table>.json files, each an object from tenant id to an array of rows.
 * The default set is compiled into the binary from fixtures/. Loading checks every file and
 * reports the first problem as "file:line:col: sentence". Writing a set into the store is
 * tenants.h's. */
#ifndef EMU_FIXTURES_H
#define EMU_FIXTURES_H

#include <stddef.h>

#include <jansson.h>

struct fixtures;

/* Loads and checks the set in dir, or the built-in set when dir is NULL. On failure returns
 * EMU_INVALID (or EMU_IO, EMU_NOMEM) with one sentence in err. */
int fixtures_load(struct fixtures **out, const char *dir, char *err, size_t errlen);
void fixtures_free(struct fixtures *fx);

/* Opens a set without loading its rows, for a start that may never need them: tenants.json is
 * loaded and checked, every other file only read through for the fingerprint, so time and
 * memory do not grow with the rows. The built-in set is loaded whole. fixtures_complete (or the
 * first fixtures_rows) loads and checks the rest. */
int fixtures_open(struct fixtures **out, const char *dir, char *err, size_t errlen);
/* Loads and checks the rows of a set fixtures_open opened (nothing to do after fixtures_load),
 * with fixtures_load's errors; EMU_INVALID also when the files changed since they were opened.
 * Not thread-safe: callers hold the store's write transaction, which serialises them. */
int fixtures_complete(struct fixtures *fx, char *err, size_t errlen);
/* Frees the rows of a set read from a directory (tenants.json stays), as fixtures_open leaves
 * it: for when the store keeps what they would seed. Same thread rule as fixtures_complete. */
void fixtures_release_rows(struct fixtures *fx);

/* Checks one fixture file or a whole set directory without loading it for use. */
int fixtures_check_path(const char *path, char *err, size_t errlen);

/* 1 when every number among the members of cred (a credential row) is a whole number from 0
 * to INT_MAX, as rate limits are counted; otherwise 0 with *bad naming the first member that
 * is not. */
int fixtures_credential_numbers_ok(const json_t *cred, const char **bad);

/* 1 when id can name a tenant: 1-32 lowercase letters, digits, '-' or '_', the first a letter or
 * a digit. */
int fixtures_tenant_id_valid(const char *id);

/* The set's tenants (tenants.json's array, borrowed), and the one called id (or NULL). */
const json_t *fixtures_tenants(const struct fixtures *fx);
const json_t *fixtures_tenant(const struct fixtures *fx, const char *id);

/* 32 hex digits that digest every file of the set, names and bytes: a store seeded from the
 * set can tell whether the set it runs with now is the same. */
const char *fixtures_fingerprint(const struct fixtures *fx);

/* Called for each fixture row of a tenant: table is the store table, key the row's key without
 * the tenant prefix, row borrowed for the call. Return EMU_OK to go on, an error to stop. */
typedef int fixtures_row_fn(const char *table, const char *key, const json_t *row, void *arg);
/* Calls fn for every row the set holds for tenant, table by table, completing the set first if
 * needed (an error of that is printed on stderr). Returns the first error. */
int fixtures_rows(struct fixtures *fx, const char *tenant, fixtures_row_fn *fn, void *arg);

#endif
