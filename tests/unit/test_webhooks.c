/* test_webhooks.c -- which webhook URLs a tenant may set, and the HMAC signature. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "webhooks.h"

static void test_urls(void **state)
{
    static const char *const good[] = {"http://example.com",
                                       "https://example.com/hook?x=1#f",
                                       "HTTPS://EXAMPLE.COM/",
                                       "http://127.0.0.1:8080/h",
                                       "http://[::1]:9/h",
                                       "http://[::1]",
                                       "http://user:pw@example.com/",
                                       "http://a:65535"};
    static const char *const bad[] = {"",
                                      "example.com/hook",
                                      "ftp://example.com/",
                                      "javascript:alert(1)",
                                      "http://",
                                      "http:///x",
                                      "https://:80/",
                                      "http://a b/",
                                      "http://a/\r\nX: y",
                                      "http://a/\tb",
                                      "http://a/\x7f",
                                      "http://a:0/",
                                      "http://a:65536/",
                                      "http://a:123456/",
                                      "http://a:8x/",
                                      "http://a:/",
                                      "http://[::1/",
                                      "http://[]/",
                                      "http://[::1]x/",
                                      "file:///etc/passwd"};

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(webhooks_url_valid(good[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(webhooks_url_valid(bad[i]));
    assert_false(webhooks_url_valid(NULL));
}

static void test_signature(void **state)
{
    char sig[65];

    (void)state;
    /* RFC 4231 test case 2 */
    webhooks_sign("Jefe", "what do ya want for nothing?", 28, sig);
    assert_string_equal(sig, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_signature),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
