/* test_store_index.c -- secondary indexes: entries and counts follow every put, delete and
 * prefix delete in the same transaction; scans in both directions, with bounds and offsets,
 * give what a full scan of the table gives on random data; an index is built when a data
 * directory does not hold it yet; store_check finds an index that disagrees; the store lets
 * its mapped pages go. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "snapshot.h"
#include "store.h"

#define THINGS "test.things"

static const char *const tables[] = {THINGS, SNAPSHOT_TABLE, NULL};

/* The tenant prefix of key ("demo/" of "demo/7"), in out. */
static void tenant_of(const char *key, char *out, size_t len)
{
    const char *slash = strchr(key, '/');

    snprintf(out, len, "%.*s", slash ? (int)(slash - key + 1) : 0, key);
}

/* "status": group "<tenant>/<status>", sorted by "at"; documents without a status have none. */
static void by_status(const char *key, const json_t *doc, struct store_emit *e)
{
    const char *status = json_string_value(json_object_get(doc, "status"));
    const char *at = json_string_value(json_object_get(doc, "at"));
    char tenant[64], group[160];

    if (status == NULL)
        return;
    tenant_of(key, tenant, sizeof(tenant));
    snprintf(group, sizeof(group), "%s%s", tenant, status);
    store_emit(e, group, at ? at : "");
}

/* "tag": one entry per tag in "tags", all sorted by key. */
static void by_tag(const char *key, const json_t *doc, struct store_emit *e)
{
    json_t *tag;
    size_t i;
    char tenant[64], group[160];

    tenant_of(key, tenant, sizeof(tenant));
    json_array_foreach(json_object_get(doc, "tags"), i, tag)
    {
        snprintf(group, sizeof(group), "%s%s", tenant, json_string_value(tag));
        store_emit(e, group, "");
    }
}

static const struct store_index status_index = {THINGS, "status", by_status};
static const struct store_index tag_index = {THINGS, "tag", by_tag};
static const struct store_index *const indexes[] = {&status_index, &tag_index, NULL};

struct fixture {
    char dir[64];
    struct store *st;
    struct store_txn *txn;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    strcpy(f->dir, "/tmp/test_store_index-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(&f->st, f->dir, 1 << 24, tables, indexes), EMU_OK);
    assert_int_equal(store_txn_begin(f->st, 1, &f->txn), EMU_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    store_txn_abort(f->txn);
    store_close(f->st);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void put(struct store_txn *txn, const char *key, const char *status, const char *at)
{
    json_t *doc = json_pack("{s:s?,s:s}", "status", status, "at", at);

    assert_int_equal(store_put(txn, THINGS, key, doc), EMU_OK);
    json_decref(doc);
}

static uint64_t count(struct store_txn *txn, const char *index, const char *group)
{
    uint64_t n = 99;

    assert_int_equal(store_count(txn, THINGS, index, group, &n), EMU_OK);
    return n;
}

struct collected {
    size_t n;
    char keys[64][64];
};

static int collect(const char *key, void *arg)
{
    struct collected *c = arg;

    snprintf(c->keys[c->n++], sizeof(c->keys[0]), "%s", key);
    return c->n == 64 ? 1 : 0;
}

/* The keys r gives, joined by spaces, in out. */
static const char *scan(struct store_txn *txn, const struct store_range *r, char *out, size_t len)
{
    struct collected c = {0};

    assert_int_equal(store_index_scan(txn, THINGS, "status", r, collect, &c), EMU_OK);
    out[0] = '\0';
    for (size_t i = 0; i < c.n; i++)
        snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? " " : "", c.keys[i]);
    return out;
}

static void test_entries_follow_writes(void **state)
{
    struct fixture *f = *state;
    char key[64], out[512];
    struct store_range r = {.group = "demo/open"};

    put(f->txn, "demo/1", "open", "2025-01-03");
    put(f->txn, "demo/2", "open", "2025-01-01");
    put(f->txn, "demo/3", "closed", "2025-01-02");
    put(f->txn, "other/1", "open", "2025-01-01");
    put(f->txn, "demo/4", NULL, "2025-01-04"); /* no entry */
    assert_int_equal(count(f->txn, "status", "demo/open"), 2);
    assert_int_equal(count(f->txn, "status", "demo/closed"), 1);
    assert_int_equal(count(f->txn, "status", "other/open"), 1);
    assert_int_equal(count(f->txn, "status", "demo/nothing"), 0);
    assert_string_equal(scan(f->txn, &r, out, sizeof(out)), "demo/2 demo/1");

    put(f->txn, "demo/2", "closed", "2025-01-01"); /* moves group */
    assert_int_equal(count(f->txn, "status", "demo/open"), 1);
    assert_int_equal(count(f->txn, "status", "demo/closed"), 2);
    put(f->txn, "demo/2", "closed", "2025-01-01"); /* the same again: nothing moves */
    assert_int_equal(count(f->txn, "status", "demo/closed"), 2);
    assert_int_equal(store_del(f->txn, THINGS, "demo/3"), EMU_OK);
    assert_int_equal(store_del(f->txn, THINGS, "demo/3"), EMU_NOT_FOUND);
    assert_int_equal(count(f->txn, "status", "demo/closed"), 1);
    assert_int_equal(store_index_first(f->txn, THINGS, "status", "demo/closed", key, sizeof(key)),
                     EMU_OK);
    assert_string_equal(key, "demo/2");
    assert_int_equal(store_index_first(f->txn, THINGS, "status", "demo/gone", key, sizeof(key)),
                     EMU_NOT_FOUND);
    /* raw JSON goes through the same bookkeeping */
    assert_int_equal(
        store_put_raw(f->txn, THINGS, "demo/5", "{\"status\":\"open\",\"at\":\"0\"}", 26), EMU_OK);
    assert_string_equal(scan(f->txn, &r, out, sizeof(out)), "demo/5 demo/1");
    assert_int_equal(store_check(f->st, out, sizeof(out)), EMU_OK); /* committed state only */
}

static void test_scan_bounds_offset_direction(void **state)
{
    struct fixture *f = *state;
    char key[16], at[32], out[512];
    struct store_range r = {.group = "demo/open"};

    for (int i = 1; i <= 9; i++) {
        snprintf(key, sizeof(key), "demo/%d", i);
        snprintf(at, sizeof(at), "2025-01-0%dT10:00:00Z", i);
        put(f->txn, key, "open", at);
    }
    put(f->txn, "demo/x", "opener", "0"); /* a group that starts like another */
    assert_string_equal(scan(f->txn, &r, out, sizeof(out)),
                        "demo/1 demo/2 demo/3 demo/4 demo/5 demo/6 demo/7 demo/8 demo/9");
    r.descending = 1;
    assert_string_equal(scan(f->txn, &r, out, sizeof(out)),
                        "demo/9 demo/8 demo/7 demo/6 demo/5 demo/4 demo/3 demo/2 demo/1");
    r.offset = 7;
    assert_string_equal(scan(f->txn, &r, out, sizeof(out)), "demo/2 demo/1");
    r.offset = 0;
    r.from = "2025-01-03";
    r.to = "2025-01-05"; /* takes every sort that starts with it */
    assert_string_equal(scan(f->txn, &r, out, sizeof(out)), "demo/5 demo/4 demo/3");
    r.descending = 0;
    assert_string_equal(scan(f->txn, &r, out, sizeof(out)), "demo/3 demo/4 demo/5");
    r.offset = 1;
    assert_string_equal(scan(f->txn, &r, out, sizeof(out)), "demo/4 demo/5");
    r.offset = 100;
    assert_string_equal(scan(f->txn, &r, out, sizeof(out)), "");
    r = (struct store_range){.group = "demo/nothing", .descending = 1};
    assert_string_equal(scan(f->txn, &r, out, sizeof(out)), "");
}

static void test_prefix_deletes(void **state)
{
    struct fixture *f = *state;
    json_t *doc = json_pack("{s:s,s:[s,s]}", "status", "open", "tags", "a", "b");
    char report[1024];

    assert_int_equal(store_put(f->txn, THINGS, "demo/1", doc), EMU_OK);
    assert_int_equal(store_put(f->txn, THINGS, "demo/11", doc), EMU_OK);
    assert_int_equal(store_put(f->txn, THINGS, "demo/2", doc), EMU_OK);
    assert_int_equal(store_put(f->txn, THINGS, "other/1", doc), EMU_OK);
    json_decref(doc);
    assert_int_equal(count(f->txn, "tag", "demo/a"), 3);
    assert_int_equal(count(f->txn, "tag", "demo/b"), 3);
    /* a prefix inside a tenant: document by document */
    assert_int_equal(store_del_prefix(f->txn, THINGS, "demo/1"), EMU_OK);
    assert_int_equal(count(f->txn, "tag", "demo/a"), 1);
    assert_int_equal(count(f->txn, "status", "demo/open"), 1);
    /* a whole tenant: its entries and counts go, the other tenant's stay */
    assert_int_equal(store_del_prefix(f->txn, THINGS, "demo/"), EMU_OK);
    assert_int_equal(count(f->txn, "tag", "demo/a"), 0);
    assert_int_equal(count(f->txn, "status", "demo/open"), 0);
    assert_int_equal(count(f->txn, "status", "other/open"), 1);
    assert_int_equal(store_txn_commit(f->txn), EMU_OK);
    assert_int_equal(store_check(f->st, report, sizeof(report)), EMU_OK);
    assert_int_equal(store_txn_begin(f->st, 1, &f->txn), EMU_OK);
    assert_int_equal(store_del_prefix(f->txn, THINGS, ""), EMU_OK);
    assert_int_equal(count(f->txn, "status", "other/open"), 0);
}

/* The reference: the keys of group's documents, in (sort, key) order, by reading them all. */
struct reference {
    const char *status;
    size_t n;
    char keys[512][16];
    char sorts[512][16];
};

static int gather(const char *key, json_t *doc, void *arg)
{
    struct reference *ref = arg;
    const char *status = json_string_value(json_object_get(doc, "status"));

    if (status != NULL && strcmp(status, ref->status) == 0) {
        snprintf(ref->keys[ref->n], sizeof(ref->keys[0]), "%s", key);
        snprintf(ref->sorts[ref->n++], sizeof(ref->sorts[0]), "%s",
                 json_string_value(json_object_get(doc, "at")));
    }
    return 0;
}

/* Orders "<sort> <key>" rows: by sort, then key, as an index does. */
static int by_sort_then_key(const void *a, const void *b)
{
    return strcmp(a, b);
}

struct paged {
    size_t n;
    char keys[512][16];
};

static int page_collect(const char *key, void *arg)
{
    struct paged *p = arg;

    snprintf(p->keys[p->n++], sizeof(p->keys[0]), "%s", key);
    return 0;
}

static void test_random_against_full_scan(void **state)
{
    struct fixture *f = *state;
    static const char *const statuses[] = {"new", "won", "lost", NULL};
    char key[16], at[16], report[2048];

    srand(12345);
    for (int op = 0; op < 3000; op++) {
        snprintf(key, sizeof(key), "demo/%03d", rand() % 400);
        snprintf(at, sizeof(at), "%04d", rand() % 50); /* many equal sorts: the key breaks ties */
        if (rand() % 5 == 0)
            store_del(f->txn, THINGS, key);
        else
            put(f->txn, key, statuses[rand() % 4], at);
    }
    for (int s = 0; statuses[s] != NULL; s++) {
        static struct reference ref;
        static struct paged got;
        static char combined[512][32];
        char group[32];
        struct store_range r = {.group = group};

        memset(&ref, 0, sizeof(ref));
        ref.status = statuses[s];
        assert_int_equal(store_scan(f->txn, THINGS, "demo/", gather, &ref), EMU_OK);
        for (size_t i = 0; i < ref.n; i++)
            snprintf(combined[i], sizeof(combined[i]), "%s %s", ref.sorts[i], ref.keys[i]);
        qsort(combined, ref.n, sizeof(combined[0]), by_sort_then_key);
        snprintf(group, sizeof(group), "demo/%s", statuses[s]);
        assert_int_equal(count(f->txn, "status", group), ref.n);
        memset(&got, 0, sizeof(got));
        assert_int_equal(store_index_scan(f->txn, THINGS, "status", &r, page_collect, &got),
                         EMU_OK);
        assert_int_equal(got.n, ref.n);
        for (size_t i = 0; i < ref.n; i++)
            assert_string_equal(got.keys[i], strchr(combined[i], ' ') + 1);
        /* a page in the middle, newest first */
        memset(&got, 0, sizeof(got));
        r.descending = 1;
        r.offset = ref.n / 2;
        assert_int_equal(store_index_scan(f->txn, THINGS, "status", &r, page_collect, &got),
                         EMU_OK);
        assert_int_equal(got.n, ref.n - ref.n / 2);
        for (size_t i = 0; i < got.n; i++)
            assert_string_equal(got.keys[i], strchr(combined[ref.n - 1 - ref.n / 2 - i], ' ') + 1);
    }
    assert_int_equal(store_txn_commit(f->txn), EMU_OK);
    assert_int_equal(store_check(f->st, report, sizeof(report)), EMU_OK);
    assert_int_equal(store_txn_begin(f->st, 1, &f->txn), EMU_OK);
}

static void no_entries(const char *key, const json_t *doc, struct store_emit *e)
{
    (void)key;
    (void)doc;
    (void)e;
}

static const struct store_index stale_index = {THINGS, "status", no_entries};
static const struct store_index *const stale[] = {&stale_index, NULL};
static const struct store_index *const status_only[] = {&status_index, NULL};
static const struct store_index renamed_index = {THINGS, "state", by_status};
static const struct store_index *const renamed[] = {&renamed_index, NULL};

/* Data written before an index existed gets it at the next open; an index whose definition
 * changed under the same name is caught by store_check. */
static void test_built_at_open_and_checked(void **state)
{
    struct fixture *f = *state;
    char report[2048];
    uint64_t n;

    put(f->txn, "demo/1", "open", "1");
    put(f->txn, "demo/2", "open", "2");
    assert_int_equal(store_txn_commit(f->txn), EMU_OK);
    f->txn = NULL;
    store_close(f->st);
    assert_int_equal(store_open(&f->st, f->dir, 1 << 24, tables, renamed), EMU_OK);
    assert_int_equal(store_txn_begin(f->st, 0, &f->txn), EMU_OK);
    assert_int_equal(store_count(f->txn, THINGS, "state", "demo/open", &n), EMU_OK);
    assert_int_equal(n, 2);
    store_txn_abort(f->txn);
    f->txn = NULL;
    assert_int_equal(store_check(f->st, report, sizeof(report)), EMU_OK);
    store_close(f->st);
    assert_int_equal(store_open(&f->st, f->dir, 1 << 24, tables, stale), EMU_OK);
    assert_int_equal(store_check(f->st, report, sizeof(report)), EMU_INVALID);
    assert_non_null(strstr(report, "test.things#status"));
    store_close(f->st);
    assert_int_equal(store_open(&f->st, f->dir, 1 << 24, tables, status_only), EMU_OK);
    assert_int_equal(store_check(f->st, report, sizeof(report)), EMU_OK);
    assert_int_equal(store_txn_begin(f->st, 1, &f->txn), EMU_OK);
}

/* Groups must stay inside their document's tenant; keys holding control bytes are refused. */
static void escaping(const char *key, const json_t *doc, struct store_emit *e)
{
    (void)doc;
    store_emit(e,
               strncmp(key, "demo/", 5) == 0 ? "demo/a\x1e"
                                               "b"
                                             : "elsewhere/",
               "\x01");
}

static const struct store_index escaping_index = {THINGS, "odd", escaping};
static const struct store_index *const odd[] = {&escaping_index, NULL};

static void test_groups_escaped_and_bounded(void **state)
{
    struct fixture *f = *state;
    json_t *doc = json_object();
    char report[1024], key[64];
    uint64_t n;

    store_txn_abort(f->txn);
    store_close(f->st);
    assert_int_equal(store_open(&f->st, f->dir, 1 << 24, tables, odd), EMU_OK);
    assert_int_equal(store_txn_begin(f->st, 1, &f->txn), EMU_OK);
    assert_int_equal(store_put(f->txn, THINGS, "demo/1", doc), EMU_OK);
    assert_int_equal(store_put(f->txn, THINGS, "other/1", doc), EMU_INVALID);
    assert_int_equal(store_put(f->txn, THINGS, "demo/\x02", doc), EMU_INVALID);
    assert_int_equal(store_count(f->txn, THINGS, "odd",
                                 "demo/a\x1e"
                                 "b",
                                 &n),
                     EMU_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_count(f->txn, THINGS, "odd", "demo/a", &n), EMU_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_index_first(f->txn, THINGS, "odd", "demo/a", key, sizeof(key)),
                     EMU_NOT_FOUND);
    assert_int_equal(store_index_first(f->txn, THINGS, "odd",
                                       "demo/a\x1e"
                                       "b",
                                       key, sizeof(key)),
                     EMU_OK);
    assert_string_equal(key, "demo/1");
    assert_int_equal(store_txn_commit(f->txn), EMU_OK);
    assert_int_equal(store_check(f->st, report, sizeof(report)), EMU_OK);
    assert_int_equal(store_txn_begin(f->st, 1, &f->txn), EMU_OK);
    json_decref(doc);
}

/* A snapshot carries the index and count tables with their documents; one taken before an
 * index existed (no entries for it) gets the index built again when it is restored. */
static void test_snapshots_keep_indexes(void **state)
{
    struct fixture *f = *state;
    char report[1024], key[64];
    uint64_t n;

    put(f->txn, "demo/1", "open", "1");
    put(f->txn, "demo/2", "open", "2");
    assert_int_equal(snapshot_save(f->txn, "two"), EMU_OK);
    put(f->txn, "demo/3", "open", "3");
    assert_int_equal(store_del(f->txn, THINGS, "demo/1"), EMU_OK);
    assert_int_equal(snapshot_restore(f->txn, "two"), EMU_OK);
    assert_int_equal(store_count(f->txn, THINGS, "status", "demo/open", &n), EMU_OK);
    assert_int_equal(n, 2);
    assert_int_equal(store_index_first(f->txn, THINGS, "status", "demo/open", key, sizeof(key)),
                     EMU_OK);
    assert_string_equal(key, "demo/1");
    /* an older snapshot: its index tables' entries are gone */
    assert_int_equal(store_del_prefix(f->txn, SNAPSHOT_TABLE, "two\x1ftest.things#"), EMU_OK);
    assert_int_equal(snapshot_restore(f->txn, "two"), EMU_OK);
    assert_int_equal(store_count(f->txn, THINGS, "status", "demo/open", &n), EMU_OK);
    assert_int_equal(n, 2);
    assert_int_equal(store_txn_commit(f->txn), EMU_OK);
    assert_int_equal(store_check(f->st, report, sizeof(report)), EMU_OK);
    assert_int_equal(store_txn_begin(f->st, 1, &f->txn), EMU_OK);
}

/* The process's resident file-backed kilobytes (RssFile in /proc/self/status). */
static long rss_file_kb(void)
{
    char line[128];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");

    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "RssFile: %ld", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static int count_doc(const char *key, json_t *doc, void *arg)
{
    (void)key;
    (void)doc;
    ++*(int *)arg;
    return 0;
}

/* Letting mapped pages go lowers the process's resident memory, and what is read next is there
 * as it was. */
static void test_release_mapped(void **state)
{
    struct fixture *f = *state;
    char key[32], pad[2049];
    json_t *doc;
    long before, after;
    int n = 0;

    memset(pad, 'x', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    for (int i = 0; i < 3000; i++) { /* about 6 MB */
        snprintf(key, sizeof(key), "demo/%05d", i);
        doc = json_pack("{s:s,s:s}", "status", "open", "pad", pad);
        assert_int_equal(store_put(f->txn, THINGS, key, doc), EMU_OK);
        json_decref(doc);
    }
    assert_int_equal(store_txn_commit(f->txn), EMU_OK);
    assert_int_equal(store_txn_begin(f->st, 0, &f->txn), EMU_OK);
    assert_int_equal(store_scan(f->txn, THINGS, "demo/", count_doc, &n), EMU_OK);
    assert_int_equal(n, 3000);
    before = rss_file_kb();
    store_release_mapped(f->st);
    after = rss_file_kb();
    assert_true(after >= 0 && before - after > 4096); /* most of the 6 MB scanned */
    assert_int_equal(store_get(f->txn, THINGS, "demo/01234", &doc), EMU_OK);
    assert_string_equal(json_string_value(json_object_get(doc, "pad")), pad);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_entries_follow_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_bounds_offset_direction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prefix_deletes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_against_full_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_built_at_open_and_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_groups_escaped_and_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshots_keep_indexes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_mapped, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
