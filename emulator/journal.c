/* journal.c -- a FIFO of compact JSON entries under one mutex. */
#include "journal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jsonx.h"
#include "router.h"

struct jentry {
    struct jentry *next;
    char tenant[64], vendor[16], method[16];
    char *path;
    int status;
    char *text; /* the entry, compact JSON */
    size_t len;
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
    j->bytes -= e->len;
    free(e->path);
    free(e->text);
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

void journal_add(struct journal *j, json_t *entry, const char *tenant, const char *vendor,
                 const char *method, const char *path, int status)
{
    struct jentry *e;
    json_t *ordered;

    if (j->max_entries == 0 || (e = calloc(1, sizeof(*e))) == NULL) {
        json_decref(entry);
        return;
    }
    /* The entry is rendered before the lock is taken: answers never queue behind a dump. */
    ordered = json_pack("{s:I}", "seq", (json_int_t)atomic_fetch_add(&j->seq, 1) + 1);
    if (ordered != NULL)
        json_object_update(ordered, entry);
    e->text = ordered ? jsonx_dump(ordered, &e->len) : NULL;
    json_decref(ordered);
    json_decref(entry);
    e->path = strdup(path);
    snprintf(e->tenant, sizeof(e->tenant), "%s", tenant);
    snprintf(e->vendor, sizeof(e->vendor), "%s", vendor);
    snprintf(e->method, sizeof(e->method), "%s", method);
    e->status = status;
    pthread_mutex_lock(&j->lock);
    if (e->text == NULL || e->path == NULL || e->len > j->max_bytes) {
        j->dropped++; /* one entry larger than the whole journal is dropped at once */
        pthread_mutex_unlock(&j->lock);
        free(e->text);
        free(e->path);
        free(e);
        return;
    }
    while (j->head != NULL && (j->count + 1 > j->max_entries || j->bytes + e->len > j->max_bytes)) {
        drop_head(j);
        j->dropped++;
    }
    if (j->tail != NULL)
        j->tail->next = e;
    else
        j->head = e;
    j->tail = e;
    j->count++;
    j->bytes += e->len;
    pthread_mutex_unlock(&j->lock);
}

static int matches(const struct jentry *e, const struct journal_filter *f)
{
    return (f->tenant == NULL || strcmp(f->tenant, e->tenant) == 0) &&
           (f->vendor == NULL || strcmp(f->vendor, e->vendor) == 0) &&
           (f->method == NULL || strcasecmp(f->method, e->method) == 0) &&
           (f->path == NULL || router_path_match(f->path, e->path, NULL)) &&
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
        json_array_append_new(*out, json_loadb(e->text, e->len, 0, NULL));
    }
    *total = n;
    *dropped = j->dropped;
    pthread_mutex_unlock(&j->lock);
    return EMU_OK;
}

int journal_ndjson(struct journal *j, const struct journal_filter *f, char **out, size_t *len)
{
    size_t cap = 1, used = 0;
    char *text;

    pthread_mutex_lock(&j->lock);
    for (struct jentry *e = j->head; e != NULL; e = e->next)
        if (matches(e, f))
            cap += e->len + 1;
    text = malloc(cap);
    for (struct jentry *e = j->head; text != NULL && e != NULL; e = e->next) {
        if (!matches(e, f))
            continue;
        memcpy(text + used, e->text, e->len);
        used += e->len;
        text[used++] = '\n';
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
