/* vendor_world.h -- what the vendor handler tests share: an app whose store is seeded from the
 * built-in fixtures on a fixed clock, and a call that runs one handler with a request struct
 * filled by hand, as the dispatcher would run it (in a write transaction, committed when the
 * handler succeeds), rendering a failure through the vendor's reply_error.
 *
 * Included by one test program each (tests/unit/test_vendor_<vendor>.c, and
 * test_vendor_interface.c with vendors and fixtures of its own): everything is static. */
#ifndef TEST_VENDOR_WORLD_H
#define TEST_VENDOR_WORLD_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "clock.h"
#include "err.h"
#include "fixtures.h"
#include "jsonx.h"
#include "ratelimit.h"
#include "req.h"
#include "router.h"
#include "store.h"
#include "tenants.h"
#include "vendor_list.h"
#include "vendors.h"

struct world {
    struct app app;
    char dir[64];
};

/* Opens w's app on a fixed clock: fixtures from fixtures_dir (NULL: the built-in set), a store
 * in data_dir seeded from them. The vendors must be registered first. */
static inline void world_open(struct world *w, const char *fixtures_dir, const char *data_dir)
{
    static char *argv[] = {"--clock", "2026-01-01T00:00:00Z"};
    struct store_txn *txn;
    char err[256];

    assert_int_equal(config_parse(&w->app.cfg, 2, argv, err, sizeof(err)), EMU_OK);
    assert_int_equal(clock_init(&w->app.clock, w->app.cfg.clock), EMU_OK);
    if (fixtures_load(&w->app.fixtures, fixtures_dir, err, sizeof(err)) != EMU_OK)
        fail_msg("fixtures: %s", err);
    assert_int_equal(ratelimit_new(&w->app.limits), EMU_OK);
    assert_int_equal(store_open(&w->app.store, data_dir, w->app.cfg.map_size,
                                vendors_store_tables(), vendors_store_indexes()),
                     EMU_OK);
    assert_int_equal(store_txn_begin(w->app.store, 1, &txn), EMU_OK);
    assert_int_equal(tenants_seed(w->app.fixtures, txn, NULL), EMU_OK);
    assert_int_equal(store_txn_commit(txn), EMU_OK);
}

/* Closes what world_open opened and removes w->dir. */
static inline void world_close(struct world *w)
{
    char cmd[128];

    store_close(w->app.store);
    fixtures_free(w->app.fixtures);
    ratelimit_free(w->app.limits);
    clock_destroy(&w->app.clock);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", w->dir);
    assert_int_equal(system(cmd), 0);
}

/* A cmocka setup: the world of the built-in vendors and fixtures, in *state. */
static inline int world_setup(void **state)
{
    struct world *w = calloc(1, sizeof(*w));

    assert_non_null(w);
    vendor_list_register();
    strcpy(w->dir, "/tmp/test_vendor-XXXXXX");
    assert_non_null(mkdtemp(w->dir));
    world_open(w, NULL, w->dir);
    *state = w;
    return 0;
}

static inline int world_teardown(void **state)
{
    struct world *w = *state;

    world_close(w);
    free(w);
    return 0;
}

/* One handler call. Unset members are left out of the request. */
struct call {
    const struct vendor *vendor;
    route_fn *handler;
    const char *method;  /* "GET" when NULL */
    const char *pattern; /* the route's path, "/contacts/{id}": captures path's parameters */
    const char *path;
    const char *query;  /* the raw query string */
    const char *json;   /* the body, as the dispatcher parsed it (req->json) */
    const char *tenant; /* "demo" when NULL */
};

/* Runs c's handler and returns its code; res holds the answer, or the failure rendered in the
 * vendor's error shape. *answer (when not NULL) is the body parsed, a new reference. */
static inline int world_call(struct world *w, const struct call *c, struct res *res,
                             json_t **answer)
{
    struct req req;
    int rc;

    memset(&req, 0, sizeof(req));
    memset(res, 0, sizeof(*res));
    req.app = &w->app;
    req.vendor = c->vendor;
    req.method = c->method ? c->method : "GET";
    req.path = c->path ? c->path : c->pattern;
    req.query = c->query;
    req.remote_addr = "127.0.0.1";
    req.body = "";
    req.now_ms = clock_now_ms(&w->app.clock);
    snprintf(req.tenant, sizeof(req.tenant), "%s", c->tenant ? c->tenant : "demo");
    if (c->pattern != NULL) {
        int i = 0;

        assert_true(router_path_match(c->pattern, req.path, &req));
        /* named as the dispatcher names them: just past the pattern's '{' */
        for (const char *p = strchr(c->pattern, '{'); p != NULL && i < req.nparams;
             p = strchr(p + 1, '{'))
            req.params[i++].name = p + 1;
    }
    if (c->json != NULL) {
        req.json = json_loads(c->json, 0, NULL);
        assert_non_null(req.json);
    }
    assert_int_equal(store_txn_begin(w->app.store, 1, &req.txn), EMU_OK);
    rc = c->handler(&req, res);
    if (rc == EMU_OK) {
        assert_int_equal(store_txn_commit(req.txn), EMU_OK);
    } else {
        store_txn_abort(req.txn);
        res_drop_body(res);
        res->status = 0;
    }
    req.txn = NULL;
    if (rc != EMU_OK)
        c->vendor->reply_error(&req, res, rc);
    req_clear(&req);
    if (answer != NULL) {
        *answer = json_loadb(res->body, res->body_len, 0, NULL);
        assert_non_null(*answer);
    }
    return rc;
}

/* The string at a dotted path of doc ("error.code"), or NULL. Borrowed. */
static inline const char *world_text(const json_t *doc, const char *path)
{
    char name[64];
    const char *dot;

    while ((dot = strchr(path, '.')) != NULL) {
        snprintf(name, sizeof(name), "%.*s", (int)(dot - path), path);
        doc = json_object_get(doc, name);
        path = dot + 1;
    }
    return jsonx_string(doc, path);
}

#endif
