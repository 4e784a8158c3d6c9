/* journal.c -- a FIFO of raw exchanges, rendered as JSON when read.
 *
 * Recording copies the exchange into one new block outside any lock, then takes the journal's
 * mutex only to link it at the tail and unlink what the bounds push out of the head; what is
 * unlinked is freed after the mutex is let go. A reader never walks the list under the mutex:
 * it pins the journal (takes the head, the tail and the counters, and counts itself as a
 * reader, all in O(1)), walks head to tail alone, since the links between them never change,
 * and unpins when it has rendered. While a reader is pinned, entries the bounds push out are
 * not freed but parked (struct journal's grave) and freed by the last reader to unpin; the
 * grave is bounded by --journal-max-bytes too, and an exchange that would pass it is dropped
 * and counted like any other. So recording never waits for a reader, and a reader for
 * recording only as long as a few pointer moves. */
#include "journal.h"

#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "err.h"
#include "jsonx.h"
#include "path.h"

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
    struct jentry *next;  /* toward the tail; never changed once the entry has a successor */
    struct jentry *grave; /* the next parked entry, once unlinked while a reader is pinned */
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
    pthread_mutex_t lock;        /* everything below but the bounds; held for pointer moves */
    pthread_mutex_t render_lock; /* readers render one at a time: their memory adds up to one */
    struct jentry *head, *tail;
    size_t count, bytes, max_entries, max_bytes;
    uint64_t seq, dropped;
    int readers;          /* pinned readers walking the list without the lock */
    struct jentry *grave; /* entries unlinked while readers were pinned, freed by the last */
    size_t grave_bytes;
};

/* What a pinned reader walks: first to last, both included (NULL when empty). */
struct pin {
    struct jentry *first, *last;
    uint64_t dropped;
};

int journal_new(struct journal **out, size_t max_entries, size_t max_bytes)
{
    struct journal *j = calloc(1, sizeof(*j));

    *out = j;
    if (j == NULL)
        return EMU_NOMEM;
    pthread_mutex_init(&j->lock, NULL);
    pthread_mutex_init(&j->render_lock, NULL);
    j->max_entries = max_entries;
    j->max_bytes = max_bytes;
    return EMU_OK;
}

/* Frees a chain linked by `grave`. */
static void free_chain(struct jentry *e)
{
    while (e != NULL) {
        struct jentry *next = e->grave;

        free(e);
        e = next;
    }
}

/* Unlinks the head (under the lock) onto *victims, or onto the grave while a reader is
 * pinned; the caller frees *victims after letting the lock go. */
static void drop_head(struct journal *j, struct jentry **victims)
{
    struct jentry *e = j->head;

    j->head = e->next;
    if (j->head == NULL)
        j->tail = NULL;
    j->count--;
    j->bytes -= e->bytes;
    if (j->readers > 0) {
        e->grave = j->grave;
        j->grave = e;
        j->grave_bytes += e->bytes;
    } else {
        e->grave = *victims;
        *victims = e;
    }
}

void journal_clear(struct journal *j)
{
    struct jentry *victims = NULL;

    pthread_mutex_lock(&j->lock);
    while (j->head != NULL)
        drop_head(j, &victims);
    j->dropped = 0;
    pthread_mutex_unlock(&j->lock);
    free_chain(victims);
}

void journal_free(struct journal *j)
{
    if (j == NULL)
        return;
    journal_clear(j);
    free_chain(j->grave); /* no reader is left */
    pthread_mutex_destroy(&j->lock);
    pthread_mutex_destroy(&j->render_lock);
    free(j);
}

/* A new entry holding copies of r's pieces (its seq is given when it is linked); NULL when out
 * of memory. */
static struct jentry *make_entry(const struct journal_record *r)
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
        return NULL;
    e->next = NULL;
    e->grave = NULL;
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
    return e;
}

void journal_add(struct journal *j, const struct journal_record *r)
{
    struct jentry *e, *victims = NULL;

    if (j->max_entries == 0 || (e = make_entry(r)) == NULL)
        return;
    pthread_mutex_lock(&j->lock);
    /* larger than the whole journal, or the readers' grave is full: dropped at once */
    if (e->bytes > j->max_bytes || (j->readers > 0 && j->grave_bytes > j->max_bytes)) {
        j->dropped++;
        pthread_mutex_unlock(&j->lock);
        free(e);
        return;
    }
    while (j->head != NULL &&
           (j->count + 1 > j->max_entries || j->bytes + e->bytes > j->max_bytes)) {
        drop_head(j, &victims);
        j->dropped++;
    }
    e->seq = ++j->seq;
    if (j->tail != NULL)
        j->tail->next = e;
    else
        j->head = e;
    j->tail = e;
    j->count++;
    j->bytes += e->bytes;
    pthread_mutex_unlock(&j->lock);
    free_chain(victims);
}

/* Pins the journal for a walk without the lock (see the top of the file). */
static void pin(struct journal *j, struct pin *p)
{
    pthread_mutex_lock(&j->lock);
    j->readers++;
    p->first = j->head;
    p->last = j->tail;
    p->dropped = j->dropped;
    pthread_mutex_unlock(&j->lock);
}

static void unpin(struct journal *j)
{
    struct jentry *grave = NULL;

    pthread_mutex_lock(&j->lock);
    if (--j->readers == 0) {
        grave = j->grave;
        j->grave = NULL;
        j->grave_bytes = 0;
    }
    pthread_mutex_unlock(&j->lock);
    free_chain(grave);
}

/* The entry after e in a pinned walk, or NULL past its last. */
static struct jentry *pin_next(const struct pin *p, const struct jentry *e)
{
    return e == p->last ? NULL : e->next;
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

/* One entry as GET /__admin/requests shows it (see the README). New reference. */
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
           (f->path == NULL || path_match(f->path, e->piece[PATH])) &&
           (f->status == 0 || f->status == e->status);
}

/* Collects the newest `limit` (0: all) matching entries of a pinned walk, oldest first:
 * *picked is a new array of *n entries, valid until unpin. */
static int pick(const struct pin *p, const struct journal_filter *f, size_t limit,
                struct jentry ***picked, size_t *n, size_t *total)
{
    size_t matched = 0, skip, k = 0;

    for (struct jentry *e = p->first; e != NULL; e = pin_next(p, e))
        matched += matches(e, f);
    skip = limit > 0 && matched > limit ? matched - limit : 0; /* the newest `limit` */
    *picked = malloc(sizeof(**picked) * (matched - skip + 1));
    *n = 0;
    *total = matched;
    if (*picked == NULL)
        return EMU_NOMEM;
    for (struct jentry *e = p->first; e != NULL; e = pin_next(p, e)) {
        if (!matches(e, f))
            continue;
        if (skip > 0) {
            skip--;
            continue;
        }
        (*picked)[k++] = e;
    }
    *n = k;
    return EMU_OK;
}

/* A growing text buffer; text is NULL after a failed allocation. */
struct text {
    char *text;
    size_t len, cap;
};

static void put(struct text *t, const char *s, size_t n)
{
    if (t->text != NULL && t->len + n + 1 > t->cap) {
        size_t cap = (t->len + n + 1) * 2;
        char *grown = realloc(t->text, cap);

        if (grown == NULL)
            free(t->text);
        t->text = grown;
        t->cap = cap;
    }
    if (t->text != NULL) {
        memcpy(t->text + t->len, s, n);
        t->len += n;
        t->text[t->len] = '\0';
    }
}

size_t journal_read_budget(const struct journal *j)
{
    return j->max_bytes > JOURNAL_READ_MIN_BUDGET ? j->max_bytes : JOURNAL_READ_MIN_BUDGET;
}

/* Renders picked[0..n) into lines[*first..n), newest first, so that when the budget runs out it
 * is the oldest that are left out; *used counts their bytes and newlines. */
static int render_lines(struct jentry **picked, size_t n, size_t budget, char **lines, size_t *lens,
                        size_t *first, size_t *used)
{
    while (*first > 0) {
        json_t *entry = render(picked[*first - 1]);
        char *line = entry ? jsonx_dump(entry, &lens[*first - 1]) : NULL;

        json_decref(entry);
        if (line == NULL)
            return EMU_NOMEM;
        if (*used + lens[*first - 1] + 1 > budget && *first < n) {
            free(line); /* over the budget: this one and older ones are not shown */
            return EMU_OK;
        }
        lines[--*first] = line;
        *used += lens[*first] + 1;
    }
    return EMU_OK;
}

int journal_render(struct journal *j, const struct journal_filter *f, size_t limit, int ndjson,
                   char **out, size_t *len)
{
    struct jentry **picked;
    struct pin p;
    char **lines, tail[128];
    size_t *lens, n, total, used = 0, first, budget = journal_read_budget(j);
    uint64_t dropped;
    struct text t = {NULL, 0, 0};
    int rc;

    *out = NULL;
    *len = 0;
    pthread_mutex_lock(&j->render_lock);
    pin(j, &p);
    dropped = p.dropped;
    rc = pick(&p, f, limit, &picked, &n, &total);
    lines = rc == EMU_OK ? calloc(n + 1, sizeof(*lines)) : NULL;
    lens = rc == EMU_OK ? calloc(n + 1, sizeof(*lens)) : NULL;
    if (rc == EMU_OK && (lines == NULL || lens == NULL))
        rc = EMU_NOMEM;
    first = n;
    if (rc == EMU_OK)
        rc = render_lines(picked, n, budget, lines, lens, &first, &used);
    free(picked);
    unpin(j);
    if (rc == EMU_OK) {
        t.cap = used + 256;
        t.text = malloc(t.cap);
        if (t.text != NULL)
            t.text[0] = '\0';
        if (!ndjson)
            put(&t, "{\"requests\":[", 13);
        for (size_t i = first; i < n; i++) {
            if (!ndjson && i > first)
                put(&t, ",", 1);
            put(&t, lines[i], lens[i]);
            if (ndjson)
                put(&t, "\n", 1);
        }
        snprintf(tail, sizeof(tail), "],\"total\":%zu,\"dropped\":%llu%s}", total,
                 (unsigned long long)dropped, first > 0 ? ",\"truncated\":true" : "");
        if (!ndjson)
            put(&t, tail, strlen(tail));
        rc = t.text != NULL ? EMU_OK : EMU_NOMEM;
    }
    for (size_t i = first; lines != NULL && i < n; i++)
        free(lines[i]);
    free(lines);
    free(lens);
    pthread_mutex_unlock(&j->render_lock);
#ifdef __GLIBC__
    if (used > JOURNAL_READ_MIN_BUDGET)
        malloc_trim(0); /* give the entries' rendering back to the system, not to the arena */
#endif
    *out = t.text;
    *len = t.len;
    return rc;
}

void journal_count(struct journal *j, const struct journal_filter *f, size_t *count, int *complete)
{
    struct pin p;
    size_t n = 0;

    pin(j, &p);
    for (struct jentry *e = p.first; e != NULL; e = pin_next(&p, e))
        n += matches(e, f);
    unpin(j);
    *count = n;
    *complete = p.dropped == 0;
}

void journal_stats(struct journal *j, size_t *entries, size_t *bytes, uint64_t *dropped)
{
    pthread_mutex_lock(&j->lock);
    *entries = j->count;
    *bytes = j->bytes;
    *dropped = j->dropped;
    pthread_mutex_unlock(&j->lock);
}
