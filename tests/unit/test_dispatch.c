/* test_dispatch.c -- the request pipeline on a toy vendor registered for this program only:
 * routing (a trailing slash, an unknown path rendered by the emulator's own API, a known path
 * with another method), HEAD running GET, OPTIONS listing the path's methods, authentication
 * before the handler, a JSON body required, a body over the limit, a failed write rolled back
 * with the handler's partial answer dropped, and a successful write committed. */
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
#include "dispatch.h"
#include "err.h"
#include "jsonx.h"
#include "req.h"
#include "router.h"
#include "store.h"
#include "vendors.h"

#define TOY_ITEMS "toy.items"

static int auth_calls, handler_calls;

static int toy_authenticate(struct req *req, struct res *res)
{
    const char *key = req_header(req, "X-Toy-Key");

    (void)res;
    auth_calls++;
    if (key == NULL || strcmp(key, "good") != 0)
        return res_fail(res, EMU_UNAUTHORIZED, "bad key");
    snprintf(req->tenant, sizeof(req->tenant), "demo");
    return EMU_OK;
}

static void reply(struct res *res, int err, const char *shape)
{
    res_json(res, emu_http_status(err),
             json_pack("{s:s,s:s}", shape, emu_errname(err), "detail", res->detail));
}

static void toy_reply_error(struct req *req, struct res *res, int err)
{
    (void)req;
    reply(res, err, "toy_error");
}

static void own_reply_error(struct req *req, struct res *res, int err)
{
    (void)req;
    reply(res, err, "own_error");
}

static int items_get(struct req *req, struct res *res)
{
    json_t *doc = NULL;
    int rc;

    handler_calls++;
    rc = store_get(req->txn, TOY_ITEMS, req_param(req, "id"), &doc);
    if (rc != EMU_OK)
        return res_fail(res, rc, "no item %s", req_param(req, "id"));
    json_object_set_new(doc, "seen_method", json_string(req->method));
    json_object_set_new(doc, "tenant", json_string(req->tenant));
    return res_json(res, 200, doc);
}

/* Stores the body under its "id"; with "fail": true, stores it and then fails after starting
 * an answer, which must be neither kept nor sent. */
static int items_create(struct req *req, struct res *res)
{
    const char *id = jsonx_string(req->json, "id");
    int rc;

    handler_calls++;
    if (id == NULL)
        return res_fail(res, EMU_UNPROCESSABLE, "id missing");
    rc = store_put(req->txn, TOY_ITEMS, id, req->json);
    if (rc != EMU_OK)
        return rc;
    if (json_is_true(json_object_get(req->json, "fail"))) {
        res_json(res, 201, json_pack("{s:s}", "partial", "answer"));
        return res_fail(res, EMU_CONFLICT, "failed after writing");
    }
    return res_json(res, 201, json_pack("{s:s}", "id", id));
}

static int items_delete(struct req *req, struct res *res)
{
    handler_calls++;
    (void)res;
    return store_del(req->txn, TOY_ITEMS, req_param(req, "id"));
}

static int open_get(struct req *req, struct res *res)
{
    handler_calls++;
    return res_json(res, 200, json_pack("{s:s}", "tenant", req->tenant));
}

static const char *const toy_prefixes[] = {"/toy", NULL};
static const struct route toy_routes[] = {
    {"GET", "/toy/items/{id}", items_get, ROUTE_AUTH, NULL},
    {"DELETE", "/toy/items/{id}", items_delete, ROUTE_AUTH | ROUTE_WRITE, NULL},
    {"POST", "/toy/items", items_create, ROUTE_AUTH | ROUTE_JSON | ROUTE_WRITE, NULL},
    {"GET", "/toy/open", open_get, 0, NULL},
    {0},
};
static const struct table_def toy_tables[] = {{TOY_ITEMS, NULL, NULL}, {0}};
static const struct vendor toy = {
    .name = "toy",
    .prefixes = toy_prefixes,
    .routes = toy_routes,
    .tables = toy_tables,
    .credential_field = "key",
    .authenticate = toy_authenticate,
    .reply_error = toy_reply_error,
    .body = VENDOR_BODY_EXPRESS,
};
static const char *const own_prefixes[] = {"/__own", NULL};
static const struct route own_routes[] = {{0}};
static const struct vendor own = {
    .name = "own",
    .prefixes = own_prefixes,
    .routes = own_routes,
    .authenticate = toy_authenticate,
    .reply_error = own_reply_error,
};
static const struct vendor *const list[] = {&toy, &own, NULL};

struct world {
    struct app app;
    char dir[64];
};

static int setup(void **state)
{
    static char *argv[] = {"--clock", "2026-01-01T00:00:00Z", "--max-body", "64"};
    struct world *w = calloc(1, sizeof(*w));
    struct store_txn *txn;
    json_t *doc = json_pack("{s:s}", "name", "anvil");
    char err[256];

    assert_non_null(w);
    vendors_register(list, &own);
    assert_int_equal(config_parse(&w->app.cfg, 4, argv, err, sizeof(err)), EMU_OK);
    assert_int_equal(clock_init(&w->app.clock, w->app.cfg.clock), EMU_OK);
    strcpy(w->dir, "/tmp/test_dispatch-XXXXXX");
    assert_non_null(mkdtemp(w->dir));
    assert_int_equal(
        store_open(&w->app.store, w->dir, 1 << 20, vendors_store_tables(), vendors_store_indexes()),
        EMU_OK);
    assert_int_equal(store_txn_begin(w->app.store, 1, &txn), EMU_OK);
    assert_int_equal(store_put(txn, TOY_ITEMS, "a1", doc), EMU_OK);
    assert_int_equal(store_txn_commit(txn), EMU_OK);
    json_decref(doc);
    auth_calls = handler_calls = 0;
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    struct world *w = *state;
    char cmd[128];

    store_close(w->app.store);
    clock_destroy(&w->app.clock);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", w->dir);
    assert_int_equal(system(cmd), 0);
    free(w);
    return 0;
}

struct answer {
    int status;
    json_t *body; /* NULL when the body is empty */
    char headers[512];
};

/* Sends one request through the dispatcher; key is X-Toy-Key (NULL: none). */
static struct answer send(struct world *w, const char *method, const char *path, const char *key,
                          const char *body, const char *content_type, int too_large)
{
    struct answer a = {0};
    struct req req;
    struct res res;

    memset(&req, 0, sizeof(req));
    memset(&res, 0, sizeof(res));
    req.app = &w->app;
    req.method = method;
    req.path = path;
    req.remote_addr = "127.0.0.1";
    req.body = body ? body : "";
    req.body_len = body ? strlen(body) : 0;
    req.body_too_large = too_large;
    req.now_ms = clock_now_ms(&w->app.clock);
    if (key != NULL) {
        req.headers[req.nheaders].name = "X-Toy-Key";
        req.headers[req.nheaders++].value = key;
    }
    if (content_type != NULL) {
        req.headers[req.nheaders].name = "Content-Type";
        req.headers[req.nheaders++].value = content_type;
    }
    dispatch_request(&w->app, &req, &res);
    assert_string_equal(req.method, method); /* given back as it came */
    a.status = res.status;
    if (res.body_len > 0) {
        a.body = json_loadb(res.body, res.body_len, 0, NULL);
        assert_non_null(a.body);
    }
    snprintf(a.headers, sizeof(a.headers), "%.*s", (int)res.headers_len,
             res.headers ? res.headers : "");
    req_clear(&req);
    res_clear(&res);
    return a;
}

static const char *text(const struct answer *a, const char *name)
{
    return jsonx_string(a->body, name);
}

static int stored(struct world *w, const char *id)
{
    struct store_txn *txn;
    json_t *doc = NULL;
    int rc;

    assert_int_equal(store_txn_begin(w->app.store, 0, &txn), EMU_OK);
    rc = store_get(txn, TOY_ITEMS, id, &doc);
    store_txn_abort(txn);
    json_decref(doc);
    return rc == EMU_OK;
}

static void test_routing(void **state)
{
    struct world *w = *state;
    struct answer a;

    a = send(w, "GET", "/toy/items/a1", "good", NULL, NULL, 0);
    assert_int_equal(a.status, 200);
    assert_string_equal(text(&a, "name"), "anvil");
    assert_string_equal(text(&a, "tenant"), "demo");
    json_decref(a.body);
    a = send(w, "GET", "/toy/items/a1/", "good", NULL, NULL, 0); /* a trailing slash */
    assert_int_equal(a.status, 200);
    json_decref(a.body);
    a = send(w, "GET", "/toy/items/zz", "good", NULL, NULL, 0);
    assert_int_equal(a.status, 404);
    assert_string_equal(text(&a, "toy_error"), "NOT_FOUND");
    assert_string_equal(text(&a, "detail"), "no item zz");
    json_decref(a.body);
    /* in the toy's space: the toy renders; elsewhere: the emulator's own API */
    a = send(w, "GET", "/toy/nothing", "good", NULL, NULL, 0);
    assert_int_equal(a.status, 404);
    assert_string_equal(text(&a, "toy_error"), "NO_ROUTE");
    json_decref(a.body);
    a = send(w, "GET", "/elsewhere", NULL, NULL, NULL, 0);
    assert_int_equal(a.status, 404);
    assert_string_equal(text(&a, "own_error"), "NO_ROUTE");
    json_decref(a.body);
    a = send(w, "PUT", "/toy/items/a1", "good", NULL, NULL, 0);
    assert_int_equal(a.status, 405);
    assert_string_equal(text(&a, "toy_error"), "NO_METHOD");
    json_decref(a.body);
    assert_int_equal(auth_calls, 3); /* only routes that matched authenticate */
}

static void test_head_and_options(void **state)
{
    struct world *w = *state;
    struct answer a;

    a = send(w, "HEAD", "/toy/items/a1", "good", NULL, NULL, 0);
    assert_int_equal(a.status, 200);
    assert_string_equal(text(&a, "seen_method"), "GET"); /* the handler sees a GET */
    json_decref(a.body);
    a = send(w, "OPTIONS", "/toy/items/a1", NULL, NULL, NULL, 0);
    assert_int_equal(a.status, 204);
    assert_null(a.body);
    assert_non_null(strstr(a.headers, "Allow: GET,DELETE,HEAD,OPTIONS\r\n"));
    a = send(w, "OPTIONS", "/toy/items", NULL, NULL, NULL, 0);
    assert_int_equal(a.status, 204);
    assert_non_null(strstr(a.headers, "Allow: POST,OPTIONS\r\n"));
    a = send(w, "OPTIONS", "/toy/none", NULL, NULL, NULL, 0);
    assert_int_equal(a.status, 404);
    json_decref(a.body);
    assert_int_equal(auth_calls, 1); /* the HEAD: OPTIONS neither authenticates nor handles */
    assert_int_equal(handler_calls, 1);
}

static void test_authentication(void **state)
{
    struct world *w = *state;
    struct answer a;

    a = send(w, "GET", "/toy/items/a1", NULL, NULL, NULL, 0);
    assert_int_equal(a.status, 401);
    assert_string_equal(text(&a, "toy_error"), "UNAUTHORIZED");
    json_decref(a.body);
    a = send(w, "DELETE", "/toy/items/a1", "bad", NULL, NULL, 0);
    assert_int_equal(a.status, 401);
    json_decref(a.body);
    assert_int_equal(handler_calls, 0);
    assert_true(stored(w, "a1"));
    a = send(w, "GET", "/toy/open", NULL, NULL, NULL, 0); /* a route without ROUTE_AUTH */
    assert_int_equal(a.status, 200);
    assert_string_equal(text(&a, "tenant"), "");
    json_decref(a.body);
    assert_int_equal(auth_calls, 2);
}

static void test_bodies(void **state)
{
    struct world *w = *state;
    struct answer a;

    a = send(w, "POST", "/toy/items", "good", "{\"id\":\"b2\"}", "application/json", 0);
    assert_int_equal(a.status, 201);
    assert_string_equal(text(&a, "id"), "b2");
    json_decref(a.body);
    assert_true(stored(w, "b2"));
    /* not JSON, or no JSON media type for an Express vendor: the handler sees no id */
    a = send(w, "POST", "/toy/items", "good", "{\"id\":", "application/json", 0);
    assert_int_equal(a.status, 400);
    json_decref(a.body);
    a = send(w, "POST", "/toy/items", "good", "{\"id\":\"c3\"}", "text/plain", 0);
    assert_int_equal(a.status, 422);
    json_decref(a.body);
    assert_false(stored(w, "c3"));
    /* over --max-body: refused before authentication or the handler */
    auth_calls = handler_calls = 0;
    a = send(w, "POST", "/toy/items", "good", "{\"id\":\"d4\"}", "application/json", 1);
    assert_int_equal(a.status, 413);
    assert_string_equal(text(&a, "toy_error"), "TOO_LARGE");
    assert_string_equal(text(&a, "detail"), "Request body exceeds the limit of 64 bytes");
    json_decref(a.body);
    assert_int_equal(auth_calls + handler_calls, 0);
    assert_false(stored(w, "d4"));
}

static void test_failed_write_rolls_back(void **state)
{
    struct world *w = *state;
    struct answer a;

    a = send(w, "POST", "/toy/items", "good", "{\"id\":\"e5\",\"fail\":true}", "application/json",
             0);
    assert_int_equal(a.status, 409); /* the error's status, not the partial 201 */
    assert_string_equal(text(&a, "toy_error"), "CONFLICT");
    assert_null(json_object_get(a.body, "partial"));
    json_decref(a.body);
    assert_false(stored(w, "e5"));
    a = send(w, "DELETE", "/toy/items/a1", "good", NULL, NULL, 0);
    json_decref(a.body);
    assert_false(stored(w, "a1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_routing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_and_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_authentication, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bodies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_rolls_back, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
