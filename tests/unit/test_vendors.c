/* test_vendors.c -- the vendor registry: empty before registration, vendors found by exact name,
 * the store tables (the core's first, then each vendor's in order), and the real vendor list
 * complete: every emulated vendor fills the whole interface, owns its prefixes and names its
 * tables after itself. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "outbox.h"
#include "router.h"
#include "snapshot.h"
#include "vendor_list.h"
#include "vendors.h"

static const struct table_def alpha_tables[] = {
    {"alpha.things", NULL, NULL}, {"alpha.others", NULL, NULL}, {0}};
static const struct table_def beta_tables[] = {{"beta.items", NULL, NULL}, {0}};
static const struct vendor alpha = {.name = "alpha", .tables = alpha_tables};
static const struct vendor beta = {.name = "beta", .tables = beta_tables};
static const struct vendor bare = {.name = "bare"}; /* no tables at all */
static const struct vendor *const toy_list[] = {&alpha, &bare, &beta, NULL};

static void test_empty_registry(void **state)
{
    (void)state;
    assert_null(vendors_all()[0]);
    assert_null(vendors_own_api());
    assert_null(vendor_find("rasl"));
}

/* Runs before any vendors_store_tables call with the real list: the table list is built once. */
static void test_toy_registry_and_tables(void **state)
{
    static const char *const want[] = {
        "core.tenants", "core.credentials", OUTBOX_TABLE, SNAPSHOT_TABLE,
        "alpha.things", "alpha.others",     "beta.items", NULL};
    const char *const *tables;
    int n = 0;

    (void)state;
    vendors_register(toy_list, &beta);
    assert_ptr_equal(vendors_all(), toy_list);
    assert_ptr_equal(vendors_own_api(), &beta);
    assert_ptr_equal(vendor_find("alpha"), &alpha);
    assert_ptr_equal(vendor_find("bare"), &bare);
    assert_null(vendor_find("alph"));
    assert_null(vendor_find("alphax"));
    assert_null(vendor_find("ALPHA"));
    assert_null(vendor_find(""));
    tables = vendors_store_tables();
    for (; tables[n] != NULL; n++) {
        assert_non_null(want[n]);
        assert_string_equal(tables[n], want[n]);
    }
    assert_null(want[n]);
}

static void test_real_list(void **state)
{
    int n = 0;

    (void)state;
    vendor_list_register();
    assert_ptr_equal(vendors_own_api(), &vendor_admin);
    for (const struct vendor *const *v = vendors_all(); *v != NULL; v++, n++) {
        const struct vendor *d = *v;
        size_t len = strlen(d->name);

        assert_ptr_equal(vendor_find(d->name), d);
        assert_non_null(d->prefixes);
        assert_non_null(d->prefixes[0]);
        assert_non_null(d->routes);
        assert_non_null(d->routes[0].method); /* at least one route */
        for (const struct route *r = d->routes; r->method != NULL; r++) {
            assert_non_null(r->path);
            assert_non_null(r->handler);
        }
        assert_non_null(d->authenticate);
        assert_non_null(d->reply_error);
        if (d == &vendor_admin)
            continue;
        assert_non_null(d->credential_field);
        assert_non_null(d->check_credential);
        assert_non_null(d->has_error);
        assert_non_null(d->default_credentials);
        assert_non_null(d->tables);
        for (const struct table_def *t = d->tables; t->name != NULL; t++) {
            assert_memory_equal(t->name, d->name, len);
            assert_int_equal(t->name[len], '.');
        }
        for (const struct vendor *const *o = v + 1; *o != NULL; o++)
            assert_string_not_equal((*o)->name, d->name);
    }
    assert_int_equal(n, 4);
    assert_non_null(vendor_find("rasl"));
    assert_non_null(vendor_find("convoso"));
    assert_non_null(vendor_find("guayaba"));
    assert_ptr_equal(vendors_all()[n - 1], &vendor_admin); /* the admin API comes last */
}

int main(void)
{
    /* in this order: the registry is process state */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_registry),
        cmocka_unit_test(test_toy_registry_and_tables),
        cmocka_unit_test(test_real_list),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
