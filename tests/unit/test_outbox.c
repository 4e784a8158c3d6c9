/* test_outbox.c -- the outbox: entries read back oldest first across tenants, split into
 * messages and webhooks, filtered by tenant and phone, with "seq" added and the entry itself
 * left untouched; keys as documented; clearing one tenant or all. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "outbox.h"
#include "store.h"
#include "store_fixture.h"

static const char *const tables[] = {OUTBOX_TABLE, NULL};

static int setup(void **state)
{
    return store_fixture_open(state, "test_outbox", tables);
}

static int teardown(void **state)
{
    return store_fixture_close(state);
}

static void add(struct fixture *f, const char *tenant, const char *list, const char *json)
{
    json_t *entry = json_loads(json, 0, NULL);

    assert_non_null(entry);
    assert_int_equal(outbox_add(f->txn, tenant, list, entry), EMU_OK);
    assert_null(json_object_get(entry, "seq")); /* borrowed, not changed */
    json_decref(entry);
}

/* The outbox of tenant and phone as compact JSON, compared with want. */
static void expect(struct fixture *f, const char *tenant, const char *phone, const char *want)
{
    json_t *got = NULL;
    char *text;

    struct outbox_query q = {.tenant = tenant, .phone = phone};

    assert_int_equal(outbox_read(f->txn, &q, &got), EMU_OK);
    text = json_dumps(got, JSON_COMPACT);
    assert_string_equal(text, want);
    free(text);
    json_decref(got);
}

static void test_empty(void **state)
{
    struct fixture *f = *state;

    expect(f, NULL, NULL, "{\"messages\":[],\"webhooks\":[]}");
    expect(f, "demo", "1", "{\"messages\":[],\"webhooks\":[]}");
    assert_int_equal(outbox_clear(f->txn, NULL), EMU_OK);
}

static void test_order_lists_and_filters(void **state)
{
    struct fixture *f = *state;

    add(f, "zed", "messages", "{\"phone\":\"1\",\"text\":\"a\"}");
    add(f, "demo", "webhooks", "{\"url\":\"u\"}");
    add(f, "demo", "messages", "{\"phone\":\"2\",\"text\":\"b\"}");
    add(f, "zed", "messages", "{\"phone\":\"2\",\"text\":\"c\"}");
    /* oldest first across tenants, though "demo/..." keys sort before "zed/..." */
    expect(f, NULL, NULL,
           "{\"messages\":[{\"phone\":\"1\",\"text\":\"a\",\"seq\":1},"
           "{\"phone\":\"2\",\"text\":\"b\",\"seq\":3},{\"phone\":\"2\",\"text\":\"c\",\"seq\":4}],"
           "\"webhooks\":[{\"url\":\"u\",\"seq\":2}]}");
    expect(f, "demo", NULL,
           "{\"messages\":[{\"phone\":\"2\",\"text\":\"b\",\"seq\":3}],"
           "\"webhooks\":[{\"url\":\"u\",\"seq\":2}]}");
    /* a phone filter drops entries without a phone */
    expect(f, NULL, "2",
           "{\"messages\":[{\"phone\":\"2\",\"text\":\"b\",\"seq\":3},"
           "{\"phone\":\"2\",\"text\":\"c\",\"seq\":4}],\"webhooks\":[]}");
    expect(f, "zed", "1",
           "{\"messages\":[{\"phone\":\"1\",\"text\":\"a\",\"seq\":1}],\"webhooks\":[]}");
    /* a tenant is a whole key segment: "de" is not "demo" */
    expect(f, "de", NULL, "{\"messages\":[],\"webhooks\":[]}");
}

/* The seqs a query answers, messages then webhooks, "+" at the end when truncated. */
static void expect_seqs(struct fixture *f, struct outbox_query q, const char *want)
{
    char got[256] = "";
    json_t *out = NULL, *row;
    size_t i;

    assert_int_equal(outbox_read(f->txn, &q, &out), EMU_OK);
    for (const char *const *list = (const char *const[]){"messages", "webhooks", NULL}; *list;
         list++)
        json_array_foreach(json_object_get(out, *list), i, row)
            snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%lld", got[0] ? " " : "",
                     (long long)json_integer_value(json_object_get(row, "seq")));
    if (json_is_true(json_object_get(out, "truncated")))
        strcat(got, " +");
    assert_string_equal(got, want);
    json_decref(out);
}

/* Reads are bounded: a limit, and after a seq, across tenants or within one. */
static void test_pages(void **state)
{
    struct fixture *f = *state;

    for (int i = 0; i < 8; i++) /* seq 1..8: zed, demo, zed, demo, ... */
        add(f, i % 2 ? "demo" : "zed", "messages",
            i == 5 ? "{\"phone\":\"1\\\"x\"}" : "{\"phone\":\"1\"}");
    expect_seqs(f, (struct outbox_query){.limit = 3}, "1 2 3 +");
    expect_seqs(f, (struct outbox_query){.limit = 3, .after = 3}, "4 5 6 +");
    expect_seqs(f, (struct outbox_query){.limit = 3, .after = 5}, "6 7 8");
    expect_seqs(f, (struct outbox_query){.tenant = "demo", .limit = 2}, "2 4 +");
    expect_seqs(f, (struct outbox_query){.tenant = "demo", .after = 4}, "6 8");
    expect_seqs(f, (struct outbox_query){.tenant = "demo", .phone = "1"}, "2 4 8");
    /* a phone with a character JSON escapes is compared after parsing */
    expect_seqs(f, (struct outbox_query){.phone = "1\"x"}, "6");
    expect_seqs(f, (struct outbox_query){.after = 8}, "");
}

static void test_keyed_and_clear(void **state)
{
    struct fixture *f = *state;
    json_t *entry = json_pack("{s:s}", "phone", "9"), *row = NULL;
    char key[128];

    assert_int_equal(outbox_add_keyed(f->txn, "demo", "messages", entry, key), EMU_OK);
    assert_string_equal(key, "demo/00000000000000000001");
    assert_int_equal(store_get(f->txn, OUTBOX_TABLE, key, &row), EMU_OK);
    assert_int_equal(json_integer_value(json_object_get(row, "seq")), 1);
    json_decref(row);
    json_decref(entry);
    add(f, "other", "messages", "{\"phone\":\"9\"}");
    assert_int_equal(outbox_clear(f->txn, "demo"), EMU_OK);
    expect(f, NULL, NULL, "{\"messages\":[{\"phone\":\"9\",\"seq\":2}],\"webhooks\":[]}");
    assert_int_equal(outbox_clear(f->txn, NULL), EMU_OK);
    expect(f, NULL, NULL, "{\"messages\":[],\"webhooks\":[]}");
    /* the sequence goes on after a clear: seqs are never reused */
    add(f, "demo", "messages", "{}");
    expect(f, NULL, NULL, "{\"messages\":[{\"seq\":3}],\"webhooks\":[]}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_lists_and_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyed_and_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pages, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
