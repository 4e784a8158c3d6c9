/* store_fixture.h -- a cmocka fixture for unit tests of store-level modules: a fresh LMDB store
 * of the given tables in a temporary directory, with one write transaction open. */
#ifndef EMU_TEST_STORE_FIXTURE_H
#define EMU_TEST_STORE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "store.h"

struct fixture {
    char dir[64];
    struct store *st;
    struct store_txn *txn;
};

/* Opens the store (tables NULL-ended) in /tmp/<name>-XXXXXX and begins a write transaction;
 * the fixture goes in *state. */
static inline int store_fixture_open(void **state, const char *name, const char *const *tables)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/%s-XXXXXX", name);
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(&f->st, f->dir, 1 << 20, tables, NULL), EMU_OK);
    assert_int_equal(store_txn_begin(f->st, 1, &f->txn), EMU_OK);
    *state = f;
    return 0;
}

/* Aborts the transaction, closes the store and removes its directory. */
static inline int store_fixture_close(void **state)
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

#endif
