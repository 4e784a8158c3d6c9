/* test_jsonx.c -- value positions in JSON text (what fixture errors report), order-keeping
 * dumps, and UUID shape checks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "jsonx.h"

static const char doc[] = "{\n"
                          "  \"demo\": [\n"
                          "    {\"id\": \"a\", \"s\": \"x,]}\"},\n"
                          "    {\"id\": \"b\",\n"
                          "     \"phone\": 12}\n"
                          "  ]\n"
                          "}\n";

static void test_locate_nested_member(void **state)
{
    struct jsonx_step path[] = {{"demo", 0}, {NULL, 1}, {"phone", 0}};
    int line, col;

    (void)state;
    jsonx_locate(doc, strlen(doc), path, 3, &line, &col);
    assert_int_equal(line, 5);
    assert_int_equal(col, 15);
    jsonx_locate(doc, strlen(doc), path, 2, &line, &col);
    assert_int_equal(line, 4);
    assert_int_equal(col, 5);
}

static void test_locate_stops_at_deepest_found(void **state)
{
    struct jsonx_step path[] = {{"demo", 0}, {NULL, 7}};
    int line, col;

    (void)state;
    jsonx_locate(doc, strlen(doc), path, 2, &line, &col);
    assert_int_equal(line, 2);
    assert_int_equal(col, 11);
}

static void test_dump_keeps_insertion_order(void **state)
{
    json_t *v = json_pack("{s:i,s:i,s:n}", "z", 1, "a", 2, "m");
    size_t len;
    char *text = jsonx_dump(v, &len);

    (void)state;
    assert_string_equal(text, "{\"z\":1,\"a\":2,\"m\":null}");
    assert_int_equal(len, strlen(text));
    free(text);
    json_decref(v);
}

static void test_uuid_shape(void **state)
{
    (void)state;
    assert_true(jsonx_is_uuid("d290f1ee-6c54-4b01-90e6-d701748f0851"));
    assert_true(jsonx_is_uuid("A1B2C3D4-E5F6-7890-ABCD-EF1234567890"));
    assert_false(jsonx_is_uuid("d290f1ee6c544b0190e6d701748f0851"));
    assert_false(jsonx_is_uuid("d290f1ee-6c54-4b01-90e6-d701748f085g"));
    assert_false(jsonx_is_uuid(NULL));
}

static void test_depth_is_measured_outside_strings(void **state)
{
    char deep[200];

    (void)state;
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    assert_true(jsonx_too_deep(deep, sizeof(deep), 64));
    assert_false(jsonx_too_deep(deep, sizeof(deep), 100));
    assert_false(jsonx_too_deep("{\"a\": \"[[[[[[\\\"[[[\"}", 20, 2));
    assert_true(jsonx_too_deep("{\"a\": [{\"b\": []}]}", 18, 3));
}

static void test_utf8(void **state)
{
    char text[] = "ok \xc3\xa9 \xff bad \xc0\xaf overlong \xed\xa0\x80 surrogate \xe2\x82";

    (void)state;
    assert_int_equal(jsonx_utf8_char((const unsigned char *)"\xc3\xa9", 2), 2);
    assert_int_equal(jsonx_utf8_char((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4);
    assert_int_equal(jsonx_utf8_char((const unsigned char *)"\xf0\x9f\x98", 3), 0);
    assert_true(jsonx_utf8_valid("plain \xe2\x82\xac", 9));
    assert_false(jsonx_utf8_valid(text, strlen(text)));
    jsonx_utf8_repair(text);
    assert_true(jsonx_utf8_valid(text, strlen(text)));
    assert_string_equal(text, "ok \xc3\xa9 ? bad ?? overlong ??? surrogate ??");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_locate_nested_member),
        cmocka_unit_test(test_locate_stops_at_deepest_found),
        cmocka_unit_test(test_dump_keeps_insertion_order),
        cmocka_unit_test(test_uuid_shape),
        cmocka_unit_test(test_depth_is_measured_outside_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
