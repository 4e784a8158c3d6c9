/* test_tenants.c -- a tenant's life in a store seeded from the built-in fixtures: a copy made
 * at run time with its own credentials (refused for a bad id, an unknown source, an existing
 * id), reset to a fresh copy of its source, deleted with all its rows and credentials, and a
 * full reseed that restores the fixture tenants and forgets the run-time ones; and resets from
 * the seed image that leave the store byte for byte as resets from the fixture rows do. */
#include "vendor_world.h"

#include "snapshot.h"

static int count_row(const char *key, json_t *doc, void *arg)
{
    (void)key;
    (void)doc;
    (*(int *)arg)++;
    return 0;
}

/* How many rows of table have keys starting with prefix. */
static int count(struct store_txn *txn, const char *table, const char *prefix)
{
    int n = 0;

    assert_int_equal(store_scan(txn, table, prefix, count_row, &n), EMU_OK);
    return n;
}

/* The tenant of the credential "<vendor>/<secret>", or "" when there is none. */
static const char *cred_tenant(struct store_txn *txn, const char *key, char out[64])
{
    json_t *cred = NULL;

    out[0] = '\0';
    if (store_get(txn, "core.credentials", key, &cred) == EMU_OK)
        snprintf(out, 64, "%s", jsonx_string(cred, "tenant"));
    json_decref(cred);
    return out;
}

static json_t *creds(void)
{
    json_t *c = json_loads("{\"guayaba\":[{\"api_key\":\"gua_t1_key\"}]}", 0, NULL);

    assert_non_null(c);
    return c;
}

static void test_copy(void **state)
{
    struct world *w = *state;
    struct store_txn *txn;
    json_t *c = creds(), *row = NULL;
    char who[64];
    int demo_rows;

    assert_int_equal(store_txn_begin(w->app.store, 1, &txn), EMU_OK);
    assert_true(tenants_store_is_seeded(txn));
    demo_rows = count(txn, "guayaba.contacts", "demo/");
    assert_true(demo_rows > 0);
    assert_int_equal(count(txn, "guayaba.contacts", "t1/"), 0);
    assert_int_equal(tenants_copy(w->app.fixtures, txn, "t1", "demo", c), EMU_OK);
    assert_int_equal(count(txn, "guayaba.contacts", "t1/"), demo_rows);
    assert_string_equal(cred_tenant(txn, "guayaba/gua_t1_key", who), "t1");
    assert_string_equal(cred_tenant(txn, "guayaba/gua_demo0001_key", who), "demo");
    assert_int_equal(store_get(txn, "core.tenants", "t1", &row), EMU_OK);
    assert_string_equal(jsonx_string(row, "from"), "demo");
    json_decref(row);
    /* refusals */
    assert_int_equal(tenants_copy(w->app.fixtures, txn, "t1", "demo", c), EMU_CONFLICT);
    assert_int_equal(tenants_copy(w->app.fixtures, txn, "other", "demo", c), EMU_CONFLICT);
    assert_int_equal(tenants_copy(w->app.fixtures, txn, "t2", "nobody", c), EMU_NOT_FOUND);
    assert_int_equal(tenants_copy(w->app.fixtures, txn, "", "demo", c), EMU_INVALID);
    assert_int_equal(tenants_copy(w->app.fixtures, txn, "a/b", "demo", c), EMU_INVALID);
    assert_int_equal(count(txn, "guayaba.contacts", "t2/"), 0);
    store_txn_abort(txn);
    json_decref(c);
}

static void test_reset_and_delete(void **state)
{
    struct world *w = *state;
    struct store_txn *txn;
    json_t *c = creds();
    char who[64];
    int rows;

    assert_int_equal(store_txn_begin(w->app.store, 1, &txn), EMU_OK);
    assert_int_equal(tenants_copy(w->app.fixtures, txn, "t1", "other", c), EMU_OK);
    rows = count(txn, "guayaba.contacts", "t1/");
    assert_int_equal(store_del_prefix(txn, "guayaba.contacts", "t1/"), EMU_OK);
    /* reset: a fresh copy of its source, its own credentials kept */
    assert_int_equal(tenants_seed(w->app.fixtures, txn, "t1"), EMU_OK);
    assert_int_equal(count(txn, "guayaba.contacts", "t1/"), rows);
    assert_string_equal(cred_tenant(txn, "guayaba/gua_t1_key", who), "t1");
    assert_int_equal(tenants_seed(w->app.fixtures, txn, "nobody"), EMU_NOT_FOUND);
    /* delete: its rows, credentials and row go; the others stay */
    assert_int_equal(tenants_delete(txn, "t1"), EMU_OK);
    assert_int_equal(count(txn, "guayaba.contacts", "t1/"), 0);
    assert_string_equal(cred_tenant(txn, "guayaba/gua_t1_key", who), "");
    assert_int_equal(count(txn, "core.tenants", "t1"), 0);
    assert_int_equal(count(txn, "guayaba.contacts", "other/"), rows);
    assert_int_equal(tenants_delete(txn, "t1"), EMU_NOT_FOUND);
    assert_int_equal(tenants_seed(w->app.fixtures, txn, "t1"), EMU_NOT_FOUND);
    store_txn_abort(txn);
    json_decref(c);
}

static void test_fixture_tenant_deleted_and_reseeded(void **state)
{
    struct world *w = *state;
    struct store_txn *txn;
    json_t *c = creds();
    char who[64];
    int demo_rows, other_rows;

    assert_int_equal(store_txn_begin(w->app.store, 1, &txn), EMU_OK);
    demo_rows = count(txn, "guayaba.contacts", "demo/");
    other_rows = count(txn, "guayaba.contacts", "other/");
    assert_int_equal(tenants_copy(w->app.fixtures, txn, "t1", "demo", c), EMU_OK);
    assert_int_equal(tenants_delete(txn, "demo"), EMU_OK);
    assert_int_equal(count(txn, "guayaba.contacts", "demo/"), 0);
    assert_string_equal(cred_tenant(txn, "rasl/wm_demo_full", who), "");
    assert_int_equal(count(txn, "guayaba.contacts", "other/"), other_rows);
    /* one fixture tenant back */
    assert_int_equal(tenants_seed(w->app.fixtures, txn, "demo"), EMU_OK);
    assert_int_equal(count(txn, "guayaba.contacts", "demo/"), demo_rows);
    assert_string_equal(cred_tenant(txn, "rasl/wm_demo_full", who), "demo");
    assert_string_equal(cred_tenant(txn, "guayaba/gua_t1_key", who), "t1");
    /* everything: the run-time tenant is forgotten */
    assert_int_equal(tenants_seed(w->app.fixtures, txn, NULL), EMU_OK);
    assert_int_equal(count(txn, "guayaba.contacts", "t1/"), 0);
    assert_string_equal(cred_tenant(txn, "guayaba/gua_t1_key", who), "");
    assert_int_equal(count(txn, "core.tenants", "t1"), 0);
    assert_int_equal(count(txn, "guayaba.contacts", "demo/"), demo_rows);
    assert_true(tenants_store_is_seeded(txn));
    store_txn_abort(txn);
    json_decref(c);
}

/* A digest of every entry of every table but the snapshots, keys and values byte for byte. */
static int digest_entry(const char *key, size_t klen, const char *val, size_t vlen, void *arg)
{
    uint64_t *h = arg;
    const unsigned char *parts[2] = {(const unsigned char *)key, (const unsigned char *)val};
    size_t lens[2] = {klen, vlen};

    for (int p = 0; p < 2; p++) {
        for (size_t i = 0; i < lens[p]; i++)
            *h = (*h ^ parts[p][i]) * 1099511628211u;
        *h = (*h ^ lens[p]) * 1099511628211u;
    }
    return 0;
}

static uint64_t digest(struct store_txn *txn)
{
    uint64_t h = 14695981039346656037u;
    const char *table;

    for (int i = 0; (table = store_table(txn, i)) != NULL; i++) {
        if (strcmp(table, SNAPSHOT_TABLE) == 0)
            continue;
        digest_entry(table, strlen(table), "", 0, &h);
        assert_int_equal(store_scan_raw(txn, table, "", digest_entry, &h), EMU_OK);
    }
    return h;
}

/* Changes made by a run: rows written and deleted in several tenants, sequences moved, an
 * outbox entry, a tenant made at run time. */
static void run_something(struct world *w, struct store_txn *txn)
{
    json_t *c = creds(), *doc = json_pack("{s:s}", "x", "y");
    uint64_t n;

    assert_int_equal(store_put(txn, "guayaba.contacts", "demo/zz-new", doc), EMU_OK);
    assert_int_equal(store_put(txn, "guayaba.contacts", "other/zz-new", doc), EMU_OK);
    assert_int_equal(store_put(txn, "rasl.contacts", "demo/0000000001", doc), EMU_OK);
    assert_int_equal(store_put(txn, "core.outbox", "demo/0001", doc), EMU_OK);
    assert_int_equal(store_del_prefix(txn, "rasl.contacts", "other/"), EMU_OK);
    assert_int_equal(store_seq_next(txn, "rasl.contacts/demo", &n), EMU_OK);
    assert_int_equal(store_seq_next(txn, "rasl.messages/demo", &n), EMU_OK);
    assert_int_equal(store_seq_next(txn, "ids/demo", &n), EMU_OK);
    assert_int_equal(store_seq_next(txn, "otp/demo", &n), EMU_OK);
    tenants_delete(txn, "t1"); /* there may be one from the run before */
    assert_int_equal(tenants_copy(w->app.fixtures, txn, "t1", "demo", c), EMU_OK);
    json_decref(doc);
    json_decref(c);
}

/* A reset of tenant (NULL: all) from the image and one from the fixture rows, each after the
 * same run, give the same store. */
static void expect_same_reset(struct world *w, struct store_txn *txn, const char *tenant)
{
    const char *fp = fixtures_fingerprint(w->app.fixtures);
    uint64_t from_image;

    run_something(w, txn);
    assert_int_equal(snapshot_save(txn, "before-reset"), EMU_OK);
    assert_true(snapshot_image_matches(txn, fp));
    assert_int_equal(tenants_seed(w->app.fixtures, txn, tenant), EMU_OK);
    from_image = digest(txn);
    assert_int_equal(snapshot_restore(txn, "before-reset"), EMU_OK);
    assert_int_equal(snapshot_image_save(txn, "another set"), EMU_OK); /* a stale image */
    assert_false(snapshot_image_matches(txn, fp));
    assert_int_equal(tenants_seed(w->app.fixtures, txn, tenant), EMU_OK);
    assert_int_equal(digest(txn), from_image);
    assert_int_equal(snapshot_delete(txn, "before-reset"), EMU_OK);
    /* a reseed of everything from the rows stamps a new image */
    if (tenant != NULL)
        assert_int_equal(tenants_seed(w->app.fixtures, txn, NULL), EMU_OK);
    assert_true(snapshot_image_matches(txn, fp));
}

static void test_image_resets(void **state)
{
    struct world *w = *state;
    struct store_txn *txn;
    json_t *names = NULL;
    uint64_t seeded;

    assert_int_equal(store_txn_begin(w->app.store, 1, &txn), EMU_OK);
    seeded = digest(txn);
    /* the image is not a snapshot anyone can list */
    assert_int_equal(snapshot_list(txn, &names), EMU_OK);
    assert_int_equal(json_array_size(names), 0);
    json_decref(names);
    expect_same_reset(w, txn, "demo");
    expect_same_reset(w, txn, "other");
    expect_same_reset(w, txn, NULL);
    assert_int_equal(digest(txn), seeded); /* a full reset is the store as first seeded */
    run_something(w, txn);
    assert_int_equal(tenants_seed(w->app.fixtures, txn, NULL), EMU_OK);
    assert_int_equal(digest(txn), seeded);
    store_txn_abort(txn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_copy, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_reset_and_delete, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_fixture_tenant_deleted_and_reseeded, world_setup,
                                        world_teardown),
        cmocka_unit_test_setup_teardown(test_image_resets, world_setup, world_teardown),
    };

    (void)world_call; /* vendor_world.h's handler call and reader: not needed here */
    (void)world_text;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
