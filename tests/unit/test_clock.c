/* test_clock.c -- RFC 3339 parsing and formatting, freezing and advancing, and the seeded
 * id generator being stable and well-formed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "clock.h"
#include "err.h"
#include "rng.h"

static void test_parse_and_format_round_trip(void **state)
{
    int64_t ms;
    char buf[40];

    (void)state;
    assert_int_equal(clock_parse_rfc3339("2026-01-15T10:30:00.250Z", &ms), EMU_OK);
    clock_format_iso_ms(ms, buf, sizeof(buf));
    assert_string_equal(buf, "2026-01-15T10:30:00.250Z");
    clock_format_http(ms, buf, sizeof(buf));
    assert_string_equal(buf, "Thu, 15 Jan 2026 10:30:00 GMT");
    clock_format_iso_offset(ms, buf, sizeof(buf));
    assert_string_equal(buf, "2026-01-15T10:30:00+00:00");
    assert_int_equal(clock_parse_rfc3339("1970-01-01T00:00:00Z", &ms), EMU_OK);
    assert_int_equal(ms, 0);
}

static void test_offsets_and_leap_day(void **state)
{
    int64_t a, b;

    (void)state;
    assert_int_equal(clock_parse_rfc3339("2026-01-01T02:00:00+02:00", &a), EMU_OK);
    assert_int_equal(clock_parse_rfc3339("2026-01-01T00:00:00Z", &b), EMU_OK);
    assert_int_equal(a, b);
    assert_int_equal(clock_parse_rfc3339("2028-02-29T00:00:00Z", &a), EMU_OK);
    assert_int_equal(clock_parse_rfc3339("2028-03-01T00:00:00Z", &b), EMU_OK);
    assert_int_equal(b - a, 86400000);
}

static void test_malformed_instants(void **state)
{
    int64_t ms;

    (void)state;
    assert_int_equal(clock_parse_rfc3339("2026-01-01", &ms), EMU_INVALID);
    assert_int_equal(clock_parse_rfc3339("2026-13-01T00:00:00Z", &ms), EMU_INVALID);
    assert_int_equal(clock_parse_rfc3339("2026-01-01T00:00:00", &ms), EMU_INVALID);
    assert_int_equal(clock_parse_rfc3339("2026-01-01T00:00:00Zjunk", &ms), EMU_INVALID);
    assert_int_equal(clock_parse_rfc3339(NULL, &ms), EMU_INVALID);
}

static void test_freeze_advance_restore(void **state)
{
    struct clock c;

    (void)state;
    assert_int_equal(clock_init(&c, "2026-01-01T00:00:00Z"), EMU_OK);
    assert_true(clock_is_frozen(&c));
    assert_int_equal(clock_now_ms(&c), 1767225600000LL);
    assert_int_equal(clock_advance(&c, 61000), EMU_OK);
    assert_int_equal(clock_now_ms(&c), 1767225661000LL);
    clock_real(&c);
    assert_false(clock_is_frozen(&c));
    assert_true(clock_now_ms(&c) > 1767225600000LL);
    clock_restore_initial(&c);
    assert_int_equal(clock_now_ms(&c), 1767225600000LL);
    clock_destroy(&c);
    assert_int_equal(clock_init(&c, "yesterday"), EMU_INVALID);
}

/* The clock stays within the years its formats can show: an advance past 9999 or backwards is
 * refused and leaves it as it was, whatever the numbers (no signed overflow). */
static void test_advance_bounds(void **state)
{
    struct clock c;
    char buf[40];

    (void)state;
    assert_int_equal(clock_init(&c, "9999-12-31T23:59:59Z"), EMU_OK);
    assert_int_equal(clock_advance(&c, 999), EMU_OK);
    assert_int_equal(clock_now_ms(&c), CLOCK_MAX_MS);
    assert_int_equal(clock_advance(&c, 1), EMU_INVALID);
    assert_int_equal(clock_advance(&c, INT64_MAX), EMU_INVALID);
    assert_int_equal(clock_advance(&c, -1), EMU_INVALID);
    assert_int_equal(clock_advance(&c, INT64_MIN), EMU_INVALID);
    assert_int_equal(clock_now_ms(&c), CLOCK_MAX_MS);
    clock_format_iso_ms(clock_now_ms(&c), buf, sizeof(buf));
    assert_string_equal(buf, "9999-12-31T23:59:59.999Z");
    clock_real(&c); /* running: the offset is bounded the same way */
    assert_int_equal(clock_advance(&c, CLOCK_MAX_MS), EMU_INVALID);
    assert_int_equal(clock_advance(&c, 0), EMU_OK);
    clock_destroy(&c);
    /* --clock takes only instants the clock can show */
    assert_int_equal(clock_init(&c, "1969-12-31T23:59:59Z"), EMU_INVALID);
    assert_int_equal(clock_init(&c, "9999-12-31T23:59:59-01:00"), EMU_INVALID);
}

static void test_uuid_is_v4_and_seeded(void **state)
{
    char a[37], b[37], c[37];

    (void)state;
    rng_uuid(7, 1, a);
    rng_uuid(7, 1, b);
    rng_uuid(8, 1, c);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_int_equal(strlen(a), 36);
    assert_int_equal(a[14], '4');
    assert_true(strchr("89ab", a[19]) != NULL);
    rng_uuid(7, 2, b);
    assert_string_not_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_format_round_trip),
        cmocka_unit_test(test_offsets_and_leap_day),
        cmocka_unit_test(test_malformed_instants),
        cmocka_unit_test(test_freeze_advance_restore),
        cmocka_unit_test(test_advance_bounds),
        cmocka_unit_test(test_uuid_is_v4_and_seeded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
