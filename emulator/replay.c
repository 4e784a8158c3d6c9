/* replay.c -- `understudy replay FILE --target URL [--ignore-header NAME]...
 * [--ignore-field PATH]...`.
 *
 * FILE is the journal as GET /__admin/requests?format=ndjson gives it: one entry a line. Each
 * request is sent again, in order, to the target (libcurl), and its answer is compared with the
 * recorded one: the status, every recorded header but Date (and those ignored), and the body,
 * compared as JSON when both sides are JSON (without the ignored fields, given as dotted paths
 * such as meta.request_id) and byte for byte otherwise. Differences are printed one a line. */
#include "replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "jsonx.h"

#define MAX_IGNORED 32

struct options {
    const char *file, *target;
    const char *headers[MAX_IGNORED], *fields[MAX_IGNORED];
    int nheaders, nfields;
};

struct answer {
    long status;
    char *body;
    size_t body_len;
    json_t *headers; /* name (as sent) -> value */
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct answer *a = arg;
    char *grown = realloc(a->body, a->body_len + size * n + 1);

    if (grown == NULL)
        return 0;
    a->body = grown;
    memcpy(a->body + a->body_len, data, size * n);
    a->body_len += size * n;
    a->body[a->body_len] = '\0';
    return size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    struct answer *a = arg;
    size_t len = size * n;
    char *colon = memchr(data, ':', len);

    if (colon != NULL) {
        char name[128];
        const char *value = colon + 1;
        size_t vlen;

        snprintf(name, sizeof(name), "%.*s", (int)(colon - data), data);
        while (value < data + len && *value == ' ')
            value++;
        vlen = (size_t)(data + len - value);
        while (vlen > 0 && (value[vlen - 1] == '\r' || value[vlen - 1] == '\n'))
            vlen--;
        json_object_set_new(a->headers, name, json_stringn(value, vlen));
    }
    return len;
}

static int ignored(const char *name, const char *const *list, int n)
{
    for (int i = 0; i < n; i++)
        if (strcasecmp(list[i], name) == 0)
            return 1;
    return 0;
}

/* Sends one recorded request. */
static int send_one(const struct options *o, const json_t *entry, struct answer *a)
{
    const char *query = jsonx_string(entry, "query"), *body = jsonx_string(entry, "request_body");
    const char *name;
    json_t *value;
    struct curl_slist *headers = NULL;
    char url[8192], line[2048];
    CURL *curl = curl_easy_init();
    CURLcode rc;

    if (curl == NULL)
        return -1;
    snprintf(url, sizeof(url), "%s%s%s%s", o->target, jsonx_string(entry, "path"), query ? "?" : "",
             query ? query : "");
    json_object_foreach(json_object_get(entry, "request_headers"), name, value)
    {
        if (ignored(name, (const char *const[]){"Host", "Content-Length", "Connection"}, 3))
            continue;
        snprintf(line, sizeof(line), "%s: %s", name, json_string_value(value));
        headers = curl_slist_append(headers, line);
    }
    headers = curl_slist_append(headers, "Expect:"); /* no 100-continue round trip */
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, jsonx_string(entry, "method"));
    if (body != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    rc = curl_easy_perform(curl);
    if (rc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &a->status);
    else
        fprintf(stderr, "understudy: replay: %s: %s\n", url, curl_easy_strerror(rc));
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return rc == CURLE_OK ? 0 : -1;
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

static int same_body(const struct options *o, const char *recorded, const struct answer *a)
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
static int compare(const struct options *o, const json_t *entry, const struct answer *a)
{
    json_int_t seq = json_integer_value(json_object_get(entry, "seq"));
    const char *method = jsonx_string(entry, "method"), *path = jsonx_string(entry, "path");
    const char *name;
    json_t *value;
    int differences = 0;

    if (json_integer_value(json_object_get(entry, "status")) != a->status) {
        printf("#%lld %s %s: status %lld, now %ld\n", (long long)seq, method, path,
               (long long)json_integer_value(json_object_get(entry, "status")), a->status);
        differences++;
    }
    json_object_foreach(json_object_get(entry, "response_headers"), name, value)
    {
        const char *have = NULL, *key;
        json_t *v;

        if (strcasecmp(name, "Date") == 0 || ignored(name, o->headers, o->nheaders))
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
    curl_global_init(CURL_GLOBAL_DEFAULT);
    while (getline(&line, &cap, fp) > 0) {
        json_error_t jerr;
        json_t *entry = json_loads(line, 0, &jerr);
        struct answer a = {0, NULL, 0, json_object()};

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
        free(a.body);
        json_decref(a.headers);
        json_decref(entry);
    }
    free(line);
    if (fp != stdin)
        fclose(fp);
    curl_global_cleanup();
    printf("replayed %ld requests: %ld differ\n", sent, differing);
    return differing > 0 ? 1 : 0;
}
