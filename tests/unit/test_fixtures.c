/* test_fixtures.c -- the built-in set loads and seeds; broken files are reported with
 * file:line:col; tenants are seeded, reset and isolated by key prefix. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "fixtures.h"
#include "vendors/guayaba/guayaba.h"
#include "store.h"
#include "tables.h"
#include "tenants.h"
#include "vendor_list.h"
#include "vendors.h"

static char dir[64];

static int make_dir(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/test_fixtures-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int remove_dir(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd);
}

static void write_file(const char *name, const char *text)
{
    char path[256];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (strchr(name, '/') != NULL) {
        char sub[256];

        snprintf(sub, sizeof(sub), "%s/%.*s", dir, (int)(strchr(name, '/') - name), name);
        mkdir(sub, 0700);
    }
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static const char tenants[] = "[{\"id\": \"demo\", \"credentials\": {\"guayaba\": "
                              "[{\"api_key\": \"k1\"}]}},\n {\"id\": \"other\"}]\n";

static void test_builtin_set_loads(void **state)
{
    struct fixtures *fx;
    char err[512];

    (void)state;
    assert_int_equal(fixtures_load(&fx, NULL, err, sizeof(err)), EMU_OK);
    fixtures_free(fx);
}

static void test_syntax_error_position(void **state)
{
    char err[512], path[256];

    (void)state;
    write_file("guayaba/campaigns.json", "{\"demo\": [\n  {\"id\": oops}\n]}\n");
    snprintf(path, sizeof(path), "%s/guayaba/campaigns.json", dir);
    assert_int_equal(fixtures_check_path(path, err, sizeof(err)), EMU_INVALID);
    assert_non_null(strstr(err, "campaigns.json:2:"));
}

static void test_bad_row_points_at_field(void **state)
{
    char err[512], path[256];

    (void)state;
    write_file("guayaba/campaigns.json",
               "{\"demo\": [\n  {\"id\": \"550e8400-e29b-41d4-a716-446655440000\",\n"
               "   \"name\": \"Q1\", \"status\": \"running\",\n"
               "   \"createdAt\": \"2026-01-01T00:00:00Z\"}\n]}\n");
    snprintf(path, sizeof(path), "%s/guayaba/campaigns.json", dir);
    assert_int_equal(fixtures_check_path(path, err, sizeof(err)), EMU_INVALID);
    assert_non_null(strstr(err, "campaigns.json:3:28: \"status\""));
}

static void test_unknown_file_and_vendor(void **state)
{
    char err[512], path[256];

    (void)state;
    write_file("nobody/things.json", "{}");
    snprintf(path, sizeof(path), "%s/nobody/things.json", dir);
    assert_int_equal(fixtures_check_path(path, err, sizeof(err)), EMU_INVALID);
    assert_non_null(strstr(err, "not a fixture file"));
    write_file("tenants.json", "[{\"id\": \"demo\", \"credentials\": {\"nobody\": []}}]");
    snprintf(path, sizeof(path), "%s/tenants.json", dir);
    assert_int_equal(fixtures_check_path(path, err, sizeof(err)), EMU_INVALID);
    assert_non_null(strstr(err, "tenants.json:1:"));
    assert_non_null(strstr(err, "nobody"));
}

static void test_set_needs_known_tenants(void **state)
{
    struct fixtures *fx;
    char err[512];

    (void)state;
    write_file("tenants.json", tenants);
    write_file("guayaba/campaigns.json", "{\"ghost\": []}");
    assert_int_equal(fixtures_load(&fx, dir, err, sizeof(err)), EMU_INVALID);
    assert_null(fx);
    assert_non_null(strstr(err, "\"ghost\" is not in tenants.json"));
}

static void test_set_without_tenants_file(void **state)
{
    struct fixtures *fx;
    char err[512];

    (void)state;
    assert_int_equal(fixtures_load(&fx, dir, err, sizeof(err)), EMU_INVALID);
    assert_non_null(strstr(err, "tenants.json"));
}

static int count_fixture_row(const char *table, const char *key, const json_t *row, void *arg)
{
    (void)table;
    (void)key;
    (void)row;
    (*(int *)arg)++;
    return EMU_OK;
}

/* fixtures_open reads a set through for its fingerprint (the same fixtures_load gives) and
 * leaves the rows for fixtures_complete, which reports what fixtures_load would and refuses
 * files changed in between. */
static void test_open_then_complete(void **state)
{
    struct fixtures *opened, *loaded;
    char err[512], stamp[40];
    int n = 0;

    (void)state;
    write_file("tenants.json", tenants);
    write_file("guayaba/campaigns.json", "{\"demo\": []}");
    assert_int_equal(fixtures_open(&opened, dir, err, sizeof(err)), EMU_OK);
    assert_int_equal(fixtures_load(&loaded, dir, err, sizeof(err)), EMU_OK);
    assert_string_equal(fixtures_fingerprint(opened), fixtures_fingerprint(loaded));
    assert_int_equal(strlen(fixtures_fingerprint(opened)), 32);
    snprintf(stamp, sizeof(stamp), "%s", fixtures_fingerprint(opened));
    fixtures_free(loaded);
    assert_int_equal(fixtures_rows(opened, "demo", count_fixture_row, &n), EMU_OK);
    assert_int_equal(fixtures_complete(opened, err, sizeof(err)), EMU_OK);
    /* rows let go of are read again when needed */
    fixtures_release_rows(opened);
    n = 0;
    assert_int_equal(fixtures_rows(opened, "demo", count_fixture_row, &n), EMU_OK);
    fixtures_free(opened);

    /* one byte more: another fingerprint; and a set that changed after it was opened */
    assert_int_equal(fixtures_open(&opened, dir, err, sizeof(err)), EMU_OK);
    write_file("guayaba/campaigns.json", "{\"demo\": [] }");
    assert_int_equal(fixtures_load(&loaded, dir, err, sizeof(err)), EMU_OK);
    assert_string_not_equal(fixtures_fingerprint(loaded), stamp);
    fixtures_free(loaded);
    assert_int_equal(fixtures_complete(opened, err, sizeof(err)), EMU_INVALID);
    assert_non_null(strstr(err, "changed after start"));
    fixtures_free(opened);

    /* a bad row file is found when the rows are loaded, with fixtures_load's message */
    write_file("guayaba/campaigns.json", "{\"ghost\": []}");
    assert_int_equal(fixtures_open(&opened, dir, err, sizeof(err)), EMU_OK);
    assert_int_equal(fixtures_complete(opened, err, sizeof(err)), EMU_INVALID);
    assert_non_null(strstr(err, "\"ghost\" is not in tenants.json"));
    fixtures_free(opened);
    /* a bad tenants.json is found at once */
    write_file("tenants.json", "[");
    assert_int_equal(fixtures_open(&opened, dir, err, sizeof(err)), EMU_INVALID);
    assert_null(opened);
}

static int count(const char *key, json_t *doc, void *arg)
{
    (void)key;
    (void)doc;
    (*(int *)arg)++;
    return 0;
}

static int rows(struct store *st, const char *table, const char *prefix)
{
    struct store_txn *txn;
    int n = 0;

    assert_int_equal(store_txn_begin(st, 0, &txn), EMU_OK);
    assert_int_equal(store_scan(txn, table, prefix, count, &n), EMU_OK);
    store_txn_abort(txn);
    return n;
}

static void test_seed_and_reset_one_tenant(void **state)
{
    struct fixtures *fx;
    struct store *st;
    struct store_txn *txn;
    char err[512], sdir[300];
    json_t *doc;

    (void)state;
    assert_int_equal(fixtures_load(&fx, NULL, err, sizeof(err)), EMU_OK);
    snprintf(sdir, sizeof(sdir), "%s/store", dir);
    assert_int_equal(
        store_open(&st, sdir, 1 << 24, vendors_store_tables(), vendors_store_indexes()), EMU_OK);
    assert_int_equal(store_txn_begin(st, 1, &txn), EMU_OK);
    assert_false(tenants_store_is_seeded(txn));
    assert_int_equal(tenants_seed(fx, txn, NULL), EMU_OK);
    assert_true(tenants_store_is_seeded(txn));
    assert_int_equal(store_txn_commit(txn), EMU_OK);
    assert_int_equal(rows(st, GUAYABA_STATUSES, "demo/"), 9);
    assert_int_equal(rows(st, GUAYABA_STATUSES, "other/"), 9);
    /* The phone index came with the contacts. */
    assert_int_equal(store_txn_begin(st, 0, &txn), EMU_OK);
    assert_int_equal(store_index_first(txn, GUAYABA_CONTACTS, GUAYABA_PHONE_INDEX,
                                       "demo/+11234567890", err, sizeof(err)),
                     EMU_OK);
    assert_string_equal(err, "demo/d290f1ee-6c54-4b01-90e6-d701748f0851");
    store_txn_abort(txn);

    /* Wipe demo's contacts by hand, then reset demo alone: demo is back, other untouched. */
    assert_int_equal(store_txn_begin(st, 1, &txn), EMU_OK);
    assert_int_equal(store_del_prefix(txn, GUAYABA_CONTACTS, "demo/"), EMU_OK);
    assert_int_equal(store_del_prefix(txn, GUAYABA_CONTACTS, "other/"), EMU_OK);
    assert_int_equal(tenants_seed(fx, txn, "demo"), EMU_OK);
    assert_int_equal(tenants_seed(fx, txn, "nobody"), EMU_NOT_FOUND);
    assert_int_equal(store_get(txn, CREDENTIALS_TABLE, "guayaba/gua_demo0001_key", &doc), EMU_OK);
    assert_string_equal(json_string_value(json_object_get(doc, "tenant")), "demo");
    json_decref(doc);
    assert_int_equal(store_txn_commit(txn), EMU_OK);
    assert_int_equal(rows(st, GUAYABA_CONTACTS, "demo/"), 30);
    assert_int_equal(rows(st, GUAYABA_CONTACTS, "other/"), 0);
    store_close(st);
    fixtures_free(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_set_loads),
        cmocka_unit_test_setup_teardown(test_syntax_error_position, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_bad_row_points_at_field, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_unknown_file_and_vendor, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_open_then_complete, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_set_needs_known_tenants, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_set_without_tenants_file, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_seed_and_reset_one_tenant, make_dir, remove_dir),
    };
    vendor_list_register(); /* as main does: the vendors the core serves */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
