/* test_scenario.c -- scenario checks of respond.headers (tokens for names, no control
 * characters in values, with the position of the problem), and activation per tenant. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <jansson.h>

#include "err.h"
#include "scenario.h"
#include "vendor_list.h"

/* Checks text as a scenario; err gets the sentence. */
static int check(const char *text, char *err, size_t errlen)
{
    json_t *doc = json_loads(text, 0, NULL);
    int rc;

    assert_non_null(doc);
    err[0] = '\0';
    rc = scenario_check("t.json", text, strlen(text), doc, err, errlen);
    json_decref(doc);
    return rc;
}

static void test_header_names_must_be_tokens(void **state)
{
    char err[600];

    (void)state;
    assert_int_equal(
        check("{\"name\":\"ok\",\"rules\":[{\"respond\":{\"status\":503,"
              "\"headers\":{\"Retry-After\":\"5\",\"X-A!#$%&'*+.^_`|~\":\"a\\tb\"}}}]}",
              err, sizeof(err)),
        EMU_OK);
    assert_int_equal(check("{\"name\":\"bad\",\"rules\":[{\"respond\":{\"status\":503,\n"
                           "\"headers\":{\"X-Fine\":\"1\",\n\"Bad Name\":\"2\"}}}]}",
                           err, sizeof(err)),
                     EMU_INVALID);
    assert_non_null(strstr(err, "t.json:3:"));
    assert_non_null(strstr(err, "token"));
    assert_int_equal(
        check("{\"name\":\"bad\",\"rules\":[{\"respond\":{\"headers\":{\"\":\"2\"}}}]}", err,
              sizeof(err)),
        EMU_INVALID);
    assert_int_equal(
        check("{\"name\":\"bad\",\"rules\":[{\"respond\":{\"headers\":{\"X:\":\"2\"}}}]}", err,
              sizeof(err)),
        EMU_INVALID);
}

static void test_header_values_hold_no_control_characters(void **state)
{
    static const char *const values[] = {
        "a\\r\\nSet-Cookie: x=1", "a\\nb", "a\\rb", "a\\u0001b", "a\\u007fb", "a\\u001bb"};
    char err[600], text[300];

    (void)state;
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        snprintf(text, sizeof(text),
                 "{\"name\":\"bad\",\"rules\":[{\"respond\":{\"headers\":{\"X-A\":\"%s\"}}}]}",
                 values[i]);
        assert_int_equal(check(text, err, sizeof(err)), EMU_INVALID);
        assert_non_null(strstr(err, "control characters"));
    }
    /* the rule of match.headers is a comparison only: it is not sent, and is not checked so */
    assert_int_equal(check("{\"name\":\"ok\",\"rules\":[{\"match\":{\"headers\":{\"X-A\":\"b\"}},"
                           "\"respond\":{\"status\":418}}]}",
                           err, sizeof(err)),
                     EMU_OK);
}

/* Activating the same scenario again for the same tenant adds nothing (and, run under ASan,
 * leaks nothing). */
static void test_activation_per_tenant(void **state)
{
    struct scenarios *s;
    json_t *doc =
               json_loads("{\"name\":\"x\",\"rules\":[{\"respond\":{\"status\":418}}]}", 0, NULL),
           *out;

    (void)state;
    assert_int_equal(scenarios_new(&s, 1), EMU_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(scenarios_put(s, "x", doc, "demo"), EMU_OK);
        assert_int_equal(scenarios_put(s, "x", doc, "other"), EMU_OK);
        assert_int_equal(scenarios_put(s, "x", doc, NULL), EMU_OK);
    }
    assert_int_equal(scenarios_describe(s, "x", &out), EMU_OK);
    assert_int_equal(json_array_size(json_object_get(
                         json_array_get(json_object_get(out, "scenarios"), 0), "active_for")),
                     3);
    json_decref(out);
    assert_int_equal(scenarios_deactivate(s, "x", "demo"), EMU_OK);
    assert_int_equal(scenarios_deactivate(s, "x", "demo"), EMU_NOT_FOUND);
    scenarios_free(s);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_names_must_be_tokens),
        cmocka_unit_test(test_header_values_hold_no_control_characters),
        cmocka_unit_test(test_activation_per_tenant),
    };

    vendor_list_register(); /* as main does: the vendors the core serves */

    return cmocka_run_group_tests(tests, NULL, NULL);
}
