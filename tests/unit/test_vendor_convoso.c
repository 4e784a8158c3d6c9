/* test_vendor_convoso.c -- Convoso's status handlers called directly with a request struct:
 * search over the seeded statuses, insert and its catalogue errors (a taken code, a bad colour,
 * a missing flag), update refusing system statuses, and the error body of each. */
#include "vendor_world.h"

#include "vendors/convoso/convoso.h"

#define FLAGS "&final=N&reached=N&success=N&dnc=N&callback=N&contact=N&voicemail=N"

static json_t *run(struct world *w, route_fn *handler, const char *query, int *rc)
{
    struct call c = {&vendor_convoso, handler, .path = "/v1/status/x", .query = query};
    struct res res;
    json_t *body;

    *rc = world_call(w, &c, &res, &body);
    res_clear(&res);
    return body;
}

static void test_search(void **state)
{
    int rc;
    json_t *body = run(*state, convoso_status_search, "query=completed", &rc);

    assert_int_equal(rc, EMU_OK);
    assert_true(json_is_true(json_object_get(body, "success")));
    assert_int_equal(json_array_size(json_object_get(body, "data")), 1);
    assert_string_equal(world_text(json_array_get(json_object_get(body, "data"), 0), "status"),
                        "COMP");
    json_decref(body);
}

static void test_insert_then_search(void **state)
{
    int rc;
    json_t *body = run(*state, convoso_status_insert, "status=NEW1&name=Brand%20new" FLAGS, &rc);

    assert_int_equal(rc, EMU_OK);
    assert_true(json_is_true(json_object_get(body, "success")));
    json_decref(body);
    body = run(*state, convoso_status_search, "query=brand", &rc);
    assert_int_equal(json_array_size(json_object_get(body, "data")), 1);
    json_decref(body);
}

static void test_insert_refusals(void **state)
{
    int rc;
    json_t *body = run(*state, convoso_status_insert, "status=comp&name=Again" FLAGS, &rc);

    assert_int_equal(rc, EMU_VENDOR); /* codes are unique without regard to case */
    assert_true(json_is_false(json_object_get(body, "success")));
    assert_string_equal(world_text(body, "error"), "Status code already exists");
    assert_null(json_object_get(body, "code"));
    json_decref(body);
    body = run(*state, convoso_status_insert, "status=NEW2&name=X&hex_color=nothex" FLAGS, &rc);
    assert_int_equal(json_integer_value(json_object_get(body, "code")), 6078);
    assert_string_equal(world_text(body, "error"),
                        "HEX color defined is invalid (do not include #)");
    json_decref(body);
    body = run(*state, convoso_status_insert, "status=NEW3&name=X", &rc);
    assert_int_equal(json_integer_value(json_object_get(body, "code")), 6062);
    json_decref(body);
}

static void test_update_system_status(void **state)
{
    int rc;
    json_t *body = run(*state, convoso_status_update, "status=COMP&name=Mine", &rc);

    assert_int_equal(rc, EMU_VENDOR);
    assert_int_equal(json_integer_value(json_object_get(body, "code")), 6069);
    json_decref(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_search, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_insert_then_search, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_insert_refusals, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_update_system_status, world_setup, world_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
