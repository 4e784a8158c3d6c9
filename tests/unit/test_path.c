/* test_path.c -- route patterns: literal segments, "{name}" captures of one non-empty segment,
 * a trailing "*", the trailing slash routing like the path without it, and a capture callback
 * able to refuse the match. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "path.h"

static void test_literals(void **state)
{
    (void)state;
    assert_true(path_match("/v1/users", "/v1/users"));
    assert_true(path_match("/v1/users", "/v1/users/"));
    assert_false(path_match("/v1/users", "/v1/user"));
    assert_false(path_match("/v1/users", "/v1/users/x"));
    assert_false(path_match("/v1/users", "/v1/usersx"));
    assert_false(path_match("/v1/users", "/V1/users")); /* case counts */
    assert_true(path_match("/", "/"));
    assert_false(path_match("/", ""));
}

static void test_routed_length(void **state)
{
    (void)state;
    assert_int_equal(path_routed_length("/a/b/"), 4);
    assert_int_equal(path_routed_length("/a/b"), 4);
    assert_int_equal(path_routed_length("/"), 1); /* the root keeps its slash */
    assert_int_equal(path_routed_length(""), 0);
    assert_int_equal(path_routed_length("/a//"), 3); /* only one slash goes */
}

static void test_captures_and_star(void **state)
{
    (void)state;
    assert_true(path_match("/users/{id}", "/users/42"));
    assert_true(path_match("/users/{id}", "/users/42/"));
    assert_false(path_match("/users/{id}", "/users/")); /* empty segment */
    assert_false(path_match("/users/{id}", "/users"));
    assert_false(path_match("/users/{id}", "/users/4/2")); /* one segment only */
    assert_true(path_match("/a/{x}/b/{y}", "/a/1/b/2"));
    assert_false(path_match("/a/{x}/b/{y}", "/a/1/c/2"));
    assert_true(path_match("/files/*", "/files/a/b/c"));
    assert_true(path_match("/files/*", "/files/x/"));
    assert_false(path_match("/files/*", "/files/")); /* routes as "/files", short of the '/' */
    assert_false(path_match("/files/*", "/other/a"));
    assert_true(path_match("*", "/anything"));
}

struct caps {
    char seen[4][16];
    int n, max;
};

static int capture(const char *seg, size_t len, void *arg)
{
    struct caps *c = arg;

    if (c->n >= c->max || len >= sizeof(c->seen[0]))
        return 0;
    snprintf(c->seen[c->n++], sizeof(c->seen[0]), "%.*s", (int)len, seg);
    return 1;
}

static void test_capture_callback(void **state)
{
    struct caps c = {.max = 4};
    const char *path = "/a/one/b/two/extra";

    (void)state;
    /* only the first len bytes are matched */
    assert_true(path_match_len("/a/{x}/b/{y}", path, 12, capture, &c));
    assert_int_equal(c.n, 2);
    assert_string_equal(c.seen[0], "one");
    assert_string_equal(c.seen[1], "two");
    /* the callback refusing fails the match */
    memset(&c, 0, sizeof(c));
    c.max = 1;
    assert_false(path_match_len("/a/{x}/b/{y}", path, 12, capture, &c));
    memset(&c, 0, sizeof(c));
    c.max = 4;
    assert_false(path_match_len("/a/{x}", "/a/abcdefghijklmnopq", 20, capture, &c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_routed_length),
        cmocka_unit_test(test_captures_and_star),
        cmocka_unit_test(test_capture_callback),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
