/* fuzz_replay.c -- libFuzzer target: `understudy replay`'s journal reader on arbitrary text.
 *
 * The input is the journal file. replay_run reads it line by line as the command does; its send
 * function here answers without a network, echoing the request (status from the URL's length,
 * the header lines as headers, the request body as the body), so the comparison of every entry
 * runs against an answer that differs from the recorded one. Each entry is then compared once
 * more against its own recorded answer, which must show no difference. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "http_client.h"
#include "jsonx.h"
#include "replay.h"

static int echo(const struct replay_request *rq, struct http_answer *a, FILE *errs, void *arg)
{
    (void)errs;
    (void)arg;
    a->status = 200 + (int)(strlen(rq->url) % 400);
    a->headers = json_object();
    for (int i = 0; i < rq->nlines; i++) {
        const char *colon = strchr(rq->lines[i], ':');

        if (colon != NULL) {
            char name[256];

            snprintf(name, sizeof(name), "%.*s", (int)(colon - rq->lines[i]), rq->lines[i]);
            json_object_set_new(a->headers, name, json_string(colon + 1 + (colon[1] == ' ')));
        }
    }
    a->body = malloc(rq->body_len + 1);
    if (a->body == NULL)
        abort();
    memcpy(a->body, rq->body, rq->body_len);
    a->body[rq->body_len] = '\0';
    a->body_len = rq->body_len;
    return rq->nlines == 7 ? -1 : 0; /* now and then, no answer at all */
}

/* The recorded answer of entry, as the HTTP client would have read it. */
static void recorded(const json_t *entry, struct http_answer *a)
{
    json_t *body = json_object_get(entry, "response_body");
    json_t *headers = json_object_get(entry, "response_headers");

    a->status = (int)json_integer_value(json_object_get(entry, "status"));
    a->headers = json_is_object(headers) ? json_deep_copy(headers) : json_object();
    a->body_len = json_is_string(body) ? json_string_length(body) : 0;
    a->body = malloc(a->body_len + 1);
    if (a->body == NULL)
        abort();
    memcpy(a->body, json_is_string(body) ? json_string_value(body) : "", a->body_len);
    a->body[a->body_len] = '\0';
}

/* 1 when no two names of obj differ only in case (then the comparison's pick is ambiguous). */
static int case_unique(const json_t *obj)
{
    const char *a, *b;
    json_t *va, *vb;

    json_object_foreach((json_t *)obj, a, va)
        json_object_foreach((json_t *)obj, b, vb) if (a != b && strcasecmp(a, b) == 0) return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    struct replay_options o = {.file = "fuzz.ndjson",
                               .target = "http://127.0.0.1:9",
                               .headers = {"X-Request-Id", "Date"},
                               .fields = {"meta.request_id", "data.0.id", "0", "a.-1.b", ""},
                               .nheaders = 2,
                               .nfields = 5};
    FILE *in;
    const uint8_t *p = data, *end = data + size;

    if (sink == NULL && (sink = fopen("/dev/null", "w")) == NULL)
        abort();
    if (size == 0)
        return 0;
    in = fmemopen((void *)data, size, "r");
    if (in == NULL)
        abort();
    replay_run(&o, in, sink, sink, echo, NULL);
    fclose(in);

    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        json_t *entry = json_loadb((const char *)p, len, JSON_ALLOW_NUL, NULL);

        if (entry != NULL) {
            struct http_answer a = {0};

            recorded(entry, &a);
            if (json_is_integer(json_object_get(entry, "status")) &&
                json_integer_value(json_object_get(entry, "status")) == a.status &&
                case_unique(a.headers) && replay_compare(&o, entry, &a, sink) != 0) {
                fprintf(stderr, "fuzz: an entry differs from its own recorded answer\n");
                abort();
            }
            http_answer_clear(&a);
            json_decref(entry);
        }
        p += len + 1;
    }
    return 0;
}
