/* test_snapshot.c -- named snapshots: names checked, save and restore of every table but the
 * sequences (ids keep moving forward), an empty store saved, a save replacing one of the same
 * name, snapshots that do not leak into each other, listing and deletion; and a store of many
 * entries (index-like tables, the longest keys, values of several pages) that comes back byte
 * for byte. */
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
#include "snapshot.h"
#include "store.h"
#include "store_fixture.h"

static const char *const tables[] = {"t.a", "t.b", SNAPSHOT_TABLE, NULL};

static int setup(void **state)
{
    return store_fixture_open(state, "test_snapshot", tables);
}

static int teardown(void **state)
{
    return store_fixture_close(state);
}

static void put(struct fixture *f, const char *table, const char *key, json_int_t v)
{
    json_t *doc = json_pack("{s:I}", "v", v);

    assert_int_equal(store_put(f->txn, table, key, doc), EMU_OK);
    json_decref(doc);
}

/* The value stored at table/key, or -1 when there is none. */
static json_int_t get(struct fixture *f, const char *table, const char *key)
{
    json_t *doc = NULL;
    json_int_t v;
    int rc = store_get(f->txn, table, key, &doc);

    if (rc == EMU_NOT_FOUND)
        return -1;
    assert_int_equal(rc, EMU_OK);
    v = json_integer_value(json_object_get(doc, "v"));
    json_decref(doc);
    return v;
}

static void expect_list(struct fixture *f, const char *want)
{
    json_t *list = NULL;
    char *text;

    assert_int_equal(snapshot_list(f->txn, &list), EMU_OK);
    text = json_dumps(list, JSON_COMPACT);
    assert_string_equal(text, want);
    free(text);
    json_decref(list);
}

static void test_names(void **state)
{
    char long_name[80];

    (void)state;
    assert_true(snapshot_name_valid("a"));
    assert_true(snapshot_name_valid("before-step_2.v1"));
    assert_false(snapshot_name_valid(""));
    assert_false(snapshot_name_valid(NULL));
    assert_false(snapshot_name_valid("a/b"));
    assert_false(snapshot_name_valid("a b"));
    assert_false(snapshot_name_valid("a\x1f"));
    memset(long_name, 'n', 64);
    long_name[64] = '\0';
    assert_true(snapshot_name_valid(long_name));
    long_name[64] = 'n';
    long_name[65] = '\0';
    assert_false(snapshot_name_valid(long_name));
}

static void test_save_restore(void **state)
{
    struct fixture *f = *state;
    uint64_t n = 0;

    put(f, "t.a", "x", 1);
    put(f, "t.a", "y", 2);
    put(f, "t.b", "z", 3);
    assert_int_equal(store_seq_next(f->txn, "ids", &n), EMU_OK);
    assert_int_equal(snapshot_save(f->txn, "s1"), EMU_OK);
    /* change, add, delete */
    put(f, "t.a", "x", 10);
    put(f, "t.b", "new", 4);
    assert_int_equal(store_del(f->txn, "t.a", "y"), EMU_OK);
    assert_int_equal(store_seq_next(f->txn, "ids", &n), EMU_OK);
    assert_int_equal(snapshot_restore(f->txn, "s1"), EMU_OK);
    assert_int_equal(get(f, "t.a", "x"), 1);
    assert_int_equal(get(f, "t.a", "y"), 2);
    assert_int_equal(get(f, "t.b", "z"), 3);
    assert_int_equal(get(f, "t.b", "new"), -1);
    /* the sequence is not rolled back */
    assert_int_equal(store_seq_next(f->txn, "ids", &n), EMU_OK);
    assert_int_equal(n, 3);
    /* restoring twice gives the same state; the snapshot is still there */
    put(f, "t.a", "x", 11);
    assert_int_equal(snapshot_restore(f->txn, "s1"), EMU_OK);
    assert_int_equal(get(f, "t.a", "x"), 1);
    expect_list(f, "[\"s1\"]");
}

static void test_empty_replace_and_isolation(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(snapshot_save(f->txn, "empty"), EMU_OK); /* a store with nothing in it */
    put(f, "t.a", "k", 1);
    assert_int_equal(snapshot_save(f->txn, "one"), EMU_OK);
    put(f, "t.a", "k", 2);
    put(f, "t.a", "k2", 2);
    assert_int_equal(snapshot_save(f->txn, "two"), EMU_OK);
    expect_list(f, "[\"empty\",\"one\",\"two\"]");
    assert_int_equal(snapshot_restore(f->txn, "empty"), EMU_OK);
    assert_int_equal(get(f, "t.a", "k"), -1);
    assert_int_equal(snapshot_restore(f->txn, "one"), EMU_OK);
    assert_int_equal(get(f, "t.a", "k"), 1);
    assert_int_equal(get(f, "t.a", "k2"), -1); /* "two"'s entry is not in "one" */
    /* a save replaces the snapshot of that name, leaving no entry of the old one */
    assert_int_equal(snapshot_save(f->txn, "two"), EMU_OK);
    assert_int_equal(snapshot_restore(f->txn, "two"), EMU_OK);
    assert_int_equal(get(f, "t.a", "k"), 1);
    assert_int_equal(get(f, "t.a", "k2"), -1);
    expect_list(f, "[\"empty\",\"one\",\"two\"]");
}

static void test_missing_and_delete(void **state)
{
    struct fixture *f = *state;

    put(f, "t.a", "k", 1);
    assert_int_equal(snapshot_restore(f->txn, "nope"), EMU_NOT_FOUND);
    assert_int_equal(get(f, "t.a", "k"), 1); /* a failed restore empties nothing */
    assert_int_equal(snapshot_delete(f->txn, "nope"), EMU_NOT_FOUND);
    assert_int_equal(snapshot_save(f->txn, "ab"), EMU_OK);
    assert_int_equal(snapshot_save(f->txn, "a"), EMU_OK);
    /* "a" is not a prefix match of "ab" */
    assert_int_equal(snapshot_delete(f->txn, "a"), EMU_OK);
    expect_list(f, "[\"ab\"]");
    assert_int_equal(snapshot_restore(f->txn, "a"), EMU_NOT_FOUND);
    assert_int_equal(snapshot_restore(f->txn, "ab"), EMU_OK);
    assert_int_equal(snapshot_delete(f->txn, "ab"), EMU_OK);
    expect_list(f, "[]");
}

/* A store bigger than the shared fixture's: tables named as index tables are, many entries. */
static const char *const big_tables[] = {"v.contacts", "v.contacts#phone", "v.contacts#n",
                                         "v.other",    SNAPSHOT_TABLE,     NULL};

static int setup_big(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_snapshot_big-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(&f->st, f->dir, (size_t)256 << 20, big_tables, NULL), EMU_OK);
    assert_int_equal(store_txn_begin(f->st, 1, &f->txn), EMU_OK);
    *state = f;
    return 0;
}

/* A digest of every entry of a table, keys and values byte for byte, and their number. */
struct digest {
    uint64_t h;
    size_t n;
};

static void mix(struct digest *d, const void *p, size_t len)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < len; i++)
        d->h = (d->h ^ b[i]) * 1099511628211u;
    d->h = (d->h ^ len) * 1099511628211u;
}

static int digest_entry(const char *key, size_t klen, const char *val, size_t vlen, void *arg)
{
    struct digest *d = arg;

    mix(d, key, klen);
    mix(d, val, vlen);
    d->n++;
    return 0;
}

static struct digest digest_of(struct fixture *f, const char *table)
{
    struct digest d = {14695981039346656037u, 0};

    assert_int_equal(store_scan_raw(f->txn, table, "", digest_entry, &d), EMU_OK);
    return d;
}

#define BIG_ENTRIES 6000

/* Fills the four tables: tenants' rows, index entries whose keys hold '\x1e' separators and
 * reach 400 bytes, counters, binary bytes in values, a few values of several pages. */
static void fill_big(struct fixture *f, const char *salt)
{
    static char val[20000];
    char key[512];

    for (int i = 0; i < BIG_ENTRIES; i++) {
        size_t vlen = (size_t)snprintf(val, sizeof(val), "{\"n\":%d,\"s\":\"%s\"}", i, salt);

        snprintf(key, sizeof(key), "t%d/%08d", i % 3, i);
        if (i % 997 == 0) { /* a value past a page, with a NUL byte in it */
            memset(val + vlen, 'x', 15000);
            val[vlen + 7] = '\0';
            vlen += 15000;
        }
        assert_int_equal(store_put_raw(f->txn, "v.contacts", key, val, vlen), EMU_OK);
        memset(key, 'k', 400);
        snprintf(key, 40, "t%d/+1555%07d\x1e%08d", i % 3, i, i);
        key[strlen(key)] = 'k';
        key[400] = '\0';
        assert_int_equal(store_put_raw(f->txn, "v.contacts#phone", key, salt, 2), EMU_OK);
    }
    assert_int_equal(store_put_raw(f->txn, "v.contacts#n", "t0/", "2000", 4), EMU_OK);
    assert_int_equal(store_put_raw(f->txn, "v.other", "t1/x", salt, strlen(salt)), EMU_OK);
}

static void test_big_round_trip(void **state)
{
    struct fixture *f = *state;
    const char *names[] = {"v.contacts", "v.contacts#phone", "v.contacts#n", "v.other"};
    struct digest before[4], after;

    fill_big(f, "before");
    for (int t = 0; t < 4; t++)
        before[t] = digest_of(f, names[t]);
    assert_int_equal(before[0].n, BIG_ENTRIES);
    assert_int_equal(snapshot_save(f->txn, "big"), EMU_OK);
    /* Committed in between, as two requests would be. */
    assert_int_equal(store_txn_commit(f->txn), EMU_OK);
    assert_int_equal(store_txn_begin(f->st, 1, &f->txn), EMU_OK);
    fill_big(f, "after, and longer");
    assert_int_equal(store_del(f->txn, "v.other", "t1/x"), EMU_OK);
    assert_int_equal(store_put_raw(f->txn, "v.other", "t2/new", "1", 1), EMU_OK);
    assert_int_not_equal(digest_of(f, "v.contacts").h, before[0].h);
    assert_int_equal(snapshot_restore(f->txn, "big"), EMU_OK);
    for (int t = 0; t < 4; t++) {
        after = digest_of(f, names[t]);
        assert_int_equal(after.n, before[t].n);
        assert_int_equal(after.h, before[t].h);
    }
    /* Saving what was restored gives the same snapshot: saved again and restored over a
     * changed store, the tables are the same once more. */
    assert_int_equal(snapshot_save(f->txn, "again"), EMU_OK);
    fill_big(f, "third");
    assert_int_equal(snapshot_restore(f->txn, "again"), EMU_OK);
    for (int t = 0; t < 4; t++)
        assert_int_equal(digest_of(f, names[t]).h, before[t].h);
    expect_list(f, "[\"again\",\"big\"]");
}

/* A key that the snapshot's prefix would push past the store's longest key fails the save
 * whole, instead of leaving out an entry. */
static void test_key_too_long(void **state)
{
    struct fixture *f = *state;
    char key[512];

    memset(key, 'k', 500);
    key[500] = '\0';
    assert_int_equal(store_put_raw(f->txn, "v.other", key, "1", 1), EMU_OK);
    assert_int_equal(snapshot_save(f->txn, "long"), EMU_INVALID);
}

static int collect_keys(const char *key, size_t klen, const char *val, size_t vlen, void *arg)
{
    json_array_append_new(arg, json_sprintf("%.*s=%.*s", (int)klen, key, (int)vlen, val));
    return 0;
}

static void expect_table(struct fixture *f, const char *table, const char *want)
{
    json_t *all = json_array();
    char *text;

    assert_int_equal(store_scan_raw(f->txn, table, "", collect_keys, all), EMU_OK);
    text = json_dumps(all, JSON_COMPACT);
    assert_string_equal(text, want);
    free(text);
    json_decref(all);
}

/* store_copy, which snapshots stream through: prefixes taken off and put on, a destination
 * that already holds keys before, between and after the copied ones (so appending stops), a
 * key replaced, and the same table on both sides refused. */
static void test_store_copy(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(store_put_raw(f->txn, "t.a", "p/1", "a1", 2), EMU_OK);
    assert_int_equal(store_put_raw(f->txn, "t.a", "p/3", "a3", 2), EMU_OK);
    assert_int_equal(store_put_raw(f->txn, "t.a", "p/5", "a5", 2), EMU_OK);
    assert_int_equal(store_put_raw(f->txn, "t.a", "q/1", "no", 2), EMU_OK);
    assert_int_equal(store_copy(f->txn, "t.a", "p/", "t.b", "x:"), EMU_OK);
    expect_table(f, "t.b", "[\"x:1=a1\",\"x:3=a3\",\"x:5=a5\"]");
    assert_int_equal(store_put_raw(f->txn, "t.b", "r/0", "b0", 2), EMU_OK);
    assert_int_equal(store_put_raw(f->txn, "t.b", "r/3", "old", 3), EMU_OK);
    assert_int_equal(store_put_raw(f->txn, "t.b", "r/9", "b9", 2), EMU_OK);
    assert_int_equal(store_copy(f->txn, "t.a", "p/", "t.b", "r/"), EMU_OK);
    expect_table(f, "t.b",
                 "[\"r/0=b0\",\"r/1=a1\",\"r/3=a3\",\"r/5=a5\",\"r/9=b9\",\"x:1=a1\","
                 "\"x:3=a3\",\"x:5=a5\"]");
    assert_int_equal(store_copy(f->txn, "t.a", "", "t.a", "z"), EMU_INVALID);
    assert_int_equal(store_copy(f->txn, "t.a", "none/", "t.b", ""), EMU_OK);
    assert_int_equal(store_copy(f->txn, "t.a", "", "no.such", ""), EMU_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_save_restore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_replace_and_isolation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_and_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_round_trip, setup_big, teardown),
        cmocka_unit_test_setup_teardown(test_key_too_long, setup_big, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
