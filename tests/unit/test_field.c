/* test_field.c -- typed reads tell absent, null, wrong type and usable values apart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "field.h"

static json_t *body(const char *text)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);

    assert_non_null(v);
    return v;
}

static void test_string_states(void **state)
{
    json_t *b = body("{\"a\":\"x\",\"n\":null,\"i\":123,\"o\":{}}");
    const char *s = NULL;

    (void)state;
    assert_int_equal(field_string(b, "a", &s), FIELD_OK);
    assert_string_equal(s, "x");
    assert_int_equal(field_string(b, "missing", &s), FIELD_ABSENT);
    assert_int_equal(field_string(b, "n", &s), FIELD_NULL);
    assert_int_equal(field_string(b, "i", &s), FIELD_WRONG_TYPE);
    assert_int_equal(field_string(b, "o", &s), FIELD_WRONG_TYPE);
    assert_int_equal(field_string(NULL, "a", &s), FIELD_ABSENT);
    json_decref(b);
}

static void test_integer_rules(void **state)
{
    json_t *b = body("{\"i\":12,\"r\":3.0,\"f\":3.5,\"big\":1e16,\"s\":\"-42\",\"x\":\"4x\","
                     "\"long\":\"1234567890123456789\",\"t\":true}");
    json_int_t n = 0;

    (void)state;
    assert_int_equal(field_integer(b, "i", 0, &n), FIELD_OK);
    assert_int_equal(n, 12);
    assert_int_equal(field_integer(b, "r", 0, &n), FIELD_OK);
    assert_int_equal(n, 3);
    assert_int_equal(field_integer(b, "f", 0, &n), FIELD_WRONG_TYPE);
    assert_int_equal(field_integer(b, "big", 0, &n), FIELD_WRONG_TYPE);
    assert_int_equal(field_integer(b, "s", 0, &n), FIELD_WRONG_TYPE);
    assert_int_equal(field_integer(b, "s", FIELD_LENIENT, &n), FIELD_OK);
    assert_int_equal(n, -42);
    assert_int_equal(field_integer(b, "x", FIELD_LENIENT, &n), FIELD_WRONG_TYPE);
    assert_int_equal(field_integer(b, "long", FIELD_LENIENT, &n), FIELD_WRONG_TYPE);
    assert_int_equal(field_integer(b, "t", FIELD_LENIENT, &n), FIELD_WRONG_TYPE);
    json_decref(b);
}

static void test_boolean_rules(void **state)
{
    json_t *b = body("{\"t\":true,\"one\":1,\"s\":\"0\",\"w\":\"yes\",\"f\":\"false\"}");
    int v = -1;

    (void)state;
    assert_int_equal(field_boolean(b, "t", 0, &v), FIELD_OK);
    assert_int_equal(v, 1);
    assert_int_equal(field_boolean(b, "one", 0, &v), FIELD_WRONG_TYPE);
    assert_int_equal(field_boolean(b, "one", FIELD_LENIENT, &v), FIELD_OK);
    assert_int_equal(v, 1);
    assert_int_equal(field_boolean(b, "s", FIELD_LENIENT, &v), FIELD_OK);
    assert_int_equal(v, 0);
    assert_int_equal(field_boolean(b, "w", FIELD_LENIENT, &v), FIELD_WRONG_TYPE);
    assert_int_equal(field_boolean(b, "f", FIELD_LENIENT, &v), FIELD_WRONG_TYPE);
    json_decref(b);
}

static void test_containers_and_empty(void **state)
{
    json_t *b = body("{\"a\":[1],\"o\":{\"k\":1},\"e\":\"\",\"n\":null}"), *out = NULL;
    double d = 0;

    (void)state;
    assert_int_equal(field_array(b, "a", &out), FIELD_OK);
    assert_int_equal(json_array_size(out), 1);
    assert_int_equal(field_array(b, "o", &out), FIELD_WRONG_TYPE);
    assert_int_equal(field_object(b, "o", &out), FIELD_OK);
    assert_int_equal(field_object(b, "n", &out), FIELD_NULL);
    assert_true(field_is_empty(json_object_get(b, "e")));
    assert_true(field_is_empty(json_object_get(b, "n")));
    assert_true(field_is_empty(NULL));
    assert_false(field_is_empty(json_object_get(b, "a")));
    assert_int_equal(field_number(b, "a", FIELD_LENIENT, &d), FIELD_WRONG_TYPE);
    json_decref(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string_states),
        cmocka_unit_test(test_integer_rules),
        cmocka_unit_test(test_boolean_rules),
        cmocka_unit_test(test_containers_and_empty),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
