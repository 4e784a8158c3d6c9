/* test_tenants.c -- a tenant's life in a store seeded from the built-in fixtures: a copy made
 * at run time with its own credentials (refused for a bad id, an unknown source, an existing
 * id), reset to a fresh copy of its source, deleted with all its rows and credentials, and a
 * full reseed that restores the fixture tenants and forgets the run-time ones. */
#include "vendor_world.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_copy, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_reset_and_delete, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_fixture_tenant_deleted_and_reseeded, world_setup,
                                        world_teardown),
    };

    (void)world_call; /* vendor_world.h's handler call and reader: not needed here */
    (void)world_text;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
