/* metrics.c -- label sets counted in two string maps (answers, injected faults) under one mutex,
 * rendered on demand. */
#include "metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

#define BUCKETS 128

struct metrics {
    pthread_mutex_t lock;
    struct strmap *requests, *faults; /* rendered Prometheus labels -> unsigned long long */
};

int metrics_new(struct metrics **out)
{
    *out = calloc(1, sizeof(**out));
    if (*out == NULL)
        return -1;
    (*out)->requests = strmap_new(BUCKETS, sizeof(unsigned long long));
    (*out)->faults = strmap_new(BUCKETS, sizeof(unsigned long long));
    if ((*out)->requests == NULL || (*out)->faults == NULL) {
        strmap_free((*out)->requests);
        strmap_free((*out)->faults);
        free(*out);
        *out = NULL;
        return -1;
    }
    pthread_mutex_init(&(*out)->lock, NULL);
    return 0;
}

void metrics_reset(struct metrics *m)
{
    pthread_mutex_lock(&m->lock);
    strmap_remove_prefix(m->requests, "");
    strmap_remove_prefix(m->faults, "");
    pthread_mutex_unlock(&m->lock);
}

void metrics_free(struct metrics *m)
{
    if (m == NULL)
        return;
    strmap_free(m->requests);
    strmap_free(m->faults);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* Copies s into out with the escapes Prometheus label values need. */
static void escape(const char *s, char *out, size_t len)
{
    size_t n = strcspn(s, "\"\\\n");

    if (s[n] == '\0' && n < len) { /* the usual case: nothing to escape */
        memcpy(out, s, n + 1);
        return;
    }
    n = 0;
    for (; *s && n + 3 < len; s++) {
        if (*s == '"' || *s == '\\')
            out[n++] = '\\';
        out[n++] = *s == '\n' ? ' ' : *s;
    }
    out[n] = '\0';
}

static void bump(struct metrics *m, struct strmap *counters, const char *labels)
{
    unsigned long long *value;
    int added;

    pthread_mutex_lock(&m->lock);
    value = strmap_find_or_add(counters, labels, &added);
    if (value != NULL)
        (*value)++;
    pthread_mutex_unlock(&m->lock);
}

/* Appends a then b to buf (size len), as far as they fit. */
static void append(char *buf, size_t len, const char *a, const char *b)
{
    size_t used = strlen(buf), la = strlen(a), lb = strlen(b);

    if (used + la + lb + 1 > len)
        return;
    memcpy(buf + used, a, la);
    memcpy(buf + used + la, b, lb + 1);
}

void metrics_count(struct metrics *m, const char *vendor, const char *method, const char *route,
                   int status, const char *tenant)
{
    char labels[1024], v[64], r[512], t[128];
    char code[4] = {(char)('0' + status / 100 % 10), (char)('0' + status / 10 % 10),
                    (char)('0' + status % 10), '\0'};

    escape(vendor, v, sizeof(v));
    escape(route, r, sizeof(r));
    escape(tenant, t, sizeof(t));
    /* Counted on every answer: joined by hand rather than through printf. */
    labels[0] = '\0';
    append(labels, sizeof(labels), "vendor=\"", v);
    append(labels, sizeof(labels), "\",route=\"", method);
    append(labels, sizeof(labels), " ", r);
    append(labels, sizeof(labels), "\",status=\"", code);
    append(labels, sizeof(labels), "\",tenant=\"", t);
    append(labels, sizeof(labels), "\"", "");
    bump(m, m->requests, labels);
}

void metrics_fault(struct metrics *m, const char *scenario)
{
    char labels[256], s[200];

    escape(scenario, s, sizeof(s));
    snprintf(labels, sizeof(labels), "scenario=\"%s\"", s);
    bump(m, m->faults, labels);
}

/* Appends printf output to a growing buffer. */
static void put(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (*buf == NULL)
        return;
    for (;;) {
        char *grown;

        va_start(ap, fmt);
        n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < *cap - *len) {
            *len += (size_t)n;
            return;
        }
        grown = realloc(*buf, *cap * 2 + (size_t)(n > 0 ? n : 0));
        if (grown == NULL) {
            free(*buf);
            *buf = NULL;
            return;
        }
        *cap = *cap * 2 + (size_t)(n > 0 ? n : 0);
        *buf = grown;
    }
}

/* A growing text and the metric name its lines start with, for strmap_each. */
struct rendering {
    char *buf;
    size_t *len, cap;
    const char *name;
};

static void put_counter(const char *labels, void *value, void *ctx)
{
    struct rendering *r = ctx;

    put(&r->buf, r->len, &r->cap, "%s{%s} %llu\n", r->name, labels, *(unsigned long long *)value);
}

char *metrics_render(struct metrics *m, const struct metrics_gauge *gauges, size_t ngauges,
                     size_t *len)
{
    struct rendering r = {.buf = malloc(4096), .len = len, .cap = 4096};

    *len = 0;
    put(&r.buf, len, &r.cap,
        "# HELP understudy_requests_total Requests answered, by vendor, route, "
        "status and tenant.\n# TYPE understudy_requests_total counter\n");
    pthread_mutex_lock(&m->lock);
    r.name = "understudy_requests_total";
    strmap_each(m->requests, put_counter, &r);
    put(&r.buf, len, &r.cap,
        "# HELP understudy_injected_faults_total Answers a scenario rule gave, "
        "by scenario.\n# TYPE understudy_injected_faults_total counter\n");
    r.name = "understudy_injected_faults_total";
    strmap_each(m->faults, put_counter, &r);
    pthread_mutex_unlock(&m->lock);
    for (size_t i = 0; i < ngauges; i++)
        put(&r.buf, len, &r.cap, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", gauges[i].name,
            gauges[i].help, gauges[i].name, gauges[i].counter ? "counter" : "gauge", gauges[i].name,
            gauges[i].value);
    return r.buf;
}
