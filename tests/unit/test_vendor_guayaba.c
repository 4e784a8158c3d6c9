/* test_vendor_guayaba.c -- Guayaba's handlers called directly with a request struct: the
 * status and campaign lists, a contact created, upserted by its phone number and refused, and
 * the vendor's error body for each refusal. */
#include "vendor_world.h"

#include "vendors/guayaba/guayaba.h"

#define Q1           "550e8400-e29b-41d4-a716-446655440000" /* demo's "Q1 Outreach" */
#define APPOINTMENTS "eeb4119e-a231-5a8e-b828-22509fd1135f" /* needs customVariables.email */

static json_t *run(struct world *w, route_fn *handler, const char *method, const char *query,
                   const char *json, int *rc, int *status)
{
    struct call c = {&vendor_guayaba,     handler,        method,
                     .path = "/contacts", .query = query, .json = json};
    struct res res;
    json_t *body;

    *rc = world_call(w, &c, &res, &body);
    *status = res.status;
    res_clear(&res);
    return body;
}

static void test_lists(void **state)
{
    int rc, status;
    json_t *body = run(*state, guayaba_statuses_list, NULL, NULL, NULL, &rc, &status);

    assert_int_equal(status, 200);
    assert_int_equal(json_array_size(body), 9); /* a bare array, in display order */
    assert_string_equal(world_text(json_array_get(body, 0), "name"), "active");
    json_decref(body);
    body = run(*state, guayaba_campaigns_list, NULL, NULL, NULL, &rc, &status);
    assert_int_equal(status, 200);
    assert_true(json_array_size(json_object_get(body, "data")) >= 4);
    json_decref(body);
}

static void test_create_then_upsert(void **state)
{
    int rc, status;
    json_t *body = run(*state, guayaba_contacts_create, "POST", NULL,
                       "{\"phoneNumber\": \"+15550001111\", \"campaignId\": \"" Q1 "\","
                       " \"name\": \"Ana\"}",
                       &rc, &status);
    char id[64];

    assert_int_equal(rc, EMU_OK);
    assert_int_equal(status, 201);
    assert_string_equal(world_text(body, "data.name"), "Ana");
    assert_string_equal(world_text(body, "data.status"), "active");
    snprintf(id, sizeof(id), "%s", world_text(body, "data.id"));
    json_decref(body);
    body = run(*state, guayaba_contacts_create, "POST", NULL,
               "{\"phoneNumber\": \"+15550001111\", \"campaignId\": \"" Q1 "\","
               " \"name\": \"Ana B\"}",
               &rc, &status);
    assert_int_equal(status, 200); /* the same phone: the same contact, updated */
    assert_string_equal(world_text(body, "data.id"), id);
    assert_string_equal(world_text(body, "data.name"), "Ana B");
    json_decref(body);
    body =
        run(*state, guayaba_contacts_list, NULL, "phoneNumber=%2B15550001111", NULL, &rc, &status);
    assert_int_equal(status, 200);
    json_decref(body);
}

static void test_create_refusals(void **state)
{
    int rc, status;
    json_t *body = run(*state, guayaba_contacts_create, "POST", NULL,
                       "{\"campaignId\": \"" Q1 "\"}", &rc, &status);

    assert_int_equal(rc, EMU_BAD_REQUEST);
    assert_int_equal(status, 400);
    assert_string_equal(world_text(body, "error"), "Bad Request");
    json_decref(body);
    body = run(*state, guayaba_contacts_create, "POST", NULL, "{\"phoneNumber\": \"+15550002222\"}",
               &rc, &status);
    assert_string_equal(world_text(body, "message"), "campaignId or splitterId is required");
    json_decref(body);
    body = run(*state, guayaba_contacts_create, "POST", NULL,
               "{\"phoneNumber\": \"+15550002222\", \"campaignId\": \"" APPOINTMENTS "\"}", &rc,
               &status);
    assert_int_equal(status, 400);
    assert_string_equal(world_text(body, "message"),
                        "customVariables.email is required for campaigns with appointment "
                        "scheduling");
    json_decref(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lists, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_create_then_upsert, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_create_refusals, world_setup, world_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
