/* test_snapshot.c -- named snapshots: names checked, save and restore of every table but the
 * sequences (ids keep moving forward), an empty store saved, a save replacing one of the same
 * name, snapshots that do not leak into each other, listing and deletion. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_save_restore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_replace_and_isolation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_and_delete, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
