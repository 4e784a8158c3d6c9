/* test_journal.c -- the journal's bounds and its reads: filters, limit, the read budget that
 * leaves the oldest entries out, NDJSON, and entries dropped while a read holds them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "err.h"
#include "journal.h"

static void add(struct journal *j, const char *tenant, int status, const char *body, size_t len)
{
    struct journal_record r = {0};

    r.time_ms = 1767225600000LL;
    r.tenant = tenant;
    r.vendor = "guayaba";
    r.method = "POST";
    r.path = "/contacts";
    r.request_headers = "Host: x\r\n";
    r.request_headers_len = strlen(r.request_headers);
    r.request_body = body;
    r.request_body_len = len;
    r.response_body = "{}";
    r.response_body_len = 2;
    r.status = status;
    journal_add(j, &r);
}

/* Renders and parses a JSON read. */
static json_t *read_json(struct journal *j, const struct journal_filter *f, size_t limit)
{
    char *text;
    size_t len;
    json_t *doc;

    assert_int_equal(journal_render(j, f, limit, 0, &text, &len), EMU_OK);
    assert_int_equal(strlen(text), len);
    doc = json_loadb(text, len, 0, NULL);
    assert_non_null(doc);
    free(text);
    return doc;
}

static void test_filters_and_limit(void **state)
{
    struct journal *j;
    struct journal_filter all = {0}, demo = {0}, created = {0};
    json_t *doc;

    (void)state;
    assert_int_equal(journal_new(&j, 100, 1 << 20), EMU_OK);
    add(j, "demo", 201, "a", 1);
    add(j, "other", 201, "b", 1);
    add(j, "demo", 400, "c", 1);
    doc = read_json(j, &all, 0);
    assert_int_equal(json_array_size(json_object_get(doc, "requests")), 3);
    assert_int_equal(json_integer_value(json_object_get(doc, "total")), 3);
    assert_null(json_object_get(doc, "truncated"));
    json_decref(doc);
    demo.tenant = "demo";
    doc = read_json(j, &demo, 1); /* the newest one of demo's two */
    assert_int_equal(json_integer_value(json_object_get(doc, "total")), 2);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(doc, "requests"), 0), "request_body")),
                        "c");
    json_decref(doc);
    created.status = 201;
    demo.tenant = "demo-and-more-than-sixty-four-characters-of-a-tenant-id-that-exists-nowhere";
    doc = read_json(j, &demo, 0);
    assert_int_equal(json_integer_value(json_object_get(doc, "total")), 0);
    json_decref(doc);
    doc = read_json(j, &created, 0);
    assert_int_equal(json_integer_value(json_object_get(doc, "total")), 2);
    json_decref(doc);
    journal_free(j);
}

/* Control characters render six bytes each: entries of 300 KB render past the 1 MiB read
 * budget after three, so a read shows the newest three and says it left the rest out. */
static void test_read_budget_keeps_the_newest(void **state)
{
    struct journal *j;
    struct journal_filter all = {0};
    size_t big = 300 * 1024, len;
    char *body = malloc(big), *text, *line;
    json_t *doc, *list;
    int lines = 0;

    (void)state;
    memset(body, 1, big);
    assert_int_equal(journal_new(&j, 100, 4 << 20), EMU_OK);
    assert_int_equal(journal_read_budget(j), (size_t)4 << 20);
    for (int i = 0; i < 12; i++)
        add(j, "demo", 200 + i, body, big);
    doc = read_json(j, &all, 0);
    list = json_object_get(doc, "requests");
    assert_int_equal(json_integer_value(json_object_get(doc, "total")), 12);
    assert_true(json_is_true(json_object_get(doc, "truncated")));
    assert_int_equal(json_array_size(list), 2); /* 2 x 1.8 MB fit in 4 MiB, 3 do not */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 1), "status")), 211);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "status")), 210);
    json_decref(doc);
    assert_int_equal(journal_render(j, &all, 0, 1, &text, &len), EMU_OK);
    for (line = text; (line = strchr(line, '\n')) != NULL; line++)
        lines++;
    assert_int_equal(lines, 2);
    free(text);
    /* one entry over the budget still shows: the newest is never left out */
    journal_free(j);
    assert_int_equal(journal_new(&j, 100, 1 << 20), EMU_OK);
    assert_int_equal(journal_read_budget(j), JOURNAL_READ_MIN_BUDGET);
    add(j, "demo", 200, body, big);
    doc = read_json(j, &all, 0);
    assert_int_equal(json_array_size(json_object_get(doc, "requests")), 1);
    assert_null(json_object_get(doc, "truncated"));
    json_decref(doc);
    journal_free(j);
    free(body);
}

static void test_bounds_drop_the_oldest(void **state)
{
    struct journal *j;
    struct journal_filter all = {0};
    size_t entries, bytes;
    uint64_t dropped;
    json_t *doc;

    (void)state;
    assert_int_equal(journal_new(&j, 3, 1 << 20), EMU_OK);
    for (int i = 0; i < 5; i++)
        add(j, "demo", 200 + i, "x", 1);
    journal_stats(j, &entries, &bytes, &dropped);
    assert_int_equal(entries, 3);
    assert_int_equal(dropped, 2);
    doc = read_json(j, &all, 0);
    assert_int_equal(json_integer_value(json_object_get(doc, "dropped")), 2);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(doc, "requests"), 0), "status")),
                     202);
    json_decref(doc);
    journal_clear(j);
    journal_stats(j, &entries, &bytes, &dropped);
    assert_int_equal(entries + bytes + dropped, 0);
    journal_free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filters_and_limit),
        cmocka_unit_test(test_read_budget_keeps_the_newest),
        cmocka_unit_test(test_bounds_drop_the_oldest),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
