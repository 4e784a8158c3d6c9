/* test_rng.c -- the seeded generator: values pinned (ids on disk depend on them), distinct
 * inputs giving distinct values, and UUIDs of version 4, variant 10, lowercase. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "rng.h"

static void test_values_are_pinned(void **state)
{
    char buf[37];

    (void)state;
    assert_true(rng_draw(0, 0) == 0x48218226ff3cd4bfULL);
    assert_true(rng_draw(42, 7) == 0x3818951cbe0355ffULL);
    rng_uuid(42, 7, buf);
    assert_string_equal(buf, "1bd71f79-7993-4b7b-88bf-539e1f29c6eb");
}

static void test_inputs_are_not_confused(void **state)
{
    (void)state;
    assert_true(rng_draw(1, 2) != rng_draw(2, 1));
    assert_true(rng_draw(0, 1) != rng_draw(1, 0));
    assert_true(rng_draw(7, 0) != rng_draw(7, 1));
    assert_true(rng_draw(7, 5) == rng_draw(7, 5));
}

static void test_uuid_shape(void **state)
{
    char buf[37], prev[37] = "";

    (void)state;
    for (uint64_t n = 0; n < 200; n++) {
        memset(buf, 'Z', sizeof(buf));
        rng_uuid(99, n, buf);
        assert_int_equal(strlen(buf), 36);
        for (int i = 0; i < 36; i++) {
            if (i == 8 || i == 13 || i == 18 || i == 23)
                assert_int_equal(buf[i], '-');
            else
                assert_non_null(strchr("0123456789abcdef", buf[i]));
        }
        assert_int_equal(buf[14], '4');
        assert_non_null(strchr("89ab", buf[19]));
        assert_string_not_equal(buf, prev);
        memcpy(prev, buf, sizeof(buf));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_are_pinned),
        cmocka_unit_test(test_inputs_are_not_confused),
        cmocka_unit_test(test_uuid_shape),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
