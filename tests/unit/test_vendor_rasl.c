/* test_vendor_rasl.c -- RASL's named resources and group membership called directly with a
 * request struct: the envelope of a list, a status created and refused (a taken name, a bad
 * colour), a 404 in the vendor's words, a status in use refused on delete, and contacts added
 * to a group (contact 2 of the fixtures is in group 1 already). */
#include "vendor_world.h"

#include "vendors/rasl/rasl.h"

static json_t *run(struct world *w, route_fn *handler, const char *method, const char *pattern,
                   const char *path, const char *json, int *status)
{
    struct call c = {&vendor_rasl, handler, method, pattern, path, .json = json};
    struct res res;
    json_t *body;

    world_call(w, &c, &res, &body);
    *status = res.status;
    res_clear(&res);
    return body;
}

static void test_list_envelope(void **state)
{
    int status;
    json_t *body = run(*state, rasl_statuses_list, NULL, "/api/v2/statuses", NULL, NULL, &status);

    assert_int_equal(status, 200);
    assert_true(json_is_true(json_object_get(body, "success")));
    assert_int_equal(json_array_size(json_object_get(body, "data")), 8);
    assert_non_null(world_text(body, "meta.request_id"));
    assert_string_equal(world_text(body, "meta.timestamp"), "2026-01-01T00:00:00+00:00");
    json_decref(body);
}

static void test_create_and_refusals(void **state)
{
    int status;
    json_t *body = run(*state, rasl_statuses_create, "POST", "/api/v2/statuses", NULL,
                       "{\"name\": \"Hot\", \"color\": \"#FF0000\"}", &status);

    assert_int_equal(status, 201);
    assert_string_equal(world_text(body, "message"), "Status created successfully");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(body, "data"), "id")), 9);
    json_decref(body);
    body = run(*state, rasl_statuses_create, "POST", "/api/v2/statuses", NULL,
               "{\"name\": \"hot\", \"color\": \"red\"}", &status);
    assert_int_equal(status, 422);
    assert_string_equal(world_text(body, "error.code"), "VALIDATION_ERROR");
    assert_string_equal(
        json_string_value(json_array_get(
            json_object_get(json_object_get(json_object_get(body, "error"), "details"), "name"),
            0)),
        "A status with this name already exists.");
    assert_non_null(
        json_object_get(json_object_get(json_object_get(body, "error"), "details"), "color"));
    json_decref(body);
}

static void test_not_found_and_in_use(void **state)
{
    int status;
    json_t *body = run(*state, rasl_sources_get, NULL, "/api/v2/sources/{id}",
                       "/api/v2/sources/999", NULL, &status);

    assert_int_equal(status, 404);
    assert_string_equal(world_text(body, "error.code"), "NOT_FOUND");
    assert_string_equal(world_text(body, "error.message"), "Source not found.");
    json_decref(body);
    body = run(*state, rasl_statuses_delete, "DELETE", "/api/v2/statuses/{id}",
               "/api/v2/statuses/1", NULL, &status);
    assert_int_equal(status, 409);
    assert_string_equal(world_text(body, "error.code"), "RESOURCE_CONFLICT");
    json_decref(body);
}

static void test_group_membership(void **state)
{
    int status;
    json_t *body = run(*state, rasl_groups_add_contacts, "POST", "/api/v2/groups/{id}/contacts",
                       "/api/v2/groups/1/contacts", "{\"contact_ids\": [1, \"3\"]}", &status);

    assert_int_equal(status, 200);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(body, "data"), "contacts_added")), 2);
    json_decref(body);
    body = run(*state, rasl_groups_add_contacts, "POST", "/api/v2/groups/{id}/contacts",
               "/api/v2/groups/1/contacts", "{\"contact_ids\": [1]}", &status);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(body, "data"), "contacts_added")),
        0); /* already a member */
    json_decref(body);
    body = run(*state, rasl_groups_add_contacts, "POST", "/api/v2/groups/{id}/contacts",
               "/api/v2/groups/1/contacts", "{\"contact_ids\": []}", &status);
    assert_int_equal(status, 422);
    json_decref(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_envelope, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_create_and_refusals, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_not_found_and_in_use, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_group_membership, world_setup, world_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
