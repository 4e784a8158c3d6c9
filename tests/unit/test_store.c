/* test_store.c -- documents, scans by prefix, prefix deletion, sequences, persistence across
 * reopen, a full map answering EMU_STORE_FULL while reads go on, and a full map emptied. */
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
#include "store.h"

static const char *const tables[] = {"t.docs", NULL};

struct fixture {
    char dir[64];
    struct store *st;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    strcpy(f->dir, "/tmp/test_store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(&f->st, f->dir, 1 << 20, tables, NULL), EMU_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    store_close(f->st);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void put(struct store *st, const char *key, const char *json)
{
    struct store_txn *txn;
    json_t *doc = json_loads(json, JSON_DECODE_ANY, NULL);

    assert_int_equal(store_txn_begin(st, 1, &txn), EMU_OK);
    assert_int_equal(store_put(txn, "t.docs", key, doc), EMU_OK);
    assert_int_equal(store_txn_commit(txn), EMU_OK);
    json_decref(doc);
}

static void test_put_get_keeps_key_order(void **state)
{
    struct fixture *f = *state;
    struct store_txn *txn;
    json_t *doc;
    char *text;

    put(f->st, "demo/1", "{\"z\":1,\"a\":2}");
    assert_int_equal(store_txn_begin(f->st, 0, &txn), EMU_OK);
    assert_int_equal(store_get(txn, "t.docs", "demo/1", &doc), EMU_OK);
    text = json_dumps(doc, JSON_COMPACT);
    assert_string_equal(text, "{\"z\":1,\"a\":2}");
    free(text);
    json_decref(doc);
    assert_int_equal(store_get(txn, "t.docs", "demo/2", &doc), EMU_NOT_FOUND);
    assert_null(doc);
    store_txn_abort(txn);
}

static int count_fn(const char *key, json_t *doc, void *arg)
{
    (void)doc;
    (void)key;
    (*(int *)arg)++;
    return 0;
}

static void test_scan_and_delete_by_prefix(void **state)
{
    struct fixture *f = *state;
    struct store_txn *txn;
    int n = 0;

    put(f->st, "demo/a", "1");
    put(f->st, "demo/b", "2");
    put(f->st, "demox/c", "3"); /* shares "demo" but not "demo/" */
    put(f->st, "other/a", "4");
    assert_int_equal(store_txn_begin(f->st, 1, &txn), EMU_OK);
    assert_int_equal(store_scan(txn, "t.docs", "demo/", count_fn, &n), EMU_OK);
    assert_int_equal(n, 2);
    assert_int_equal(store_del_prefix(txn, "t.docs", "demo/"), EMU_OK);
    n = 0;
    assert_int_equal(store_scan(txn, "t.docs", "", count_fn, &n), EMU_OK);
    assert_int_equal(n, 2);
    assert_int_equal(store_txn_commit(txn), EMU_OK);
}

static void test_abort_discards_writes(void **state)
{
    struct fixture *f = *state;
    struct store_txn *txn;
    json_t *doc = json_integer(1);

    assert_int_equal(store_txn_begin(f->st, 1, &txn), EMU_OK);
    assert_int_equal(store_put(txn, "t.docs", "k", doc), EMU_OK);
    store_txn_abort(txn);
    json_decref(doc);
    assert_int_equal(store_txn_begin(f->st, 0, &txn), EMU_OK);
    assert_int_equal(store_get(txn, "t.docs", "k", &doc), EMU_NOT_FOUND);
    store_txn_abort(txn);
}

static void test_sequence_survives_reopen(void **state)
{
    struct fixture *f = *state;
    struct store_txn *txn;
    uint64_t n = 0;

    for (int i = 0; i < 3; i++) {
        assert_int_equal(store_txn_begin(f->st, 1, &txn), EMU_OK);
        assert_int_equal(store_seq_next(txn, "ids/demo", &n), EMU_OK);
        assert_int_equal(store_txn_commit(txn), EMU_OK);
    }
    assert_int_equal(n, 3);
    store_close(f->st);
    assert_int_equal(store_open(&f->st, f->dir, 1 << 20, tables, NULL), EMU_OK);
    assert_int_equal(store_txn_begin(f->st, 1, &txn), EMU_OK);
    assert_int_equal(store_seq_next(txn, "ids/demo", &n), EMU_OK);
    assert_int_equal(n, 4);
    store_txn_abort(txn);
}

static void test_unknown_table_and_bad_key(void **state)
{
    struct fixture *f = *state;
    struct store_txn *txn;
    json_t *doc;

    assert_int_equal(store_txn_begin(f->st, 0, &txn), EMU_OK);
    assert_int_equal(store_get(txn, "t.nope", "k", &doc), EMU_INVALID);
    assert_int_equal(store_get(txn, "t.docs", "", &doc), EMU_NOT_FOUND);
    store_txn_abort(txn);
}

static void test_full_map_fails_writes_not_reads(void **state)
{
    struct fixture *f = *state;
    struct store_txn *txn;
    json_t *big = json_string_nocheck(""), *kept;
    char *filler = malloc(64 * 1024), key[32];
    int rc = EMU_OK, i;

    memset(filler, 'x', 64 * 1024 - 1);
    filler[64 * 1024 - 1] = '\0';
    json_string_set(big, filler);
    put(f->st, "keep", "\"still here\"");
    for (i = 0; i < 64 && rc == EMU_OK; i++) { /* 4 MiB into a 1 MiB map */
        assert_int_equal(store_txn_begin(f->st, 1, &txn), EMU_OK);
        snprintf(key, sizeof(key), "fill/%d", i);
        rc = store_put(txn, "t.docs", key, big);
        if (rc == EMU_OK)
            rc = store_txn_commit(txn);
        else
            store_txn_abort(txn);
    }
    assert_int_equal(rc, EMU_STORE_FULL);
    assert_int_equal(store_txn_begin(f->st, 0, &txn), EMU_OK);
    assert_int_equal(store_get(txn, "t.docs", "keep", &kept), EMU_OK);
    assert_string_equal(json_string_value(kept), "still here");
    store_txn_abort(txn);
    json_decref(kept);
    json_decref(big);
    free(filler);
}

/* Fills the map with small documents until a write answers EMU_STORE_FULL; returns how many
 * were committed. */
static int fill(struct store *st, const char *prefix)
{
    struct store_txn *txn;
    char key[64], doc[2100];
    int rc = EMU_OK, n = 0;

    memset(doc, 'x', sizeof(doc) - 1);
    doc[0] = doc[sizeof(doc) - 2] = '"';
    doc[sizeof(doc) - 1] = '\0';
    while (rc == EMU_OK) {
        assert_int_equal(store_txn_begin(st, 1, &txn), EMU_OK);
        snprintf(key, sizeof(key), "%s/%06d", prefix, n);
        rc = store_put_raw(txn, "t.docs", key, doc, strlen(doc));
        if (rc == EMU_OK)
            rc = store_txn_commit(txn);
        else
            store_txn_abort(txn);
        n += rc == EMU_OK;
    }
    assert_int_equal(rc, EMU_STORE_FULL);
    return n;
}

/* A store filled to its map size can still be emptied (the reserve beyond the map size holds
 * the deletion's own pages) and, after a checkpoint, refilled as much as before; a failed
 * transaction can be restarted under the same handle. */
static void test_full_map_refills_after_checkpoint(void **state)
{
    struct fixture *f = *state;
    struct store_txn *txn;
    json_t *doc;
    int n = fill(f->st, "a"), again;

    assert_true(n > 100);
    assert_int_equal(store_txn_begin(f->st, 1, &txn), EMU_OK);
    assert_int_equal(store_del_prefix(txn, "t.docs", ""), EMU_OK);
    assert_int_equal(store_txn_checkpoint(txn), EMU_OK);
    assert_int_equal(store_put_raw(txn, "t.docs", "after", "1", 1), EMU_OK);
    assert_int_equal(store_txn_commit(txn), EMU_OK);
    again = fill(f->st, "b");
    assert_true(again > n / 2);
    assert_int_equal(store_txn_begin(f->st, 1, &txn), EMU_OK);
    assert_int_equal(store_get(txn, "t.docs", "a/000000", &doc), EMU_NOT_FOUND);
    /* a transaction that failed can be thrown away and started again under the same handle */
    assert_int_equal(store_put_raw(txn, "t.docs", "c", "2", 1), EMU_OK);
    assert_int_equal(store_txn_restart(txn), EMU_OK);
    assert_int_equal(store_get(txn, "t.docs", "c", &doc), EMU_NOT_FOUND);
    assert_int_equal(store_get(txn, "t.docs", "after", &doc), EMU_OK);
    json_decref(doc);
    store_txn_abort(txn);
}

static void test_open_fails_on_unusable_dir(void **state)
{
    struct store *st;

    (void)state;
    assert_int_equal(store_open(&st, "/proc/no/such/dir", 1 << 20, tables, NULL), EMU_IO);
    assert_null(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get_keeps_key_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_and_delete_by_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_discards_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequence_survives_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_table_and_bad_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_map_fails_writes_not_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_map_refills_after_checkpoint, setup, teardown),
        cmocka_unit_test(test_open_fails_on_unusable_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
