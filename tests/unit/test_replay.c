/* test_replay.c -- replay without a network: requests rebuilt from journal entries (URL, header
 * lines without the connection's own, body), answers compared with the recorded ones (status,
 * headers by any case, Date/Connection and ignored headers skipped, JSON bodies compared as JSON
 * without ignored fields, other bodies byte for byte), a whole journal run through a fake send
 * function, and the command's argument errors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "http_client.h"
#include "replay.h"

static json_t *load(const char *json)
{
    json_t *v = json_loads(json, JSON_ALLOW_NUL, NULL);

    assert_non_null(v);
    return v;
}

static void test_build_request(void **state)
{
    struct replay_options o = {.target = "http://127.0.0.1:9"};
    struct replay_request *rq = malloc(sizeof(*rq));
    json_t *e = load("{\"method\":\"POST\",\"path\":\"/v1/x\",\"query\":\"a=1&b=2\","
                     "\"request_headers\":{\"Host\":\"h\",\"X-Key\":\"k\",\"content-length\":\"3\","
                     "\"CONNECTION\":\"close\",\"X-Num\":5,\"Accept\":\"*/*\"},"
                     "\"request_body\":\"a\\u0000b\"}");

    (void)state;
    assert_non_null(rq);
    assert_int_equal(replay_build_request(&o, e, rq), EMU_OK);
    assert_string_equal(rq->url, "http://127.0.0.1:9/v1/x?a=1&b=2");
    assert_string_equal(rq->method, "POST");
    assert_int_equal(rq->nlines, 2); /* Host, Content-Length, Connection, a non-string: not sent */
    assert_string_equal(rq->lines[0], "X-Key: k");
    assert_string_equal(rq->lines[1], "Accept: */*");
    assert_int_equal(rq->body_len, 3); /* NUL bytes kept */
    assert_memory_equal(rq->body, "a\0b", 3);
    json_decref(e);

    e = load("{\"method\":\"GET\",\"path\":\"/\"}");
    assert_int_equal(replay_build_request(&o, e, rq), EMU_OK);
    assert_string_equal(rq->url, "http://127.0.0.1:9/");
    assert_int_equal(rq->nlines, 0);
    assert_int_equal(rq->body_len, 0);
    assert_string_equal(rq->body, "");
    json_decref(e);

    /* not requests */
    static const char *const bad[] = {"{}",
                                      "{\"method\":\"GET\"}",
                                      "{\"path\":\"/\"}",
                                      "{\"method\":\"\",\"path\":\"/\"}",
                                      "{\"method\":1,\"path\":\"/\"}",
                                      "[]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *b = json_loads(bad[i], JSON_DECODE_ANY, NULL);

        assert_int_equal(replay_build_request(&o, b, rq), EMU_INVALID);
        json_decref(b);
    }
    free(rq);
}

/* An answer of status, headers (JSON object text) and body; cleared by the caller. */
static struct http_answer answer(int status, const char *headers, const char *body)
{
    struct http_answer a = {status, strdup(body), strlen(body), load(headers)};

    return a;
}

/* The differences replay_compare finds, with its printed report in report[2048]. */
static int compare(const struct replay_options *o, const char *entry, struct http_answer *a,
                   char report[2048])
{
    FILE *out;

    memset(report, 0, 2048);
    out = fmemopen(report, 2048, "w");
    json_t *e = load(entry);
    int n;

    assert_non_null(out);
    n = replay_compare(o, e, a, out);
    fclose(out);
    json_decref(e);
    http_answer_clear(a);
    return n;
}

static const char entry[] =
    "{\"seq\":7,\"method\":\"GET\",\"path\":\"/p\",\"status\":200,"
    "\"response_headers\":{\"Content-Type\":\"application/json\",\"Date\":\"then\","
    "\"Connection\":\"close\",\"X-Request-Id\":\"r1\"},"
    "\"response_body\":\"{\\\"a\\\":1,\\\"meta\\\":{\\\"id\\\":\\\"x\\\"},\\\"l\\\":[1,2]}\"}";

static void test_compare(void **state)
{
    struct replay_options o = {0}, ign = {.headers = {"x-request-id"},
                                          .nheaders = 1,
                                          .fields = {"meta.id", "l.1"},
                                          .nfields = 2};
    struct http_answer a;
    char report[2048];

    (void)state;
    /* the same: header names by any case, Date and Connection not compared, JSON key order free */
    a = answer(200, "{\"content-type\":\"application/json\",\"x-request-id\":\"r1\"}",
               "{\"l\":[1,2],\"meta\":{\"id\":\"x\"},\"a\":1}");
    assert_int_equal(compare(&o, entry, &a, report), 0);
    assert_string_equal(report, "");
    /* status, a changed header, an absent one, the body */
    a = answer(201, "{\"Content-Type\":\"text/plain\"}", "{\"a\":2}");
    assert_int_equal(compare(&o, entry, &a, report), 4);
    assert_non_null(strstr(report, "#7 GET /p: status 200, now 201\n"));
    assert_non_null(strstr(
        report, "#7 GET /p: header Content-Type: \"application/json\", now \"text/plain\"\n"));
    assert_non_null(strstr(report, "header X-Request-Id: \"r1\", now \"(absent)\"\n"));
    assert_non_null(strstr(report, "#7 GET /p: body differs\n"));
    /* ignored headers and fields (an array item by index) */
    a = answer(200, "{\"Content-Type\":\"application/json\",\"X-Request-Id\":\"r2\"}",
               "{\"a\":1,\"meta\":{\"id\":\"y\"},\"l\":[1,9]}");
    assert_int_equal(compare(&ign, entry, &a, report), 0);
    a = answer(200, "{\"Content-Type\":\"application/json\",\"X-Request-Id\":\"r2\"}",
               "{\"a\":1,\"meta\":{\"id\":\"y\"},\"l\":[0,9]}");
    assert_int_equal(compare(&ign, entry, &a, report), 1); /* l.0 is still compared */
}

static void test_compare_raw_bodies(void **state)
{
    struct replay_options o = {0};
    struct http_answer a;
    char report[2048];

    (void)state;
    a = answer(404, "{}", "not found");
    assert_int_equal(compare(&o, "{\"status\":404,\"response_body\":\"not found\"}", &a, report),
                     0);
    a = answer(404, "{}", "not found ");
    assert_int_equal(compare(&o, "{\"status\":404,\"response_body\":\"not found\"}", &a, report),
                     1);
    assert_non_null(strstr(report, "#0 - -: body differs")); /* no seq, method or path */
    /* JSON on one side only: compared as bytes */
    a = answer(200, "{}", "{\"a\":1");
    assert_int_equal(
        compare(&o, "{\"status\":200,\"response_body\":\"{\\\"a\\\":1}\"}", &a, report), 1);
    /* no recorded body is an empty one */
    a = answer(204, "{}", "");
    assert_int_equal(compare(&o, "{\"status\":204}", &a, report), 0);
}

struct fake {
    int calls;
    char urls[4][128];
};

/* Answers 200 {"ok":true} except to /down (nothing answers) and /teapot (418). */
static int fake_send(const struct replay_request *rq, struct http_answer *a, FILE *errs, void *arg)
{
    struct fake *f = arg;

    (void)errs;
    if (f->calls < 4)
        snprintf(f->urls[f->calls], sizeof(f->urls[0]), "%s", rq->url);
    f->calls++;
    if (strstr(rq->url, "/down") != NULL)
        return -1;
    *a = answer(strstr(rq->url, "/teapot") ? 418 : 200, "{}", "{\"ok\":true}");
    return 0;
}

static int run(const char *journal, struct fake *f, char out[2048], char errs[2048])
{
    struct replay_options o = {.file = "j.ndjson", .target = "http://t"};
    FILE *in = fmemopen((void *)journal, strlen(journal), "r"), *o_out, *o_errs;
    int rc;

    memset(out, 0, 2048);
    memset(errs, 0, 2048);
    o_out = fmemopen(out, 2048, "w");
    o_errs = fmemopen(errs, 2048, "w");
    assert_non_null(in);
    rc = replay_run(&o, in, o_out, o_errs, fake_send, f);
    fclose(in);
    fclose(o_out);
    fclose(o_errs);
    return rc;
}

static void test_run(void **state)
{
    struct fake f = {0};
    char out[2048], errs[2048];

    (void)state;
    assert_int_equal(run("{\"seq\":1,\"method\":\"GET\",\"path\":\"/a\",\"status\":200,"
                         "\"response_body\":\"{\\\"ok\\\":true}\"}\n\n",
                         &f, out, errs),
                     0);
    assert_string_equal(out, "replayed 1 requests: 0 differ\n");
    assert_string_equal(errs, "");
    assert_string_equal(f.urls[0], "http://t/a");

    memset(&f, 0, sizeof(f));
    assert_int_equal(run("{\"seq\":1,\"method\":\"GET\",\"path\":\"/teapot\",\"status\":200,"
                         "\"response_body\":\"{\\\"ok\\\":true}\"}\n"
                         "not json\n"
                         "{\"seq\":2}\n"
                         "{\"seq\":3,\"method\":\"GET\",\"path\":\"/down\",\"status\":200}\n"
                         "{\"seq\":4,\"method\":\"GET\",\"path\":\"/b\",\"query\":\"x=1\","
                         "\"status\":200,\"response_body\":\"{\\\"ok\\\":true}\"}",
                         &f, out, errs),
                     1);
    assert_int_equal(f.calls, 3);
    assert_string_equal(f.urls[2], "http://t/b?x=1");
    assert_non_null(strstr(out, "#1 GET /teapot: status 200, now 418\n"));
    assert_non_null(strstr(out, "#3: no answer\n"));
    assert_non_null(strstr(out, "replayed 3 requests: 2 differ\n"));
    assert_non_null(strstr(errs, "understudy: replay: j.ndjson:2: "));
    assert_non_null(strstr(errs, "j.ndjson:3: not a journal entry (no method or path)\n"));
}

static void test_main_arguments(void **state)
{
    char *none[] = {NULL};
    char *no_target[] = {"j.ndjson"};
    char *no_file[] = {"--target", "http://t"};
    char *unknown[] = {"j", "--target", "http://t", "--bogus"};
    char *dangling[] = {"j", "--target"};
    char *missing[] = {"/nonexistent/journal.ndjson", "--target", "http://t"};

    (void)state;
    assert_int_equal(replay_main(0, none), 2);
    assert_int_equal(replay_main(1, no_target), 2);
    assert_int_equal(replay_main(2, no_file), 2);
    assert_int_equal(replay_main(4, unknown), 2);
    assert_int_equal(replay_main(2, dangling), 2);
    assert_int_equal(replay_main(3, missing), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_request),      cmocka_unit_test(test_compare),
        cmocka_unit_test(test_compare_raw_bodies), cmocka_unit_test(test_run),
        cmocka_unit_test(test_main_arguments),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
