/* journal.c -- a FIFO of raw exchanges under one mutex, rendered as JSON when read. */
#include "journal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "err.h"
#include "jsonx.h"
#include "router.h"

/* The pieces of an exchange, all in one block after the struct. */
enum piece {
    TENANT,
    VENDOR,
    METHOD,
    PATH,
    QUERY,
    SCENARIO,
    REQ_HEADERS,
    REQ_BODY,
    RES_HEADERS,
    RES_BODY,
    PIECES
};

struct jentry {
    struct jentry *next;
    uint64_t seq;
    int64_t time_ms, duration_us;
    int status;
    unsigned char present; /* bits: QUERY and SCENARIO may be absent */
    size_t len[PIECES];
    char *piece[PIECES];
    size_t bytes; /* what the entry costs, for the journal's bound */
    char data[];
};

struct journal {
    pthread_mutex_t lock;
    struct jentry *head, *tail;
    size_t count, bytes, max_entries, max_bytes;
    atomic_ullong seq;
    uint64_t dropped;
};

int journal_new(struct journal **out, size_t max_entries, size_t max_bytes)
{
    struct journal *j = calloc(1, sizeof(*j));

    *out = j;
    if (j == NULL)
        return EMU_NOMEM;
    pthread_mutex_init(&j->lock, NULL);
    j->max_entries = max_entries;
    j->max_bytes = max_bytes;
    return EMU_OK;
}

static void drop_head(struct journal *j)
{
    struct jentry *e = j->head;

    j->head = e->next;
    if (j->head == NULL)
        j->tail = NULL;
    j->count--;
    j->bytes -= e->bytes;
    free(e);
}

void journal_clear(struct journal *j)
{
    pthread_mutex_lock(&j->lock);
    while (j->head != NULL)
        drop_head(j);
    j->dropped = 0;
    pthread_mutex_unlock(&j->lock);
}

void journal_free(struct journal *j)
{
    if (j == NULL)
        return;
    journal_clear(j);
    pthread_mutex_destroy(&j->lock);
    free(j);
}

void journal_add(struct journal *j, const struct journal_record *r)
{
    const char *src[PIECES] = {r->tenant,
                               r->vendor,
                               r->method,
                               r->path,
                               r->query,
                               r->scenario,
                               r->request_headers,
                               r->request_body,
                               r->response_headers,
                               r->response_body};
    size_t len[PIECES] = {0}, total = 0;
    struct jentry *e;
    char *at;

    if (j->max_entries == 0)
        return;
    for (int i = 0; i < PIECES; i++) {
        len[i] = i == REQ_HEADERS   ? r->request_headers_len
                 : i == REQ_BODY    ? r->request_body_len
                 : i == RES_HEADERS ? r->response_headers_len
                 : i == RES_BODY    ? r->response_body_len
                 : src[i]           ? strlen(src[i])
                                    : 0;
        total += len[i] + 1;
    }
    e = malloc(sizeof(*e) + total);
    if (e == NULL)
        return;
    e->next = NULL;
    e->seq = atomic_fetch_add(&j->seq, 1) + 1;
    e->time_ms = r->time_ms;
    e->duration_us = r->duration_us;
    e->status = r->status;
    e->present = (unsigned char)((r->query ? 1 : 0) | (r->scenario ? 2 : 0));
    at = e->data;
    for (int i = 0; i < PIECES; i++) {
        e->piece[i] = at;
        e->len[i] = len[i];
        if (len[i])
            memcpy(at, src[i], len[i]);
        at[len[i]] = '\0';
        at += len[i] + 1;
    }
    e->bytes = sizeof(*e) + total;
    pthread_mutex_lock(&j->lock);
    if (e->bytes > j->max_bytes) { /* larger than the whole journal: dropped at once */
        j->dropped++;
        pthread_mutex_unlock(&j->lock);
        free(e);
        return;
    }
    while (j->head != NULL &&
           (j->count + 1 > j->max_entries || j->bytes + e->bytes > j->max_bytes)) {
        drop_head(j);
        j->dropped++;
    }
    if (j->tail != NULL)
        j->tail->next = e;
    else
        j->head = e;
    j->tail = e;
    j->count++;
    j->bytes += e->bytes;
    pthread_mutex_unlock(&j->lock);
}

/* "Name: value\r\n" lines as an object; values that are not UTF-8 text are left out. */
static json_t *header_object(const char *p, size_t len)
{
    json_t *out = json_object();
    const char *end = p + len;

    while (out != NULL && p < end) {
        const char *eol = memchr(p, '\r', (size_t)(end - p)), *colon;

        if (eol == NULL)
            break;
        colon = memchr(p, ':', (size_t)(eol - p));
        if (colon != NULL) {
            const char *value = colon + 1 + (colon + 1 < eol && colon[1] == ' ');
            json_t *v = json_stringn(value, (size_t)(eol - value));
            char name[128];

            snprintf(name, sizeof(name), "%.*s", (int)(colon - p), p);
            if (v != NULL)
                json_object_set_new(out, name, v);
        }
        p = eol + 2;
    }
    return out;
}

/* A body as a JSON string, or null when it is not UTF-8 text (or absent, for requests). */
static json_t *body_string(const struct jentry *e, enum piece which)
{
    json_t *v;

    if (which == REQ_BODY && e->len[which] == 0)
        return json_null();
    v = json_stringn(e->piece[which], e->len[which]);
    return v ? v : json_null();
}

/* The entry in SPEC §8's shape. New reference. */
static json_t *render(const struct jentry *e)
{
    char when[32];

    clock_format_iso_ms(e->time_ms, when, sizeof(when));
    return json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s?,s:o,s:o,s:i,s:o,s:o,s:I,s:s?}", "seq",
                     (json_int_t)e->seq, "time", when, "tenant", e->piece[TENANT], "vendor",
                     e->piece[VENDOR], "method", e->piece[METHOD], "path", e->piece[PATH], "query",
                     (e->present & 1) ? e->piece[QUERY] : NULL, "request_headers",
                     header_object(e->piece[REQ_HEADERS], e->len[REQ_HEADERS]), "request_body",
                     body_string(e, REQ_BODY), "status", e->status, "response_headers",
                     header_object(e->piece[RES_HEADERS], e->len[RES_HEADERS]), "response_body",
                     body_string(e, RES_BODY), "duration_us", (json_int_t)e->duration_us,
                     "scenario", (e->present & 2) ? e->piece[SCENARIO] : NULL);
}

static int matches(const struct jentry *e, const struct journal_filter *f)
{
    return (f->tenant == NULL || strcmp(f->tenant, e->piece[TENANT]) == 0) &&
           (f->vendor == NULL || strcmp(f->vendor, e->piece[VENDOR]) == 0) &&
           (f->method == NULL || strcasecmp(f->method, e->piece[METHOD]) == 0) &&
           (f->path == NULL || router_path_match(f->path, e->piece[PATH], NULL)) &&
           (f->status == 0 || f->status == e->status);
}

int journal_query(struct journal *j, const struct journal_filter *f, size_t limit, json_t **out,
                  size_t *total, uint64_t *dropped)
{
    size_t n = 0, skip;

    *out = json_array();
    if (*out == NULL)
        return EMU_NOMEM;
    pthread_mutex_lock(&j->lock);
    for (struct jentry *e = j->head; e != NULL; e = e->next)
        n += matches(e, f);
    skip = limit > 0 && n > limit ? n - limit : 0; /* the newest `limit`, oldest first */
    for (struct jentry *e = j->head; e != NULL; e = e->next) {
        if (!matches(e, f))
            continue;
        if (skip > 0) {
            skip--;
            continue;
        }
        json_array_append_new(*out, render(e));
    }
    *total = n;
    *dropped = j->dropped;
    pthread_mutex_unlock(&j->lock);
    return EMU_OK;
}

int journal_ndjson(struct journal *j, const struct journal_filter *f, char **out, size_t *len)
{
    size_t cap = 4096, used = 0;
    char *text = malloc(cap);

    pthread_mutex_lock(&j->lock);
    for (struct jentry *e = j->head; text != NULL && e != NULL; e = e->next) {
        json_t *entry;
        char *line;
        size_t n = 0;

        if (!matches(e, f))
            continue;
        entry = render(e);
        line = entry ? jsonx_dump(entry, &n) : NULL;
        json_decref(entry);
        if (line == NULL)
            continue;
        if (used + n + 2 > cap) {
            char *grown = realloc(text, (used + n + 2) * 2);

            if (grown == NULL) {
                free(text);
                text = NULL;
                free(line);
                break;
            }
            text = grown;
            cap = (used + n + 2) * 2;
        }
        memcpy(text + used, line, n);
        used += n;
        text[used++] = '\n';
        free(line);
    }
    pthread_mutex_unlock(&j->lock);
    if (text == NULL)
        return EMU_NOMEM;
    text[used] = '\0';
    *out = text;
    *len = used;
    return EMU_OK;
}

void journal_count(struct journal *j, const struct journal_filter *f, size_t *count, int *complete)
{
    size_t n = 0;

    pthread_mutex_lock(&j->lock);
    for (struct jentry *e = j->head; e != NULL; e = e->next)
        n += matches(e, f);
    *count = n;
    *complete = j->dropped == 0;
    pthread_mutex_unlock(&j->lock);
}

void journal_stats(struct journal *j, size_t *entries, size_t *bytes, uint64_t *dropped)
{
    pthread_mutex_lock(&j->lock);
    *entries = j->count;
    *bytes = j->bytes;
    *dropped = j->dropped;
    pthread_mutex_unlock(&j->lock);
}
