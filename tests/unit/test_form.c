/* test_form.c -- form fields: media type comparison, the text check, plain parsing (last
 * repeated name wins, empty names dropped, a field without '=' is ""), form_find taking the
 * first match whole, and form_php_lists making arrays of non-empty "0", "1", ... objects only.
 * (URL-decoding and PHP names are in test_req.) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "form.h"

static void test_media_is(void **state)
{
    (void)state;
    assert_true(form_media_is("application/json", "application/json"));
    assert_true(form_media_is("Application/JSON; charset=utf-8", "application/json"));
    assert_true(form_media_is("  application/json ;x=y", "application/json"));
    assert_false(form_media_is("application/jsonx", "application/json"));
    assert_false(form_media_is("application/js", "application/json"));
    assert_false(form_media_is("", "application/json"));
    assert_false(form_media_is(NULL, "application/json"));
}

static void test_text_ok(void **state)
{
    (void)state;
    assert_true(form_text_ok("", 0));
    assert_true(form_text_ok("h\xc3\xa9", 3));
    assert_true(form_text_ok("\xf0\x9f\x98\x80", 4));
    assert_false(form_text_ok("a\0b", 3));
    assert_false(form_text_ok("\xc3", 1)); /* cut short */
    assert_false(form_text_ok("\xff", 1));
    assert_false(form_text_ok("\xed\xa0\x80", 3)); /* a surrogate */
}

static void expect_parse(const char *text, const char *want)
{
    json_t *got = NULL, *exp = json_loads(want, 0, NULL);

    assert_non_null(exp);
    assert_int_equal(form_parse(text, strlen(text), 0, &got), EMU_OK);
    assert_true(json_equal(got, exp));
    json_decref(got);
    json_decref(exp);
}

static void test_plain_parse(void **state)
{
    json_t *got = (json_t *)1;

    (void)state;
    expect_parse("", "{}");
    expect_parse("a=1&b=2", "{\"a\":\"1\",\"b\":\"2\"}");
    expect_parse("a=1&a=2", "{\"a\":\"2\"}");
    expect_parse("flag&=x&&b=", "{\"flag\":\"\",\"b\":\"\"}");
    expect_parse("a[b]=1&a%5Bb%5D=2", "{\"a[b]\":\"2\"}"); /* brackets are literal */
    expect_parse("k=a%3Db%26c+d", "{\"k\":\"a=b&c d\"}");
    assert_int_equal(form_parse("a=%FF", 5, 0, &got), EMU_BAD_REQUEST);
    assert_null(got);
    assert_int_equal(form_parse("%00=1", 5, 0, &got), EMU_BAD_REQUEST);
    assert_null(got);
}

static void test_find(void **state)
{
    const char *text = "x=1&name=first&na%6De=second&big=a+b%2Bc";
    char *out = (char *)1;

    (void)state;
    assert_int_equal(form_find(text, strlen(text), "name", &out), EMU_OK);
    assert_string_equal(out, "first");
    free(out);
    assert_int_equal(form_find(text, strlen(text), "big", &out), EMU_OK);
    assert_string_equal(out, "a b+c");
    free(out);
    assert_int_equal(form_find(text, strlen(text), "nam", &out), EMU_NOT_FOUND);
    assert_null(out);
    /* only len bytes count */
    assert_int_equal(form_find(text, 3, "name", &out), EMU_NOT_FOUND);
    assert_null(out);
    assert_int_equal(form_find("v=%C3", 5, "v", &out), EMU_BAD_REQUEST);
    assert_null(out);
}

static void test_php_lists(void **state)
{
    json_t *f = json_loads("{\"0\":\"top\",\"a\":{\"0\":\"x\",\"1\":{\"0\":\"y\"}},"
                           "\"b\":{\"1\":\"x\"},\"c\":{\"0\":\"x\",\"2\":\"y\"},\"d\":{}}",
                           0, NULL);
    json_t *want = json_loads("{\"0\":\"top\",\"a\":[\"x\",[\"y\"]],\"b\":{\"1\":\"x\"},"
                              "\"c\":{\"0\":\"x\",\"2\":\"y\"},\"d\":{}}",
                              0, NULL);

    (void)state;
    assert_non_null(f);
    assert_int_equal(form_php_lists(f), EMU_OK);
    assert_true(json_equal(f, want));
    json_decref(want);
    json_decref(f);
}

static void test_add_plain_and_php(void **state)
{
    json_t *f = json_object();

    (void)state;
    assert_int_equal(form_add(f, "a.b", 3, json_string("1"), 0), EMU_OK);
    assert_int_equal(form_add(f, "", 0, json_string("2"), 0), EMU_OK); /* dropped */
    assert_int_equal(form_add(f, "c d[x]", 6, json_string("3"), FORM_PHP), EMU_OK);
    assert_int_equal(json_object_size(f), 2);
    assert_string_equal(json_string_value(json_object_get(f, "a.b")), "1");
    assert_string_equal(json_string_value(json_object_get(json_object_get(f, "c_d"), "x")), "3");
    json_decref(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_media_is),    cmocka_unit_test(test_text_ok),
        cmocka_unit_test(test_plain_parse), cmocka_unit_test(test_find),
        cmocka_unit_test(test_php_lists),   cmocka_unit_test(test_add_plain_and_php),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
