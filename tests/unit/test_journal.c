/* test_journal.c -- the journal's bounds and its reads: filters, limit, the read budget that
 * leaves the oldest entries out, NDJSON, and entries dropped while a read holds them; threads
 * recording while others read (and clear), each read a consistent window. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
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

#define RECORDERS 4
#define RECORDED  2000
#define KEPT      500

struct concurrent {
    struct journal *j;
    atomic_int recording; /* recorders not finished yet */
    int clear;            /* a reader also clears the journal now and then */
    int id;
};

static void *record_many(void *p)
{
    struct concurrent *c = p;
    char body[32];

    for (int i = 0; i < RECORDED; i++) {
        int n = snprintf(body, sizeof(body), "t%d %d", c->id, i);

        add(c->j, "demo", 200, body, (size_t)n);
    }
    return NULL;
}

/* Reads until the recorders are done: every read is a window of the journal, oldest first,
 * and each recorder's entries in it in the order it recorded them. */
static void *read_many(void *p)
{
    struct concurrent *c = p;
    struct journal_filter all = {0};
    size_t count;
    int complete, reads = 0;

    while (atomic_load(&c->recording) > 0 || reads == 0) {
        json_t *doc = read_json(c->j, &all, 0), *list = json_object_get(doc, "requests"), *e;
        int last[RECORDERS] = {-1, -1, -1, -1};
        json_int_t seq = 0;
        size_t i;

        assert_true(json_array_size(list) <= KEPT);
        json_array_foreach(list, i, e)
        {
            int id, n;

            assert_true(json_integer_value(json_object_get(e, "seq")) > seq);
            seq = json_integer_value(json_object_get(e, "seq"));
            assert_int_equal(
                sscanf(json_string_value(json_object_get(e, "request_body")), "t%d %d", &id, &n),
                2);
            assert_true(n > last[id]);
            last[id] = n;
        }
        json_decref(doc);
        journal_count(c->j, &all, &count, &complete);
        assert_true(count <= KEPT);
        if (c->clear && ++reads % 4 == 0)
            journal_clear(c->j);
        reads++;
    }
    return NULL;
}

static void run_concurrently(struct journal *j, int clear)
{
    struct concurrent rec[RECORDERS], reader = {.j = j, .clear = clear};
    pthread_t recorders[RECORDERS], readers[2];

    atomic_init(&reader.recording, RECORDERS);
    for (int r = 0; r < 2; r++)
        assert_int_equal(pthread_create(&readers[r], NULL, read_many, &reader), 0);
    for (int t = 0; t < RECORDERS; t++) {
        rec[t].j = j;
        rec[t].id = t;
        assert_int_equal(pthread_create(&recorders[t], NULL, record_many, &rec[t]), 0);
    }
    for (int t = 0; t < RECORDERS; t++) {
        pthread_join(recorders[t], NULL);
        atomic_fetch_sub(&reader.recording, 1);
    }
    for (int r = 0; r < 2; r++)
        pthread_join(readers[r], NULL);
}

static void test_recording_while_reading(void **state)
{
    struct journal *j;
    struct journal_filter all = {0};
    size_t entries, bytes;
    uint64_t dropped;
    int newest[RECORDERS] = {-1, -1, -1, -1}, shown = 0;
    json_t *doc, *e;
    size_t i;

    (void)state;
    /* bounded by count only: what reads park meanwhile never fills the byte bound */
    assert_int_equal(journal_new(&j, KEPT, 64 << 20), EMU_OK);
    run_concurrently(j, 0);
    journal_stats(j, &entries, &bytes, &dropped);
    assert_int_equal(entries, KEPT);
    assert_int_equal(dropped, RECORDERS * RECORDED - KEPT); /* nothing lost uncounted */
    doc = read_json(j, &all, 0);
    assert_int_equal(json_integer_value(json_object_get(doc, "total")), KEPT);
    /* the window is the last KEPT recorded: of each recorder in it, a run that ends with its
     * last entry */
    json_array_foreach(json_object_get(doc, "requests"), i, e)
    {
        int id, n;

        sscanf(json_string_value(json_object_get(e, "request_body")), "t%d %d", &id, &n);
        assert_true(newest[id] == -1 || n == newest[id] + 1);
        newest[id] = n;
    }
    for (int t = 0; t < RECORDERS; t++) {
        assert_true(newest[t] == -1 || newest[t] == RECORDED - 1);
        shown += newest[t] != -1;
    }
    assert_true(shown > 0);
    json_decref(doc);
    journal_free(j);
}

static void test_clearing_while_recording_and_reading(void **state)
{
    struct journal *j;
    size_t entries, bytes;
    uint64_t dropped;

    (void)state;
    assert_int_equal(journal_new(&j, KEPT, 64 << 10), EMU_OK); /* the byte bound bites too */
    run_concurrently(j, 1);
    journal_stats(j, &entries, &bytes, &dropped);
    assert_true(entries <= KEPT && bytes <= 64 << 10);
    journal_free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filters_and_limit),
        cmocka_unit_test(test_read_budget_keeps_the_newest),
        cmocka_unit_test(test_bounds_drop_the_oldest),
        cmocka_unit_test(test_recording_while_reading),
        cmocka_unit_test(test_clearing_while_recording_and_reading),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
