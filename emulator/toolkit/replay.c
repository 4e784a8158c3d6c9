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

#define MAX_IGNORED 32

struct options {
    const char *file, *target;
    const char *headers[MAX_IGNORED], *fields[MAX_IGNORED];
    int nheaders, nfields;
};

static int ignored(const char *name, const char *const *list, int n)
{
    for (int i = 0; i < n; i++)
        if (strcasecmp(list[i], name) == 0)
            return 1;
    return 0;
}

/* Sends one recorded request. */
static int send_one(const struct options *o, const json_t *entry, struct http_answer *a)
{
    static const char *const hop[] = {"Host", "Content-Length", "Connection"};
    const char *query = jsonx_string(entry, "query"), *body = jsonx_string(entry, "request_body");
    const char *name, *lines[64];
    char url[8192], buf[64][1024], err[512];
    json_t *value;
    int n = 0;

    snprintf(url, sizeof(url), "%s%s%s%s", o->target, jsonx_string(entry, "path"), query ? "?" : "",
             query ? query : "");
    json_object_foreach(json_object_get(entry, "request_headers"), name, value)
    {
        if (n == 64 || ignored(name, hop, 3))
            continue;
        snprintf(buf[n], sizeof(buf[n]), "%s: %s", name, json_string_value(value));
        lines[n] = buf[n];
        n++;
    }
    if (http_client_request(url, jsonx_string(entry, "method"), lines, n, body ? body : "",
                            body ? strlen(body) : 0, 60000, a, err, sizeof(err)) != EMU_OK) {
        fprintf(stderr, "understudy: replay: %s\n", err);
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

static int same_body(const struct options *o, const char *recorded, const struct http_answer *a)
{
    json_t *x = json_loads(recorded ? recorded : "", JSON_DECODE_ANY, NULL);
    json_t *y = json_loadb(a->body ? a->body : "", a->body_len, JSON_DECODE_ANY, NULL);
    int same;

    if (x != NULL && y != NULL) {
        for (int i = 0; i < o->nfields; i++) {
            drop_path(x, o->fields[i]);
            drop_path(y, o->fields[i]);
        }
        same = json_equal(x, y);
    } else {
        same = strlen(recorded ? recorded : "") == a->body_len &&
               memcmp(recorded ? recorded : "", a->body ? a->body : "", a->body_len) == 0;
    }
    json_decref(x);
    json_decref(y);
    return same;
}

/* Prints every difference of one exchange; returns how many. */
static int compare(const struct options *o, const json_t *entry, const struct http_answer *a)
{
    json_int_t seq = json_integer_value(json_object_get(entry, "seq"));
    const char *method = jsonx_string(entry, "method"), *path = jsonx_string(entry, "path");
    const char *name;
    json_t *value;
    int differences = 0;

    if (json_integer_value(json_object_get(entry, "status")) != a->status) {
        printf("#%lld %s %s: status %lld, now %d\n", (long long)seq, method, path,
               (long long)json_integer_value(json_object_get(entry, "status")), a->status);
        differences++;
    }
    json_object_foreach(json_object_get(entry, "response_headers"), name, value)
    {
        const char *have = NULL, *key;
        json_t *v;

        /* Date moves with time and Connection is the link's, not the answer's. */
        if (strcasecmp(name, "Date") == 0 || strcasecmp(name, "Connection") == 0 ||
            ignored(name, o->headers, o->nheaders))
            continue;
        json_object_foreach(a->headers, key, v) if (strcasecmp(key, name) == 0) have =
            json_string_value(v);
        if (have == NULL || strcmp(have, json_string_value(value)) != 0) {
            printf("#%lld %s %s: header %s: \"%s\", now \"%s\"\n", (long long)seq, method, path,
                   name, json_string_value(value), have ? have : "(absent)");
            differences++;
        }
    }
    if (!same_body(o, jsonx_string(entry, "response_body"), a)) {
        printf("#%lld %s %s: body differs\n  was: %.300s\n  now: %.300s\n", (long long)seq, method,
               path,
               jsonx_string(entry, "response_body") ? jsonx_string(entry, "response_body") : "",
               a->body ? a->body : "");
        differences++;
    }
    return differences;
}

static int usage(void)
{
    fprintf(stderr, "usage: understudy replay FILE --target URL [--ignore-header NAME]... "
                    "[--ignore-field PATH]...\n");
    return 2;
}

int replay_main(int argc, char **argv)
{
    struct options o = {0};
    char *line = NULL;
    size_t cap = 0;
    long sent = 0, differing = 0;
    FILE *fp;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--target") == 0 && i + 1 < argc)
            o.target = argv[++i];
        else if (strcmp(argv[i], "--ignore-header") == 0 && i + 1 < argc &&
                 o.nheaders < MAX_IGNORED)
            o.headers[o.nheaders++] = argv[++i];
        else if (strcmp(argv[i], "--ignore-field") == 0 && i + 1 < argc && o.nfields < MAX_IGNORED)
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
    while (getline(&line, &cap, fp) > 0) {
        json_error_t jerr;
        json_t *entry = json_loads(line, 0, &jerr);
        struct http_answer a = {0};

        if (entry == NULL) {
            if (strspn(line, " \t\r\n") != strlen(line))
                fprintf(stderr, "understudy: replay: %s:%ld: %s\n", o.file, sent + 1, jerr.text);
            continue;
        }
        sent++;
        if (send_one(&o, entry, &a) != 0) {
            printf("#%lld: no answer\n",
                   (long long)json_integer_value(json_object_get(entry, "seq")));
            differing++;
        } else if (compare(&o, entry, &a) > 0) {
            differing++;
        }
        http_answer_clear(&a);
        json_decref(entry);
    }
    free(line);
    if (fp != stdin)
        fclose(fp);
    printf("replayed %ld requests: %ld differ\n", sent, differing);
    return differing > 0 ? 1 : 0;
}
