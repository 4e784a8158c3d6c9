/* tenants.c -- a tenant's life in the store: seeded from the fixtures, copied into a new tenant,
 * reset, deleted. */
#include "tenants.h"

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "fixtures.h"
#include "jsonx.h"
#include "snapshot.h"
#include "store.h"
#include "tables.h"
#include "vendors.h"

/* Whether a store table holds rows of tenants under "<tenant>/" keys: every table but the
 * core's own (vendor tables, their index tables, the outbox). */
static int tenant_rows_table(const char *table)
{
    return strcmp(table, META_TABLE) != 0 && strcmp(table, SNAPSHOT_TABLE) != 0 &&
           strcmp(table, TENANTS_TABLE) != 0 && strcmp(table, CREDENTIALS_TABLE) != 0;
}

struct row_writer {
    struct store_txn *txn;
    const char *tenant; /* the tenant the rows are written for */
};

/* Writes one fixture row under "<tenant>/<key>". */
static int write_row(const char *table, const char *key, const json_t *row, void *arg)
{
    struct row_writer *w = arg;
    char full[600];

    snprintf(full, sizeof(full), "%s/%s", w->tenant, key);
    return store_put(w->txn, table, full, row);
}

/* Writes the rows of tenant (a fixture tenant) from the seed image: every row table's entries
 * under "<tenant>/" as seeding wrote them, copied without being parsed. */
static int rows_from_image(struct store_txn *txn, const char *tenant)
{
    char prefix[80];
    const char *table;
    int rc = EMU_OK;

    snprintf(prefix, sizeof(prefix), "%s/", tenant);
    for (int i = 0; rc == EMU_OK && (table = store_table(txn, i)) != NULL; i++)
        if (tenant_rows_table(table))
            rc = snapshot_image_copy(txn, table, prefix);
    return rc;
}

/* Writes tenant t (its settings and credentials) and the fixture rows of tenant rows_of (from
 * the seed image when from_image, else from the set). A tenant made at run time keeps "from"
 * and its credentials in its row, so it can be reset. */
static int seed_tenant(struct fixtures *fx, struct store_txn *txn, const json_t *t,
                       const char *rows_of, int from_image)
{
    const char *id = jsonx_string(t, "id"), *vname;
    json_t *creds = json_object_get(t, "credentials"), *list, *doc;
    char key[600];
    int rc;

    doc = json_pack("{s:s,s:O*}", "id", id, "settings", json_object_get(t, "settings"));
    if (doc == NULL)
        return EMU_NOMEM;
    if (json_object_get(doc, "settings") == NULL)
        json_object_set_new(doc, "settings", json_object());
    if (jsonx_string(t, "from") != NULL) {
        json_object_set(doc, "from", json_object_get(t, "from"));
        json_object_set(doc, "credentials", creds);
    }
    rc = store_put(txn, TENANTS_TABLE, id, doc);
    json_decref(doc);
    json_object_foreach(creds, vname, list)
    {
        const struct vendor *v = vendor_find(vname);
        size_t i;
        json_t *cred;

        json_array_foreach(list, i, cred)
        {
            if (rc != EMU_OK)
                return rc;
            doc = json_deep_copy(cred);
            if (doc == NULL)
                return EMU_NOMEM;
            json_object_set_new(doc, "tenant", json_string(id));
            snprintf(key, sizeof(key), "%s/%s", v->name, jsonx_string(cred, v->credential_field));
            rc = store_put(txn, CREDENTIALS_TABLE, key, doc);
            json_decref(doc);
        }
    }
    if (rc == EMU_OK && from_image) {
        rc = rows_from_image(txn, id);
    } else if (rc == EMU_OK) {
        struct row_writer w = {txn, id};

        rc = fixtures_rows(fx, rows_of, write_row, &w);
    }
    for (const struct vendor *const *v = vendors_all(); rc == EMU_OK && *v != NULL; v++)
        if ((*v)->after_seed != NULL)
            rc = (*v)->after_seed(txn, id);
    return rc;
}

struct cred_sweep {
    const char *tenant;
    json_t *keys; /* credential keys of the tenant, to delete after the scan */
};

static int collect_creds(const char *key, json_t *doc, void *arg)
{
    struct cred_sweep *sw = arg;
    const char *owner = jsonx_string(doc, "tenant");

    if (owner != NULL && strcmp(owner, sw->tenant) == 0)
        return json_array_append_new(sw->keys, json_string(key)) == 0 ? 0 : EMU_NOMEM;
    return 0;
}

/* Empties table of prefix ("": all). With checkpoint the deletion is committed at once, so
 * the next table's deletion can use the pages this one frees: on a full store even a deletion
 * needs a few new pages (LMDB copies each page it changes). */
static int wipe_table(struct store_txn *txn, const char *table, const char *prefix, int checkpoint)
{
    int rc = store_del_prefix(txn, table, prefix);

    if (rc == EMU_OK && checkpoint)
        rc = store_txn_checkpoint(txn);
    return rc;
}

/* Deletes a tenant's data from every table, or all data when tenant is NULL; with checkpoint,
 * one table at a time (see wipe_table). */
static int wipe(struct store_txn *txn, const char *tenant, int checkpoint)
{
    char prefix[80];
    const char *table;
    int rc = EMU_OK;

    snprintf(prefix, sizeof(prefix), "%s/", tenant ? tenant : "");
    for (int i = 0; rc == EMU_OK && (table = store_table(txn, i)) != NULL; i++)
        if (tenant_rows_table(table))
            rc = wipe_table(txn, table, tenant ? prefix : "", checkpoint);
    if (rc != EMU_OK)
        return rc;
    if (tenant == NULL) {
        rc = wipe_table(txn, TENANTS_TABLE, "", checkpoint);
        if (rc == EMU_OK)
            rc = wipe_table(txn, CREDENTIALS_TABLE, "", checkpoint);
        return rc == EMU_OK ? wipe_table(txn, META_TABLE, "", checkpoint) : rc;
    } else {
        struct cred_sweep sw = {tenant, json_array()};
        size_t i;
        char seq[96];

        if (sw.keys == NULL)
            return EMU_NOMEM;
        rc = store_scan(txn, CREDENTIALS_TABLE, "", collect_creds, &sw);
        for (i = 0; rc == EMU_OK && i < json_array_size(sw.keys); i++)
            rc = store_del(txn, CREDENTIALS_TABLE, json_string_value(json_array_get(sw.keys, i)));
        json_decref(sw.keys);
        rc = rc == EMU_OK ? store_del(txn, TENANTS_TABLE, tenant) : rc;
        if (rc == EMU_NOT_FOUND)
            rc = EMU_OK;
        snprintf(seq, sizeof(seq), "seq/ids/%s", tenant);
        if (rc == EMU_OK && store_del(txn, META_TABLE, seq) == EMU_STORE)
            rc = EMU_STORE;
        if (rc == EMU_OK && checkpoint)
            rc = store_txn_checkpoint(txn);
        return rc;
    }
}

/* Wipes tenant's data (NULL: all) and writes it afresh; with checkpoint the wipe is committed
 * first, so the pages it frees can hold the new rows. */
static int seed(struct fixtures *fx, struct store_txn *txn, const char *tenant, int checkpoint);

int tenants_seed(struct fixtures *fx, struct store_txn *txn, const char *tenant)
{
    int rc = seed(fx, txn, tenant, 0);

    /* Committed here, wipe and rows together, so that a commit that finds no room can still
     * take the way below (the caller's own commit then has nothing left to write). */
    if (rc == EMU_OK)
        rc = store_txn_checkpoint(txn);
    /* A full store cannot take the new rows in the transaction that frees the old ones: LMDB
     * reuses a page only once the transaction that freed it has committed. So on a full store
     * the wipe is committed on its own and the rows written after it. */
    if (rc == EMU_STORE_FULL) {
        rc = store_txn_restart(txn);
        if (rc == EMU_OK)
            rc = seed(fx, txn, tenant, 1);
    }
    /* Once the store keeps an image of this set, resets copy it: the parsed rows, which can
     * be many, need not stay in memory (a copy of a tenant reads them again). */
    if (rc == EMU_OK && tenant == NULL && snapshot_image_matches(txn, fixtures_fingerprint(fx)))
        fixtures_release_rows(fx);
    return rc;
}

/* Keeps the store as seeding left it as the seed image, when the map has room for it: the
 * seeded data, its image and a snapshot or two should take at most half of it. */
static int keep_image(struct fixtures *fx, struct store_txn *txn)
{
    size_t used, map_size;
    int rc = snapshot_image_drop(txn);

    store_txn_usage(txn, &used, &map_size);
    if (rc == EMU_OK && used <= map_size / 4)
        rc = snapshot_image_save(txn, fixtures_fingerprint(fx));
    return rc;
}

static int seed(struct fixtures *fx, struct store_txn *txn, const char *tenant, int checkpoint)
{
    size_t i;
    json_t *t, *runtime = NULL;
    int rc, found = 0, image = snapshot_image_matches(txn, fixtures_fingerprint(fx));

    /* The whole store: the image is what seeding would write. */
    if (tenant == NULL && image)
        return snapshot_image_restore(txn, checkpoint);
    /* A tenant made at run time is reset to a fresh copy of the tenant it was made from. */
    if (tenant != NULL && fixtures_tenant(fx, tenant) == NULL &&
        store_get(txn, TENANTS_TABLE, tenant, &runtime) == EMU_OK) {
        rc = wipe(txn, tenant, checkpoint);
        if (rc == EMU_OK && fixtures_tenant(fx, jsonx_string(runtime, "from")) != NULL)
            rc = seed_tenant(fx, txn, runtime, jsonx_string(runtime, "from"), 0);
        else if (rc == EMU_OK)
            rc = EMU_NOT_FOUND;
        json_decref(runtime);
        return rc;
    }
    rc = wipe(txn, tenant, checkpoint);
    json_array_foreach(fixtures_tenants(fx), i, t)
    {
        if (rc != EMU_OK)
            return rc;
        if (tenant != NULL && strcmp(jsonx_string(t, "id"), tenant) != 0)
            continue;
        found = 1;
        rc = seed_tenant(fx, txn, t, jsonx_string(t, "id"), image);
    }
    if (rc == EMU_OK && tenant != NULL && !found)
        return EMU_NOT_FOUND;
    if (rc == EMU_OK)
        rc = store_put_raw(txn, META_TABLE, "seeded", "true", 4);
    if (rc == EMU_OK && tenant == NULL && !checkpoint)
        rc = keep_image(fx, txn);
    return rc;
}

int tenants_copy(struct fixtures *fx, struct store_txn *txn, const char *id, const char *from,
                 const json_t *credentials)
{
    const json_t *source = fixtures_tenant(fx, from);
    json_t *existing = NULL, *t;
    int rc;

    if (!fixtures_tenant_id_valid(id))
        return EMU_INVALID;
    if (source == NULL)
        return EMU_NOT_FOUND;
    if (store_get(txn, TENANTS_TABLE, id, &existing) == EMU_OK) {
        json_decref(existing);
        return EMU_CONFLICT;
    }
    t = json_pack("{s:s,s:s,s:O*,s:O}", "id", id, "from", from, "settings",
                  json_object_get(source, "settings"), "credentials", credentials);
    if (t == NULL)
        return EMU_NOMEM;
    rc = seed_tenant(fx, txn, t, from, 0);
    json_decref(t);
    return rc;
}

int tenants_delete(struct store_txn *txn, const char *id)
{
    json_t *existing = NULL;
    int rc = store_get(txn, TENANTS_TABLE, id, &existing);

    json_decref(existing);
    return rc == EMU_OK ? wipe(txn, id, 0) : rc;
}

int tenants_store_is_seeded(struct store_txn *txn)
{
    json_t *v = NULL;
    int rc = store_get(txn, META_TABLE, "seeded", &v);

    json_decref(v);
    return rc == EMU_OK;
}

int tenants_need_rows(const struct fixtures *fx, struct store_txn *txn)
{
    return !snapshot_image_matches(txn, fixtures_fingerprint(fx));
}
