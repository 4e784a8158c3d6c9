/* replay.c -- `understudy replay FILE --target URL [--ignore-header NAME]...
 * [--ignore-field PATH]...`.
 *
 * FILE is the journal as GET /__admin/requests?format=ndjson gives it: one entry a line. Each
 * request is sent again, in order, to the target, and its answer is compared with the
 * recorded one: the status, every recorded header but Date and Connection (and those ignored),
 * and the body,
 * compared as JSON when both sides are JSON (without the ignored fields, given as dotted paths
 * such as meta.request_id) and byte for byte otherwise. Differences are printed one a line. */
#include "replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "err.h"
#include "http_client.h"
#include "jsonx.h"

/* The request headers a new connection sets for itself. */
static int hop_by_hop(const char *name)
{
    return strcasecmp(name, "Host") == 0 || strcasecmp(name, "Content-Length") == 0 ||
           strcasecmp(name, "Connection") == 0;
}

static int ignored(const char *name, const char *const *list, int n)
{
    for (int i = 0; i < n; i++)
        if (strcasecmp(list[i], name) == 0)
            return 1;
    return 0;
}

int replay_build_request(const struct replay_options *o, const json_t *entry,
                         struct replay_request *out)
{
    const char *query = jsonx_string(entry, "query"), *path = jsonx_string(entry, "path");
    const char *name;
    json_t *value, *body = json_object_get(entry, "request_body");

    out->method = jsonx_string(entry, "method");
    out->nlines = 0;
    if (out->method == NULL || path == NULL || out->method[0] == '\0')
        return EMU_INVALID;
    snprintf(out->url, sizeof(out->url), "%s%s%s%s", o->target, path, query ? "?" : "",
             query ? query : "");
    json_object_foreach(json_object_get(entry, "request_headers"), name, value)
    {
        /* The journal writes strings only; anything else was not recorded by it. */
        if (out->nlines == REPLAY_MAX_HEADERS || !json_is_string(value) || hop_by_hop(name))
            continue;
        snprintf(out->buf[out->nlines], sizeof(out->buf[0]), "%s: %s", name,
                 json_string_value(value));
        out->lines[out->nlines] = out->buf[out->nlines];
        out->nlines++;
    }
    out->body = json_is_string(body) ? json_string_value(body) : "";
    out->body_len = json_is_string(body) ? json_string_length(body) : 0;
    return EMU_OK;
}

/* Sends one recorded request with the HTTP client. */
static int send_http(const struct replay_request *rq, struct http_answer *a, FILE *errs, void *arg)
{
    char err[512];

    (void)arg;
    if (http_client_request(rq->url, rq->method, rq->lines, rq->nlines, rq->body, rq->body_len,
                            60000, a, err, sizeof(err)) != EMU_OK) {
        fprintf(errs, "understudy: replay: %s\n", err);
        return -1;
    }
    return 0;
}

/* Removes the member at a dotted path ("meta.request_id"; array items by index). */
static void drop_path(json_t *doc, const char *path)
{
    char buf[512], *part, *save, *next;
    json_t *at = doc;

    snprintf(buf, sizeof(buf), "%s", path);
    for (part = strtok_r(buf, ".", &save); part != NULL && at != NULL; part = next) {
        next = strtok_r(NULL, ".", &save);
        if (next == NULL) {
            if (json_is_object(at))
                json_object_del(at, part);
            else if (json_is_array(at))
                json_array_set_new(at, (size_t)atoi(part), json_null());
            return;
        }
        at = json_is_array(at) ? json_array_get(at, (size_t)atoi(part)) : json_object_get(at, part);
    }
}

static int same_body(const struct replay_options *o, const json_t *recorded_value,
                     const struct http_answer *a)
{
    const char *recorded = json_is_string(recorded_value) ? json_string_value(recorded_value) : "";
    size_t recorded_len = json_is_string(recorded_value) ? json_string_length(recorded_value) : 0;
    json_t *x = json_loadb(recorded, recorded_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    json_t *y =
        json_loadb(a->body ? a->body : "", a->body_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    int same;

    if (x != NULL && y != NULL) {
        for (int i = 0; i < o->nfields; i++) {
            drop_path(x, o->fields[i]);
            drop_path(y, o->fields[i]);
        }
        same = json_equal(x, y);
    } else {
        same = recorded_len == a->body_len &&
               memcmp(recorded, a->body ? a->body : "", a->body_len) == 0;
    }
    json_decref(x);
    json_decref(y);
    return same;
}

int replay_compare(const struct replay_options *o, const json_t *entry, const struct http_answer *a,
                   FILE *out)
{
    json_int_t seq = json_integer_value(json_object_get(entry, "seq"));
    json_int_t status = json_integer_value(json_object_get(entry, "status"));
    const char *method = jsonx_string(entry, "method"), *path = jsonx_string(entry, "path");
    const char *name;
    json_t *value, *body = json_object_get(entry, "response_body");
    int differences = 0;

    method = method ? method : "-";
    path = path ? path : "-";
    if (status != a->status) {
        fprintf(out, "#%lld %s %s: status %lld, now %d\n", (long long)seq, method, path,
                (long long)status, a->status);
        differences++;
    }
    json_object_foreach(json_object_get(entry, "response_headers"), name, value)
    {
        const char *have = NULL, *key, *want = json_string_value(value);
        json_t *v;

        /* Date moves with time and Connection is the link's, not the answer's; the journal
         * records strings only, so anything else is not one of its headers. */
        if (want == NULL || strcasecmp(name, "Date") == 0 || strcasecmp(name, "Connection") == 0 ||
            ignored(name, o->headers, o->nheaders))
            continue;
        json_object_foreach(a->headers, key, v) if (strcasecmp(key, name) == 0) have =
            json_string_value(v);
        if (have == NULL || strcmp(have, want) != 0) {
            fprintf(out, "#%lld %s %s: header %s: \"%s\", now \"%s\"\n", (long long)seq, method,
                    path, name, want, have ? have : "(absent)");
            differences++;
        }
    }
    if (!same_body(o, body, a)) {
        fprintf(out, "#%lld %s %s: body differs\n  was: %.300s\n  now: %.300s\n", (long long)seq,
                method, path, json_is_string(body) ? json_string_value(body) : "",
                a->body ? a->body : "");
        differences++;
    }
    return differences;
}

int replay_run(const struct replay_options *o, FILE *in, FILE *out, FILE *errs,
               replay_send_fn *send, void *arg)
{
    struct replay_request *rq = malloc(sizeof(*rq)); /* 72 kB: not on the stack */
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0, sent = 0, differing = 0;

    if (rq == NULL) {
        fprintf(errs, "understudy: replay: out of memory\n");
        return 1;
    }
    while ((n = getline(&line, &cap, in)) > 0) {
        /* The journal writes a body's NUL bytes as \u0000, which jansson refuses by default. */
        json_error_t jerr;
        json_t *entry = json_loadb(line, (size_t)n, JSON_ALLOW_NUL, &jerr);
        struct http_answer a = {0};

        lineno++;
        if (entry == NULL) {
            if (strspn(line, " \t\r\n") != (size_t)n)
                fprintf(errs, "understudy: replay: %s:%ld: %s\n", o->file, lineno, jerr.text);
            continue;
        }
        if (replay_build_request(o, entry, rq) != EMU_OK) {
            fprintf(errs, "understudy: replay: %s:%ld: not a journal entry (no method or path)\n",
                    o->file, lineno);
            json_decref(entry);
            continue;
        }
        sent++;
        if (send(rq, &a, errs, arg) != 0) {
            fprintf(out, "#%lld: no answer\n",
                    (long long)json_integer_value(json_object_get(entry, "seq")));
            differing++;
        } else if (replay_compare(o, entry, &a, out) > 0) {
            differing++;
        }
        http_answer_clear(&a);
        json_decref(entry);
    }
    free(line);
    free(rq);
    fprintf(out, "replayed %ld requests: %ld differ\n", sent, differing);
    return differing > 0 ? 1 : 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: understudy replay FILE --target URL [--ignore-header NAME]... "
                    "[--ignore-field PATH]...\n");
    return 2;
}

int replay_main(int argc, char **argv)
{
    struct replay_options o = {0};
    FILE *fp;
    int rc;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--target") == 0 && i + 1 < argc)
            o.target = argv[++i];
        else if (strcmp(argv[i], "--ignore-header") == 0 && i + 1 < argc &&
                 o.nheaders < REPLAY_MAX_IGNORED)
            o.headers[o.nheaders++] = argv[++i];
        else if (strcmp(argv[i], "--ignore-field") == 0 && i + 1 < argc &&
                 o.nfields < REPLAY_MAX_IGNORED)
            o.fields[o.nfields++] = argv[++i];
        else if (argv[i][0] != '-' && o.file == NULL)
            o.file = argv[i];
        else
            return usage();
    }
    if (o.file == NULL || o.target == NULL)
        return usage();
    fp = strcmp(o.file, "-") == 0 ? stdin : fopen(o.file, "r");
    if (fp == NULL) {
        fprintf(stderr, "understudy: replay: cannot read %s\n", o.file);
        return 2;
    }
    rc = replay_run(&o, fp, stdout, stderr, send_http, NULL);
    if (fp != stdin)
        fclose(fp);
    return rc;
}
