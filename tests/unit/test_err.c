/* test_err.c -- the error list: every code has a name, a sentence and an HTTP status, codes
 * are distinct, unknown codes fall back safely, and the reason phrases are the standard ones
 * (not civetweb's misspelt table). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "err.h"

static const int codes[] = {
#define X(name, code, http, text) code,
    EMU_ERR_MAP(X)
#undef X
};
#define N_CODES (sizeof(codes) / sizeof(codes[0]))

static void test_every_code_is_described(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_CODES; i++) {
        assert_string_not_equal(emu_errname(codes[i]), "UNKNOWN");
        assert_string_not_equal(emu_strerror(codes[i]), "unknown error");
        assert_true(emu_http_status(codes[i]) >= 200 && emu_http_status(codes[i]) <= 599);
        for (size_t j = i + 1; j < N_CODES; j++)
            assert_int_not_equal(codes[i], codes[j]);
    }
}

static void test_known_codes(void **state)
{
    (void)state;
    assert_int_equal(EMU_OK, 0);
    assert_string_equal(emu_errname(EMU_NOT_FOUND), "NOT_FOUND");
    assert_int_equal(emu_http_status(EMU_NOT_FOUND), 404);
    assert_int_equal(emu_http_status(EMU_UNPROCESSABLE), 422);
    assert_int_equal(emu_http_status(EMU_RATE_LIMITED), 429);
    assert_int_equal(emu_http_status(EMU_STORE_FULL), 507);
    assert_int_equal(emu_http_status(EMU_OK), 200);
    assert_string_equal(emu_strerror(EMU_BAD_JSON), "request body is not valid JSON");
}

static void test_unknown_codes(void **state)
{
    (void)state;
    assert_string_equal(emu_errname(-999), "UNKNOWN");
    assert_string_equal(emu_errname(1), "UNKNOWN");
    assert_string_equal(emu_strerror(-999), "unknown error");
    assert_int_equal(emu_http_status(-999), 500);
}

static void test_reason_phrases(void **state)
{
    (void)state;
    assert_string_equal(emu_reason_phrase(200), "OK");
    assert_string_equal(emu_reason_phrase(201), "Created");
    assert_string_equal(emu_reason_phrase(204), "No Content");
    assert_string_equal(emu_reason_phrase(404), "Not Found");
    assert_string_equal(emu_reason_phrase(413), "Payload Too Large");
    assert_string_equal(emu_reason_phrase(418), "I'm a Teapot");
    assert_string_equal(emu_reason_phrase(422), "Unprocessable Entity");
    assert_string_equal(emu_reason_phrase(429), "Too Many Requests");
    assert_string_equal(emu_reason_phrase(507), "Insufficient Storage");
    assert_string_equal(emu_reason_phrase(511), "Network Authentication Required");
    assert_string_equal(emu_reason_phrase(299), "Unknown");
    assert_string_equal(emu_reason_phrase(0), "Unknown");
    assert_string_equal(emu_reason_phrase(-1), "Unknown");
    /* every status an error code means has a phrase */
    for (size_t i = 0; i < N_CODES; i++)
        assert_string_not_equal(emu_reason_phrase(emu_http_status(codes[i])), "Unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_is_described),
        cmocka_unit_test(test_known_codes),
        cmocka_unit_test(test_unknown_codes),
        cmocka_unit_test(test_reason_phrases),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
