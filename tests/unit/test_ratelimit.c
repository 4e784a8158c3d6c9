/* test_ratelimit.c -- fixed windows on a given clock: the limit, the reset instant, a fresh
 * window after it, independent keys, and clearing by tenant prefix. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "err.h"
#include "ratelimit.h"

static void test_window_counts_and_resets(void **state)
{
    struct ratelimit *rl;
    struct ratelimit_state st;

    (void)state;
    assert_int_equal(ratelimit_new(&rl), EMU_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ratelimit_hit(rl, "demo/k", 1000 + i, 60000, 3, &st), EMU_OK);
        assert_true(st.allowed);
        assert_int_equal(st.remaining, 2 - i);
    }
    assert_int_equal(ratelimit_hit(rl, "demo/k", 5000, 60000, 3, &st), EMU_OK);
    assert_false(st.allowed);
    assert_int_equal(st.remaining, 0);
    assert_int_equal(st.reset_ms, 61000);
    assert_int_equal(ratelimit_hit(rl, "demo/k", 61000, 60000, 3, &st), EMU_OK);
    assert_true(st.allowed);
    assert_int_equal(st.reset_ms, 121000);
    ratelimit_free(rl);
}

static void test_keys_independent_and_clear_by_prefix(void **state)
{
    struct ratelimit *rl;
    struct ratelimit_state st;

    (void)state;
    assert_int_equal(ratelimit_new(&rl), EMU_OK);
    assert_int_equal(ratelimit_hit(rl, "demo/k", 0, 60000, 1, &st), EMU_OK);
    assert_int_equal(ratelimit_hit(rl, "other/k", 0, 60000, 1, &st), EMU_OK);
    assert_true(st.allowed);
    assert_int_equal(ratelimit_hit(rl, "demo/k", 1, 60000, 1, &st), EMU_OK);
    assert_false(st.allowed);
    ratelimit_clear(rl, "demo/");
    assert_int_equal(ratelimit_hit(rl, "demo/k", 2, 60000, 1, &st), EMU_OK);
    assert_true(st.allowed);
    assert_int_equal(ratelimit_hit(rl, "other/k", 2, 60000, 1, &st), EMU_OK);
    assert_false(st.allowed);
    ratelimit_free(rl);
}

static void test_clock_moved_back_opens_window(void **state)
{
    struct ratelimit *rl;
    struct ratelimit_state st;

    (void)state;
    assert_int_equal(ratelimit_new(&rl), EMU_OK);
    assert_int_equal(ratelimit_hit(rl, "k", 100000, 60000, 1, &st), EMU_OK);
    assert_int_equal(ratelimit_hit(rl, "k", 100, 60000, 1, &st), EMU_OK);
    assert_true(st.allowed);
    ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_counts_and_resets),
        cmocka_unit_test(test_keys_independent_and_clear_by_prefix),
        cmocka_unit_test(test_clock_moved_back_opens_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
