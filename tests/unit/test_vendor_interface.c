/* test_vendor_interface.c -- a fourth vendor needs nothing from the core but the vendor
 * interface.
 *
 * "widgets" below is a whole vendor in one file, compiled into this test only: its routes, a
 * table seeded from its own fixture file, authentication through the shared credential lookup,
 * a rate limit through the shared rate-limit answer, its settings, and an error catalogue in
 * the shared table type. The test registers it as the core's vendor list (vendors_register), writes
 * its fixtures, and drives requests through dispatch_request as the server does: nothing in the
 * core names it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
#include "dispatch.h"
#include "tenants.h"
#include "vendor_list.h"
#include "vendor_kit.h"
#include "vendors.h"
#include "vendor_world.h"

/* ---- the vendor: everything a fourth vendor writes ---- */

#define WIDGETS_ITEMS "widgets.items"

static const struct vendor vendor_widgets;

/* clang-format off */
static const struct vendor_error widgets_errors[] = {
    /* name               http  code   default message              renders */
    {"BAD_INPUT",         400, "W400", "The input is not a widget", VENDOR_ANSWERS(EMU_BAD_REQUEST) | VENDOR_ANSWERS(EMU_BAD_JSON)},
    {"NO_KEY",            401, "W401", "Who are you?",              VENDOR_ANSWERS(EMU_UNAUTHORIZED)},
    {"NO_SUCH_WIDGET",    404, "W404", "No such widget",            0},
    {"NO_SUCH_PATH",      404, "W405", "Nothing here",              VENDOR_ANSWERS(EMU_NO_ROUTE) | VENDOR_ANSWERS(EMU_NO_METHOD)},
    {"SLOW_DOWN",         429, "W429", "Too many widgets",          VENDOR_ANSWERS(EMU_RATE_LIMITED)},
    {"BROKEN",            500, "W500", "Something broke",           VENDOR_OTHERWISE},
    {0},
};
/* clang-format on */

static int widgets_has_error(const char *name)
{
    return vendor_error_find(widgets_errors, name) != NULL;
}

/* {"error": {"name", "code", "message"}}: the failure's own sentence, else the entry's. */
static void widgets_reply_error(struct req *req, struct res *res, int err)
{
    const struct vendor_error *e = vendor_error_for(widgets_errors, err, res);
    char message[300];

    (void)req;
    if (err == EMU_STORE_FULL)
        vendor_store_full(message, sizeof(message), "", "");
    else
        snprintf(message, sizeof(message), "%s", res->detail[0] ? res->detail : e->message);
    res_json(res, e->http,
             json_pack("{s:{s:s,s:s,s:s}}", "error", "name", e->name, "code", e->code, "message",
                       message));
}

/* X-Widget-Key names a credential; "per_minute" limits it on the emulator clock. */
static int widgets_authenticate(struct req *req, struct res *res)
{
    const char *key = req_header(req, "X-Widget-Key");
    json_t *per;
    int rc;

    if (key == NULL || *key == '\0')
        return EMU_UNAUTHORIZED;
    rc = vendor_credential_find(req, &vendor_widgets, key);
    if (rc != EMU_OK)
        return rc;
    vendor_tenant_take(req);
    per = json_object_get(req->credential, "per_minute");
    if (!json_is_integer(per))
        return EMU_OK;
    return vendor_rate_limit(req, res, &vendor_widgets, NULL, 60000, (int)json_integer_value(per),
                             RATELIMIT_HEADERS);
}

static int widgets_check_credential(const json_t *cred, const char **field, char *msg,
                                    size_t msglen)
{
    if (jsonx_string(cred, "key") == NULL) {
        *field = "key";
        snprintf(msg, msglen, "\"key\" must be a string");
        return EMU_INVALID;
    }
    return EMU_OK;
}

static json_t *widgets_default_credentials(const char *tenant)
{
    char key[128];

    snprintf(key, sizeof(key), "w_%s_key", tenant);
    return json_pack("[{s:s}]", "key", key);
}

static int widgets_item_row_key(const json_t *row, size_t index, char *key, size_t keylen,
                                const char **field, char *msg, size_t msglen)
{
    (void)index;
    if (jsonx_string(row, "id") == NULL) {
        *field = "id";
        snprintf(msg, msglen, "\"id\" must be a string");
        return EMU_INVALID;
    }
    snprintf(key, keylen, "%s", jsonx_string(row, "id"));
    return EMU_OK;
}

static int widgets_items_get(struct req *req, struct res *res)
{
    char key[300];
    json_t *row;
    int rc;

    snprintf(key, sizeof(key), "%s/%s", req->tenant, req_param(req, "id"));
    rc = store_get(req->txn, WIDGETS_ITEMS, key, &row);
    if (rc == EMU_NOT_FOUND)
        return res_vendor_fail(res, "NO_SUCH_WIDGET");
    return rc == EMU_OK ? res_json(res, 200, row) : rc;
}

static int widgets_items_create(struct req *req, struct res *res)
{
    const char *id = jsonx_string(req->json, "id");
    char key[300];

    if (id == NULL)
        return res_fail(res, EMU_BAD_REQUEST, "A widget needs an id");
    snprintf(key, sizeof(key), "%s/%s", req->tenant, id);
    return store_put(req->txn, WIDGETS_ITEMS, key, req->json) == EMU_OK
               ? res_json(res, 201, json_incref(req->json))
               : EMU_STORE;
}

static int widgets_settings_get(struct req *req, struct res *res)
{
    json_t *settings;
    int rc = vendor_settings(req, &vendor_widgets, &settings);

    return rc == EMU_OK ? res_json(res, 200, settings) : rc;
}

static const char *const widgets_prefixes[] = {"/widgets", NULL};

/* clang-format off */
static const struct route widgets_routes[] = {
    /* method  path                handler               flags */
    {"GET",  "/widgets/settings", widgets_settings_get, ROUTE_AUTH},
    {"GET",  "/widgets/{id}",     widgets_items_get,    ROUTE_AUTH},
    {"POST", "/widgets",          widgets_items_create, ROUTE_AUTH | ROUTE_JSON | ROUTE_WRITE},
    {0},
};

static const struct table_def widgets_tables[] = {
    /* store table    fixture file  row key */
    {WIDGETS_ITEMS, "items.json", widgets_item_row_key},
    {0},
};
/* clang-format on */

static const struct vendor vendor_widgets = {
    .name = "widgets",
    .prefixes = widgets_prefixes,
    .routes = widgets_routes,
    .tables = widgets_tables,
    .credential_field = "key",
    .check_credential = widgets_check_credential,
    .default_credentials = widgets_default_credentials,
    .has_error = widgets_has_error,
    .authenticate = widgets_authenticate,
    .reply_error = widgets_reply_error,
    .body = VENDOR_BODY_JSON,
};

/* The one line in the vendor list. */
static const struct vendor *const test_vendors[] = {&vendor_widgets, &vendor_admin, NULL};

/* ---- the test: its fixtures, and requests through the dispatcher ---- */

static const char tenants_json[] =
    "[{\"id\": \"demo\", \"settings\": {\"widgets\": {\"colour\": \"teal\"}},\n"
    "  \"credentials\": {\"widgets\": [{\"key\": \"w_demo\", \"per_minute\": 3},\n"
    "                                 {\"key\": \"w_demo_free\"}]}},\n"
    " {\"id\": \"other\", \"credentials\": {\"widgets\": [{\"key\": \"w_other\"}]}}]\n";
static const char items_json[] = "{\"demo\": [{\"id\": \"anvil\", \"weight\": 50}],\n"
                                 " \"other\": [{\"id\": \"bolt\", \"weight\": 1}]}\n";

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static int setup(void **state)
{
    struct world *w = calloc(1, sizeof(*w));
    char fixtures[128], data[128];

    assert_non_null(w);
    vendors_register(test_vendors, &vendor_admin);
    strcpy(w->dir, "/tmp/test_vendor_interface-XXXXXX");
    assert_non_null(mkdtemp(w->dir));
    snprintf(fixtures, sizeof(fixtures), "%s/fixtures", w->dir);
    assert_int_equal(mkdir(fixtures, 0700), 0);
    write_file(fixtures, "tenants.json", tenants_json);
    snprintf(data, sizeof(data), "%s/fixtures/widgets", w->dir);
    assert_int_equal(mkdir(data, 0700), 0);
    write_file(data, "items.json", items_json);
    snprintf(data, sizeof(data), "%s/data", w->dir);
    assert_int_equal(mkdir(data, 0700), 0);
    world_open(w, fixtures, data);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_teardown(state);
    vendor_list_register();
    return 0;
}

static int send(struct world *w, const char *method, const char *path, const char *key,
                const char *body, json_t **out, struct res *res)
{
    struct req req;
    int status;

    memset(&req, 0, sizeof(req));
    memset(res, 0, sizeof(*res));
    req.app = &w->app;
    req.method = method;
    req.path = path;
    req.remote_addr = "127.0.0.1";
    req.body = body ? body : "";
    req.body_len = body ? strlen(body) : 0;
    req.now_ms = clock_now_ms(&w->app.clock);
    if (key != NULL) {
        req.headers[0].name = "X-Widget-Key";
        req.headers[0].value = key;
        req.nheaders = 1;
    }
    dispatch_request(&w->app, &req, res);
    status = res->status;
    if (out != NULL) {
        *out = json_loadb(res->body, res->body_len, 0, NULL);
        assert_non_null(*out);
    }
    req_clear(&req);
    return status;
}

/* The error member's name and code in an answer, checked. */
static void assert_error(json_t *body, const char *name, const char *code)
{
    json_t *error = json_object_get(body, "error");

    assert_string_equal(jsonx_string(error, "name"), name);
    assert_string_equal(jsonx_string(error, "code"), code);
}

static void test_list_and_tables(void **state)
{
    const char *const *tables = vendors_store_tables();
    int found = 0;

    (void)state;
    assert_ptr_equal(vendor_find("widgets"), &vendor_widgets);
    assert_null(vendor_find("rasl")); /* the list is the test's own */
    for (int i = 0; tables[i] != NULL; i++)
        found |= strcmp(tables[i], WIDGETS_ITEMS) == 0;
    assert_true(found);
}

static void test_fixture_row_read_with_credential(void **state)
{
    struct world *w = *state;
    struct res res;
    json_t *body;

    assert_int_equal(send(w, "GET", "/widgets/anvil", "w_demo_free", NULL, &body, &res), 200);
    assert_int_equal(json_integer_value(json_object_get(body, "weight")), 50);
    json_decref(body);
    res_clear(&res);
    /* the tenant is the credential's: other's widget is not demo's */
    assert_int_equal(send(w, "GET", "/widgets/bolt", "w_demo_free", NULL, &body, &res), 404);
    assert_error(body, "NO_SUCH_WIDGET", "W404");
    assert_string_equal(jsonx_string(json_object_get(body, "error"), "message"), "No such widget");
    json_decref(body);
    res_clear(&res);
    assert_int_equal(send(w, "GET", "/widgets/bolt", "w_other", NULL, NULL, &res), 200);
    res_clear(&res);
}

static void test_refusals_render_from_the_catalogue(void **state)
{
    struct world *w = *state;
    struct res res;
    json_t *body;

    assert_int_equal(send(w, "GET", "/widgets/anvil", NULL, NULL, &body, &res), 401);
    assert_error(body, "NO_KEY", "W401");
    json_decref(body);
    res_clear(&res);
    assert_int_equal(send(w, "GET", "/widgets/anvil", "nobody", NULL, &body, &res), 401);
    assert_error(body, "NO_KEY", "W401");
    json_decref(body);
    res_clear(&res);
    assert_int_equal(send(w, "DELETE", "/widgets/anvil", "w_demo_free", NULL, &body, &res), 404);
    assert_error(body, "NO_SUCH_PATH", "W405");
    json_decref(body);
    res_clear(&res);
    assert_int_equal(send(w, "POST", "/widgets", "w_demo_free", "{\"weight\": 2}", &body, &res),
                     400);
    assert_error(body, "BAD_INPUT", "W400");
    assert_string_equal(jsonx_string(json_object_get(body, "error"), "message"),
                        "A widget needs an id");
    json_decref(body);
    res_clear(&res);
    assert_int_equal(send(w, "POST", "/widgets", "w_demo_free", "{oops", &body, &res), 400);
    assert_error(body, "BAD_INPUT", "W400");
    json_decref(body);
    res_clear(&res);
}

static void test_write_then_read(void **state)
{
    struct world *w = *state;
    struct res res;
    json_t *body;

    assert_int_equal(
        send(w, "POST", "/widgets", "w_demo_free", "{\"id\": \"cog\", \"weight\": 3}", NULL, &res),
        201);
    res_clear(&res);
    assert_int_equal(send(w, "GET", "/widgets/cog", "w_demo_free", NULL, &body, &res), 200);
    assert_int_equal(json_integer_value(json_object_get(body, "weight")), 3);
    json_decref(body);
    res_clear(&res);
}

static void test_settings(void **state)
{
    struct world *w = *state;
    struct res res;
    json_t *body;

    assert_int_equal(send(w, "GET", "/widgets/settings", "w_demo_free", NULL, &body, &res), 200);
    assert_string_equal(jsonx_string(body, "colour"), "teal");
    json_decref(body);
    res_clear(&res);
    assert_int_equal(send(w, "GET", "/widgets/settings", "w_other", NULL, &body, &res), 200);
    assert_int_equal(json_object_size(body), 0); /* none: an empty object */
    json_decref(body);
    res_clear(&res);
}

static void test_rate_limit(void **state)
{
    struct world *w = *state;
    struct res res;
    json_t *body;

    for (int i = 0; i < 3; i++) {
        assert_int_equal(send(w, "GET", "/widgets/anvil", "w_demo", NULL, NULL, &res), 200);
        assert_non_null(strstr(res.headers, "X-RateLimit-Limit: 3\r\n"));
        res_clear(&res);
    }
    assert_int_equal(send(w, "GET", "/widgets/anvil", "w_demo", NULL, &body, &res), 429);
    assert_error(body, "SLOW_DOWN", "W429");
    assert_non_null(strstr(res.headers, "Retry-After: 60\r\n"));
    assert_non_null(strstr(res.headers, "X-RateLimit-Remaining: 0\r\n"));
    json_decref(body);
    res_clear(&res);
    /* each credential has its own window */
    assert_int_equal(send(w, "GET", "/widgets/anvil", "w_demo_free", NULL, NULL, &res), 200);
    res_clear(&res);
}

static void test_catalogue_lookup(void **state)
{
    struct res res;
    char text[120];

    (void)state;
    memset(&res, 0, sizeof(res));
    assert_ptr_equal(vendor_error_find(widgets_errors, "W404"), &widgets_errors[2]);
    assert_ptr_equal(vendor_error_find(widgets_errors, "NO_SUCH_WIDGET"), &widgets_errors[2]);
    assert_null(vendor_error_find(widgets_errors, "no_such_widget"));
    assert_null(vendor_error_find(widgets_errors, NULL));
    assert_string_equal(vendor_error_for(widgets_errors, EMU_NO_METHOD, &res)->name,
                        "NO_SUCH_PATH");
    assert_string_equal(vendor_error_for(widgets_errors, EMU_STORE, &res)->name, "BROKEN");
    res.vendor_error = "SLOW_DOWN";
    assert_string_equal(vendor_error_for(widgets_errors, EMU_VENDOR, &res)->name, "SLOW_DOWN");
    res.vendor_error = "NOT_IN_THE_CATALOGUE";
    assert_string_equal(vendor_error_for(widgets_errors, EMU_VENDOR, &res)->name, "BROKEN");
    assert_true(widgets_has_error("BROKEN"));
    vendor_store_full(text, sizeof(text), "", ".");
    assert_string_equal(text, "The emulator's store is full (--map-size); reads still work.");
    vendor_store_full(text, sizeof(text), "Oops: ", "");
    assert_string_equal(text, "Oops: the emulator's store is full (--map-size); reads still work");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_and_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fixture_row_read_with_credential, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_render_from_the_catalogue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_then_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
        cmocka_unit_test(test_catalogue_lookup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
