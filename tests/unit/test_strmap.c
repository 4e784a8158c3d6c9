/* test_strmap.c -- the string map under metrics and rate limits: find, add, walk, remove by
 * prefix, many keys in few buckets, and values aligned for any type. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "strmap.h"

static void test_find_or_add(void **state)
{
    struct strmap *m = strmap_new(8, sizeof(long));
    long *v, *again;
    int added;

    (void)state;
    assert_non_null(m);
    assert_null(strmap_find(m, "a"));
    v = strmap_find_or_add(m, "a", &added);
    assert_non_null(v);
    assert_int_equal(added, 1);
    assert_int_equal(*v, 0); /* zero-filled */
    *v = 42;
    again = strmap_find_or_add(m, "a", &added);
    assert_ptr_equal(again, v);
    assert_int_equal(added, 0);
    assert_int_equal(*(long *)strmap_find(m, "a"), 42);
    assert_null(strmap_find(m, "ab"));
    assert_null(strmap_find(m, ""));
    strmap_free(m);
}

static void count(const char *key, void *value, void *ctx)
{
    (void)key;
    *(long *)ctx += *(long *)value;
}

/* One bucket: every key in one chain, so removal in the middle of a chain is exercised. */
static void test_chain_and_prefix_removal(void **state)
{
    struct strmap *m = strmap_new(1, sizeof(long));
    char key[32];
    long total = 0;
    int added;

    (void)state;
    for (long i = 0; i < 200; i++) {
        snprintf(key, sizeof(key), "%s/%ld", i % 2 ? "odd" : "even", i);
        *(long *)strmap_find_or_add(m, key, &added) = 1;
    }
    strmap_each(m, count, &total);
    assert_int_equal(total, 200);
    strmap_remove_prefix(m, "odd/");
    total = 0;
    strmap_each(m, count, &total);
    assert_int_equal(total, 100);
    assert_null(strmap_find(m, "odd/1"));
    assert_non_null(strmap_find(m, "even/198"));
    strmap_remove_prefix(m, "");
    total = 0;
    strmap_each(m, count, &total);
    assert_int_equal(total, 0);
    strmap_free(m);
}

static void test_values_aligned(void **state)
{
    struct strmap *m = strmap_new(4, 3); /* an odd size: the key follows the value */
    int added;

    (void)state;
    for (int i = 0; i < 20; i++) {
        char key[8];
        unsigned char *v;

        snprintf(key, sizeof(key), "k%d", i);
        v = strmap_find_or_add(m, key, &added);
        assert_int_equal((uintptr_t)v % _Alignof(max_align_t), 0);
        memcpy(v, "xyz", 3); /* fills the value without touching the key */
        assert_non_null(strmap_find(m, key));
    }
    strmap_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_or_add),
        cmocka_unit_test(test_chain_and_prefix_removal),
        cmocka_unit_test(test_values_aligned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
