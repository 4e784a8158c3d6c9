/* test_http_client.c -- the outbound client against a one-shot server on 127.0.0.1 started by
 * the test: the request as sent (request line, Host, Content-Length, header lines, body bytes),
 * the answer read back (status, headers, a body with NUL bytes, no body), URLs refused, nothing
 * listening, a server that never answers, and the probe. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "http_client.h"

/* A server for one connection: reads the request (head and Content-Length bytes), keeps it in
 * got, and writes reply (NULL: answers nothing, waits for the client to hang up). */
struct server {
    int fd, port;
    const char *reply;
    size_t reply_len;
    char got[8192];
    size_t got_len;
    pthread_t thread;
};

static void *serve(void *arg)
{
    struct server *s = arg;
    int c = accept(s->fd, NULL, NULL);
    char *end = NULL;
    ssize_t n;

    if (c < 0)
        return NULL;
    while (s->got_len < sizeof(s->got) - 1) {
        const char *cl;
        size_t want;

        n = read(c, s->got + s->got_len, sizeof(s->got) - 1 - s->got_len);
        if (n <= 0)
            break;
        s->got_len += (size_t)n;
        s->got[s->got_len] = '\0';
        end = strstr(s->got, "\r\n\r\n");
        if (end == NULL)
            continue;
        cl = strstr(s->got, "Content-Length: ");
        want = (size_t)(end + 4 - s->got) + (cl ? strtoul(cl + 16, NULL, 10) : 0);
        if (s->got_len >= want)
            break;
    }
    if (s->reply != NULL) {
        if (write(c, s->reply, s->reply_len) < 0)
            s->reply = NULL;
    } else {
        char buf[64];

        while (read(c, buf, sizeof(buf)) > 0) /* until the client gives up */
            ;
    }
    close(c);
    return NULL;
}

static void server_start(struct server *s, const char *reply, size_t reply_len)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);

    memset(s, 0, sizeof(*s));
    s->reply = reply;
    s->reply_len = reply_len;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->fd >= 0);
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->fd, 1), 0);
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(struct server *s)
{
    assert_int_equal(pthread_join(s->thread, NULL), 0);
    close(s->fd);
}

static void test_request_and_answer(void **state)
{
    static const char reply[] = "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                                "X-Trace: t-1\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"
                                "a\0b\nc";
    const char *lines[] = {"X-Key: k1", "Content-Type: application/json"};
    struct server s;
    struct http_answer a;
    char url[128], err[256] = "", want[64];

    (void)state;
    server_start(&s, reply, sizeof(reply) - 1);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/hooks/in?x=1&y=2", s.port);
    assert_int_equal(
        http_client_request(url, "POST", lines, 2, "{\"n\":\0}", 7, 5000, &a, err, sizeof(err)),
        EMU_OK);
    server_stop(&s);
    /* what was sent */
    assert_non_null(strstr(s.got, "POST /hooks/in?x=1&y=2 HTTP/1.1\r\n"));
    snprintf(want, sizeof(want), "Host: 127.0.0.1:%d\r\n", s.port);
    assert_non_null(strstr(s.got, want));
    assert_non_null(strstr(s.got, "Content-Length: 7\r\n"));
    assert_non_null(strstr(s.got, "\r\nX-Key: k1\r\nContent-Type: application/json\r\n\r\n"));
    assert_int_equal(s.got_len, (size_t)(strstr(s.got, "\r\n\r\n") + 4 - s.got) + 7);
    assert_memory_equal(s.got + s.got_len - 7, "{\"n\":\0}", 7);
    /* what came back */
    assert_int_equal(a.status, 201);
    assert_string_equal(json_string_value(json_object_get(a.headers, "X-Trace")), "t-1");
    assert_string_equal(json_string_value(json_object_get(a.headers, "Content-Type")),
                        "application/json");
    assert_int_equal(a.body_len, 5);
    assert_memory_equal(a.body, "a\0b\nc", 6); /* NUL-terminated too */
    http_answer_clear(&a);
    assert_null(a.body);
    assert_null(a.headers);
}

static void test_empty_body_and_default_path(void **state)
{
    static const char reply[] = "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
    struct server s;
    struct http_answer a;
    char url[64], err[256];

    (void)state;
    server_start(&s, reply, sizeof(reply) - 1);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", s.port);
    assert_int_equal(http_client_request(url, "GET", NULL, 0, NULL, 0, 5000, &a, err, sizeof(err)),
                     EMU_OK);
    server_stop(&s);
    assert_non_null(strstr(s.got, "GET / HTTP/1.1\r\n")); /* no path: "/" */
    assert_non_null(strstr(s.got, "Content-Length: 0\r\n"));
    assert_int_equal(a.status, 204);
    assert_int_equal(a.body_len, 0);
    assert_string_equal(a.body, "");
    http_answer_clear(&a);
}

static void test_refused_urls(void **state)
{
    static const char *const bad[] = {
        "https://127.0.0.1/x", "ftp://h/",      "http:///x", "http://h:0/",
        "http://h:70000/",     "127.0.0.1:80/", ""};
    struct http_answer a;
    char err[256];
    int status = -1;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(
            http_client_request(bad[i], "GET", NULL, 0, NULL, 0, 1000, &a, err, sizeof(err)),
            EMU_INVALID);
        assert_non_null(strstr(err, "only http://HOST[:PORT]/PATH URLs are taken"));
        assert_null(a.body);
        assert_null(a.headers);
    }
    assert_int_equal(http_client_probe("https://127.0.0.1:1", "/", &status), EMU_INVALID);
    assert_int_equal(http_client_probe("http://:80", "/", &status), EMU_INVALID);
    assert_int_equal(http_client_probe("http://h:0", "/", &status), EMU_INVALID);
    assert_int_equal(status, -1);
}

static void test_nothing_listening(void **state)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);
    struct http_answer a;
    char url[64], err[256] = "";
    int fd = socket(AF_INET, SOCK_STREAM, 0), port, status = -1;

    (void)state;
    /* a port that was free a moment ago, closed again */
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    port = ntohs(sa.sin_port);
    close(fd);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
    assert_int_equal(http_client_request(url, "GET", NULL, 0, NULL, 0, 1000, &a, err, sizeof(err)),
                     EMU_IO);
    assert_non_null(strstr(err, "cannot connect to 127.0.0.1:"));
    assert_null(a.body);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    assert_int_equal(http_client_probe(url, "/health", &status), EMU_IO);
    assert_int_equal(status, -1);
}

static void test_no_answer_in_time(void **state)
{
    struct server s;
    struct http_answer a;
    char url[64], err[256] = "";

    (void)state;
    server_start(&s, NULL, 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/slow", s.port);
    assert_int_equal(http_client_request(url, "GET", NULL, 0, NULL, 0, 300, &a, err, sizeof(err)),
                     EMU_IO);
    server_stop(&s);
    assert_non_null(strstr(err, "no answer from 127.0.0.1:"));
    assert_null(a.body);
}

static void test_probe(void **state)
{
    static const char reply[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                                "Connection: close\r\n\r\n";
    struct server s;
    char url[64];
    int status = 0;

    (void)state;
    server_start(&s, reply, sizeof(reply) - 1);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", s.port);
    assert_int_equal(http_client_probe(url, "/__admin/health", &status), EMU_OK);
    server_stop(&s);
    assert_int_equal(status, 503);
    assert_non_null(strstr(s.got, "GET /__admin/health HTTP/1.1\r\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_and_answer),
        cmocka_unit_test(test_empty_body_and_default_path),
        cmocka_unit_test(test_refused_urls),
        cmocka_unit_test(test_nothing_listening),
        cmocka_unit_test(test_no_answer_in_time),
        cmocka_unit_test(test_probe),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
