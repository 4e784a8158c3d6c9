/* test_router.c -- path patterns, parameter capture, vendor ownership of paths, and that no
 * two routes of the built-in vendors collide. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "err.h"
#include "req.h"
#include "router.h"
#include "vendor_list.h"
#include "vendors.h"

static void test_literal_paths(void **state)
{
    (void)state;
    assert_true(router_path_match("/contacts/statuses", "/contacts/statuses", NULL));
    assert_true(router_path_match("/contacts/statuses", "/contacts/statuses/", NULL));
    assert_false(router_path_match("/contacts/statuses", "/contacts/statuses//", NULL));
    assert_false(router_path_match("/contacts/statuses", "/contacts/status", NULL));
    assert_false(router_path_match("/contacts", "/contacts/x", NULL));
}

static void test_param_captured(void **state)
{
    struct req req = {0};

    (void)state;
    assert_true(router_path_match("/contacts/{id}", "/contacts/abc-1", &req));
    assert_int_equal(req.nparams, 1);
    assert_string_equal(req.params[0].value, "abc-1");
}

static void test_param_rejects_extra_or_empty_segment(void **state)
{
    struct req req = {0};

    (void)state;
    assert_false(router_path_match("/contacts/{id}", "/contacts/abc/x", &req));
    assert_false(router_path_match("/contacts/{id}", "/contacts/", &req));
}

static void test_param_too_long_is_no_match(void **state)
{
    struct req req = {0};
    char path[400] = "/contacts/";

    (void)state;
    memset(path + 10, 'a', 300);
    assert_false(router_path_match("/contacts/{id}", path, &req));
}

static void test_star_takes_the_rest(void **state)
{
    (void)state;
    assert_true(router_path_match("/api/v2/messages/*", "/api/v2/messages/text", NULL));
    assert_true(router_path_match("/api/v2/messages/*", "/api/v2/messages/a/b", NULL));
    assert_false(router_path_match("/api/v2/messages/*", "/api/v2/contacts", NULL));
}

static void test_match_names_params_and_vendor(void **state)
{
    struct req req = {0};

    (void)state;
    req.method = "PUT";
    req.path = "/contacts/d290f1ee-6c54-4b01-90e6-d701748f0851";
    assert_int_equal(router_match(vendor_list, &req), EMU_OK);
    assert_ptr_equal(req.vendor, &vendor_guayaba);
    assert_string_equal(req_param(&req, "id"), "d290f1ee-6c54-4b01-90e6-d701748f0851");
    assert_null(req_param(&req, "i"));
}

static void test_wrong_method_and_unknown_path(void **state)
{
    struct req req = {0};

    (void)state;
    req.method = "DELETE";
    req.path = "/contacts/statuses";
    assert_int_equal(router_match(vendor_list, &req), EMU_NO_METHOD);
    req.method = "GET";
    req.path = "/no/such/thing";
    assert_int_equal(router_match(vendor_list, &req), EMU_NO_ROUTE);
    assert_ptr_equal(req.vendor, &vendor_guayaba); /* Guayaba owns the unclaimed paths */
    req.path = "/__admin/nope";
    assert_int_equal(router_match(vendor_list, &req), EMU_NO_ROUTE);
    assert_ptr_equal(req.vendor, &vendor_admin);
}

static void test_prefix_owns_whole_segments(void **state)
{
    struct req req = {0};

    (void)state;
    req.method = "GET";
    req.path = "/v1";
    assert_int_equal(router_match(vendor_list, &req), EMU_NO_ROUTE);
    assert_ptr_equal(req.vendor, &vendor_convoso);
    req.path = "/v1x";
    router_match(vendor_list, &req);
    assert_ptr_equal(req.vendor, &vendor_guayaba);
    req.path = "/v"; /* shorter than every prefix */
    router_match(vendor_list, &req);
    assert_ptr_equal(req.vendor, &vendor_guayaba);
    req.path = "/api/v2/nothing";
    router_match(vendor_list, &req);
    assert_ptr_equal(req.vendor, &vendor_rasl);
}

static void test_no_two_routes_collide(void **state)
{
    (void)state;
    for (int a = 0; vendor_list[a] != NULL; a++)
        for (const struct route *r = vendor_list[a]->routes; r->method; r++)
            for (int b = 0; vendor_list[b] != NULL; b++)
                for (const struct route *s = vendor_list[b]->routes; s->method; s++)
                    if (r != s && strcmp(r->method, s->method) == 0)
                        assert_false(strcmp(r->path, s->path) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal_paths),
        cmocka_unit_test(test_param_captured),
        cmocka_unit_test(test_param_rejects_extra_or_empty_segment),
        cmocka_unit_test(test_param_too_long_is_no_match),
        cmocka_unit_test(test_star_takes_the_rest),
        cmocka_unit_test(test_match_names_params_and_vendor),
        cmocka_unit_test(test_wrong_method_and_unknown_path),
        cmocka_unit_test(test_prefix_owns_whole_segments),
        cmocka_unit_test(test_no_two_routes_collide),
    };
    vendor_list_register(); /* as main does: the vendors the core serves */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
