/* test_config.c -- defaults, flags, UNDERSTUDY_* variables, flags winning, and bad values. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"

static int clean_env(void **state)
{
    (void)state;
    unsetenv("UNDERSTUDY_LISTEN");
    unsetenv("UNDERSTUDY_SEED");
    unsetenv("UNDERSTUDY_RESET");
    unsetenv("UNDERSTUDY_WEBHOOK_RETRY_MS");
    return 0;
}

static void test_defaults(void **state)
{
    struct config c;
    char err[200];

    (void)state;
    assert_int_equal(config_parse(&c, 0, NULL, err, sizeof(err)), EMU_OK);
    assert_string_equal(c.listen, "127.0.0.1:8080");
    assert_null(c.data_dir);
    assert_string_equal(c.clock, "real");
    assert_int_equal(c.max_body, 1048576);
    assert_true(c.threads >= 64);
    assert_int_equal(c.webhook_pauses_ms[0], 1000);
    assert_int_equal(c.webhook_pauses_ms[1], 2000);
}

static void test_flags_both_spellings(void **state)
{
    char *argv[] = {"--listen", "0.0.0.0:9000", "--seed=42", "--reset", "--data-dir", "/tmp/x"};
    struct config c;
    char err[200], host[64];
    unsigned port;

    (void)state;
    assert_int_equal(config_parse(&c, 6, argv, err, sizeof(err)), EMU_OK);
    assert_int_equal(c.seed, 42);
    assert_int_equal(c.reset, 1);
    assert_string_equal(c.data_dir, "/tmp/x");
    assert_int_equal(config_listen_split(&c, host, sizeof(host), &port), EMU_OK);
    assert_string_equal(host, "0.0.0.0");
    assert_int_equal(port, 9000);
}

static void test_environment_and_flags_win(void **state)
{
    char *argv[] = {"--seed", "5"};
    struct config c;
    char err[200];

    (void)state;
    setenv("UNDERSTUDY_SEED", "9", 1);
    setenv("UNDERSTUDY_LISTEN", "127.0.0.1:7000", 1);
    assert_int_equal(config_parse(&c, 0, NULL, err, sizeof(err)), EMU_OK);
    assert_int_equal(c.seed, 9);
    assert_string_equal(c.listen, "127.0.0.1:7000");
    assert_int_equal(config_parse(&c, 2, argv, err, sizeof(err)), EMU_OK);
    assert_int_equal(c.seed, 5);
}

static void test_bad_values_are_refused(void **state)
{
    char *unknown[] = {"--nope"};
    char *port[] = {"--listen", "localhost"};
    char *seed[] = {"--seed", "-1"};
    char *log[] = {"--log", "xml"};
    char *missing[] = {"--data-dir"};
    char *threads[] = {"--threads", "0"};
    struct config c;
    char err[200];

    (void)state;
    assert_int_equal(config_parse(&c, 1, unknown, err, sizeof(err)), EMU_INVALID);
    assert_non_null(strstr(err, "--nope"));
    assert_int_equal(config_parse(&c, 2, port, err, sizeof(err)), EMU_INVALID);
    assert_int_equal(config_parse(&c, 2, seed, err, sizeof(err)), EMU_INVALID);
    assert_int_equal(config_parse(&c, 2, log, err, sizeof(err)), EMU_INVALID);
    assert_non_null(strstr(err, "--log"));
    assert_int_equal(config_parse(&c, 1, missing, err, sizeof(err)), EMU_INVALID);
    assert_int_equal(config_parse(&c, 2, threads, err, sizeof(err)), EMU_INVALID);
    setenv("UNDERSTUDY_RESET", "maybe", 1);
    assert_int_equal(config_parse(&c, 0, NULL, err, sizeof(err)), EMU_INVALID);
    assert_non_null(strstr(err, "UNDERSTUDY_RESET"));
}

/* The test-only retry schedule: a variable with no flag. */
static void test_webhook_pauses(void **state)
{
    static const char *const bad[] = {
        "",       "50",   "50,",     ",100",      "50,100,",
        "50;100", "-1,5", "50, 100", "3600001,1", "99999999999999999999,1"};
    struct config c;
    char err[200];

    (void)state;
    setenv("UNDERSTUDY_WEBHOOK_RETRY_MS", "50,100", 1);
    assert_int_equal(config_parse(&c, 0, NULL, err, sizeof(err)), EMU_OK);
    assert_int_equal(c.webhook_pauses_ms[0], 50);
    assert_int_equal(c.webhook_pauses_ms[1], 100);
    setenv("UNDERSTUDY_WEBHOOK_RETRY_MS", "0,3600000", 1);
    assert_int_equal(config_parse(&c, 0, NULL, err, sizeof(err)), EMU_OK);
    assert_int_equal(c.webhook_pauses_ms[0], 0);
    assert_int_equal(c.webhook_pauses_ms[1], 3600000);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        setenv("UNDERSTUDY_WEBHOOK_RETRY_MS", bad[i], 1);
        assert_int_equal(config_parse(&c, 0, NULL, err, sizeof(err)), EMU_INVALID);
        assert_non_null(strstr(err, "UNDERSTUDY_WEBHOOK_RETRY_MS"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, clean_env),
        cmocka_unit_test_setup(test_flags_both_spellings, clean_env),
        cmocka_unit_test_setup(test_environment_and_flags_win, clean_env),
        cmocka_unit_test_setup(test_bad_values_are_refused, clean_env),
        cmocka_unit_test_setup(test_webhook_pauses, clean_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
