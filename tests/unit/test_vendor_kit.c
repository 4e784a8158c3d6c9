/* test_vendor_kit.c -- the kit on the real vendors and a seeded store: credential lookup keyed
 * "<vendor>/<secret>" (another vendor's secret, an unknown or an overlong one is
 * EMU_UNAUTHORIZED), the tenant taken from the credential, rate-limit windows kept apart by
 * tenant, credential and bucket, tenant settings, sequences restarted, and a catalogue without
 * a fallback entry answering NULL. */
#include "vendor_kit.h"
#include "vendor_world.h"

/* A request in a read-write transaction of w's store, as the dispatcher makes one. */
static void req_open(struct world *w, struct req *req)
{
    memset(req, 0, sizeof(*req));
    req->app = &w->app;
    req->method = "GET";
    req->path = "/";
    req->remote_addr = "127.0.0.1";
    req->body = "";
    req->now_ms = clock_now_ms(&w->app.clock);
    assert_int_equal(store_txn_begin(w->app.store, 1, &req->txn), EMU_OK);
}

static void req_close(struct req *req)
{
    store_txn_abort(req->txn);
    req->txn = NULL;
    req_clear(req);
}

static void test_credential_find(void **state)
{
    struct world *w = *state;
    const struct vendor *gua = vendor_find("guayaba"), *cv = vendor_find("convoso");
    char longer[700];
    struct req req;

    assert_non_null(gua);
    assert_non_null(cv);
    req_open(w, &req);
    assert_int_equal(vendor_credential_find(&req, gua, "gua_other0001_key"), EMU_OK);
    assert_non_null(req.credential);
    assert_string_equal(jsonx_string(req.credential, "api_key"), "gua_other0001_key");
    assert_string_equal(req.tenant, ""); /* not taken yet */
    vendor_tenant_take(&req);
    assert_string_equal(req.tenant, "other");
    /* a second lookup replaces the first credential (no leak, no stale row) */
    assert_int_equal(vendor_credential_find(&req, gua, "gua_demo0002_key"), EMU_OK);
    vendor_tenant_take(&req);
    assert_string_equal(req.tenant, "demo");
    /* another vendor's secret, an unknown one, an empty one, an overlong one */
    assert_int_equal(vendor_credential_find(&req, cv, "gua_demo0002_key"), EMU_UNAUTHORIZED);
    assert_int_equal(vendor_credential_find(&req, gua, "gua_demo0003_key"), EMU_UNAUTHORIZED);
    assert_int_equal(vendor_credential_find(&req, gua, ""), EMU_UNAUTHORIZED);
    memset(longer, 'k', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(vendor_credential_find(&req, gua, longer), EMU_UNAUTHORIZED);
    /* a failed lookup keeps the credential found before */
    assert_string_equal(jsonx_string(req.credential, "api_key"), "gua_demo0002_key");
    assert_int_equal(vendor_credential_find(&req, cv, "cv_demo_token"), EMU_OK);
    req_close(&req);
}

/* One rate-limited call of secret's credential (of vendor v) on bucket, limit 2 a minute. */
static int limited(struct world *w, const struct vendor *v, const char *secret, const char *bucket)
{
    struct req req;
    struct res res;
    int rc;

    req_open(w, &req);
    memset(&res, 0, sizeof(res));
    assert_int_equal(vendor_credential_find(&req, v, secret), EMU_OK);
    vendor_tenant_take(&req);
    rc = vendor_rate_limit(&req, &res, v, bucket, 60000, 2, RATELIMIT_HEADERS);
    if (rc == EMU_RATE_LIMITED) {
        assert_true(res.retry_after >= 1 && res.retry_after <= 60);
        assert_non_null(strstr(res.headers, "Retry-After: "));
    } else {
        assert_non_null(strstr(res.headers, "X-RateLimit-Limit: 2\r\n"));
    }
    res_clear(&res);
    req_close(&req);
    return rc;
}

static void test_rate_limit_keys(void **state)
{
    struct world *w = *state;
    const struct vendor *gua = vendor_find("guayaba");

    assert_int_equal(limited(w, gua, "gua_demo0001_key", "read"), EMU_OK);
    assert_int_equal(limited(w, gua, "gua_demo0001_key", "read"), EMU_OK);
    assert_int_equal(limited(w, gua, "gua_demo0001_key", "read"), EMU_RATE_LIMITED);
    /* another bucket, no bucket, another credential of the tenant, another tenant: fresh */
    assert_int_equal(limited(w, gua, "gua_demo0001_key", "write"), EMU_OK);
    assert_int_equal(limited(w, gua, "gua_demo0001_key", NULL), EMU_OK);
    assert_int_equal(limited(w, gua, "gua_demo0002_key", "read"), EMU_OK);
    assert_int_equal(limited(w, gua, "gua_other0001_key", "read"), EMU_OK);
    /* the keys start with the tenant: clearing one tenant's windows frees only them */
    assert_int_equal(limited(w, gua, "gua_other0001_key", "read"), EMU_OK);
    assert_int_equal(limited(w, gua, "gua_other0001_key", "read"), EMU_RATE_LIMITED);
    ratelimit_clear(w->app.limits, "demo/");
    assert_int_equal(limited(w, gua, "gua_demo0001_key", "read"), EMU_OK);
    assert_int_equal(limited(w, gua, "gua_other0001_key", "read"), EMU_RATE_LIMITED);
}

static void test_settings(void **state)
{
    struct world *w = *state;
    struct req req;
    json_t *s = NULL;

    req_open(w, &req);
    strcpy(req.tenant, "demo");
    assert_int_equal(vendor_settings(&req, vendor_find("rasl"), &s), EMU_OK);
    assert_string_equal(world_text(s, "webhook_secret"), "demo-webhook-secret");
    json_decref(s);
    assert_int_equal(vendor_settings(&req, vendor_find("convoso"), &s), EMU_OK);
    assert_int_equal(json_object_size(s), 0); /* none: empty */
    json_decref(s);
    strcpy(req.tenant, "nobody");
    assert_int_equal(vendor_settings(&req, vendor_find("rasl"), &s), EMU_OK);
    assert_true(json_is_object(s));
    assert_int_equal(json_object_size(s), 0);
    json_decref(s);
    req_close(&req);
}

static void test_seq_restart(void **state)
{
    struct world *w = *state;
    struct store_txn *txn;
    uint64_t n = 0;

    assert_int_equal(store_txn_begin(w->app.store, 1, &txn), EMU_OK);
    for (int i = 0; i < 5; i++)
        assert_int_equal(store_seq_next(txn, "demo/test.items", &n), EMU_OK);
    assert_int_equal(n, 5);
    /* back to max + 1, even below where it was: that is what a reseed needs */
    assert_int_equal(vendor_seq_restart(txn, "demo/test.items", 2), EMU_OK);
    assert_int_equal(store_seq_next(txn, "demo/test.items", &n), EMU_OK);
    assert_int_equal(n, 3);
    assert_int_equal(vendor_seq_restart(txn, "demo/test.fresh", 0), EMU_OK);
    assert_int_equal(store_seq_next(txn, "demo/test.fresh", &n), EMU_OK);
    assert_int_equal(n, 1);
    store_txn_abort(txn);
}

static void test_catalogue_without_fallback(void **state)
{
    static const struct vendor_error bare[] = {
        {"Gone", 404, "G1", "gone", VENDOR_ANSWERS(EMU_NOT_FOUND) | VENDOR_ANSWERS(EMU_NO_ROUTE)},
        {"Busy", 429, NULL, "busy", VENDOR_ANSWERS(EMU_RATE_LIMITED)},
        {0},
    };
    static const struct vendor_error empty[] = {{0}};
    struct res res;

    (void)state;
    memset(&res, 0, sizeof(res));
    assert_ptr_equal(vendor_error_for(bare, EMU_NO_ROUTE, &res), &bare[0]);
    assert_ptr_equal(vendor_error_for(bare, EMU_RATE_LIMITED, &res), &bare[1]);
    assert_null(vendor_error_for(bare, EMU_STORE, &res));
    assert_null(vendor_error_for(bare, -40, &res)); /* outside the answers' bits */
    assert_null(vendor_error_for(bare, 5, &res));
    res.vendor_error = "G1"; /* found by its code too */
    assert_ptr_equal(vendor_error_for(bare, EMU_VENDOR, &res), &bare[0]);
    res.vendor_error = NULL;
    assert_null(vendor_error_for(bare, EMU_VENDOR, &res));
    assert_null(vendor_error_find(empty, "Gone"));
    assert_null(vendor_error_for(empty, EMU_NOT_FOUND, &res));
}

static void test_store_full_sentence(void **state)
{
    char text[120], tiny[8];

    (void)state;
    vendor_store_full(text, sizeof(text), "", "");
    assert_string_equal(text, "The emulator's store is full (--map-size); reads still work");
    vendor_store_full(tiny, sizeof(tiny), "", ".");
    assert_string_equal(tiny, "The emu"); /* cut, still terminated and capitalised */
    vendor_store_full(text, sizeof(text), "x ", ".");
    assert_int_equal(text[0], 'x');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_credential_find, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_rate_limit_keys, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_settings, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_seq_restart, world_setup, world_teardown),
        cmocka_unit_test(test_catalogue_without_fallback),
        cmocka_unit_test(test_store_full_sentence),
    };

    (void)world_call; /* vendor_world.h's handler call: not needed here */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
