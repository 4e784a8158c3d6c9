/* metrics.c -- label sets counted in a small mutex-guarded hash, rendered on demand. */
#include "metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

#define BUCKETS 128

struct counter {
    struct counter *next;
    int fault; /* 1: an injected-fault counter; 0: a request counter */
    unsigned long long value;
    char labels[]; /* rendered Prometheus labels: vendor="x",route="y",... */
};

struct metrics {
    pthread_mutex_t lock;
    struct counter *buckets[BUCKETS];
};

int metrics_new(struct metrics **out)
{
    *out = calloc(1, sizeof(**out));
    if (*out == NULL)
        return -1;
    pthread_mutex_init(&(*out)->lock, NULL);
    return 0;
}

void metrics_reset(struct metrics *m)
{
    pthread_mutex_lock(&m->lock);
    for (int b = 0; b < BUCKETS; b++) {
        while (m->buckets[b] != NULL) {
            struct counter *c = m->buckets[b];

            m->buckets[b] = c->next;
            free(c);
        }
    }
    pthread_mutex_unlock(&m->lock);
}

void metrics_free(struct metrics *m)
{
    if (m == NULL)
        return;
    metrics_reset(m);
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

static void bump(struct metrics *m, const char *labels, int fault)
{
    unsigned h = hash_fnv1a32(labels) % BUCKETS;
    struct counter *c;

    pthread_mutex_lock(&m->lock);
    for (c = m->buckets[h]; c != NULL; c = c->next)
        if (c->fault == fault && strcmp(c->labels, labels) == 0)
            break;
    if (c == NULL && (c = calloc(1, sizeof(*c) + strlen(labels) + 1)) != NULL) {
        strcpy(c->labels, labels);
        c->fault = fault;
        c->next = m->buckets[h];
        m->buckets[h] = c;
    }
    if (c != NULL)
        c->value++;
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
    bump(m, labels, 0);
}

void metrics_fault(struct metrics *m, const char *scenario)
{
    char labels[256], s[200];

    escape(scenario, s, sizeof(s));
    snprintf(labels, sizeof(labels), "scenario=\"%s\"", s);
    bump(m, labels, 1);
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

char *metrics_render(struct metrics *m, const struct metrics_gauge *gauges, size_t ngauges,
                     size_t *len)
{
    size_t cap = 4096;
    char *buf = malloc(cap);

    *len = 0;
    put(&buf, len, &cap,
        "# HELP understudy_requests_total Requests answered, by vendor, route, "
        "status and tenant.\n# TYPE understudy_requests_total counter\n");
    pthread_mutex_lock(&m->lock);
    for (int b = 0; b < BUCKETS; b++)
        for (struct counter *c = m->buckets[b]; c != NULL; c = c->next)
            if (!c->fault)
                put(&buf, len, &cap, "understudy_requests_total{%s} %llu\n", c->labels, c->value);
    put(&buf, len, &cap,
        "# HELP understudy_injected_faults_total Answers a scenario rule gave, "
        "by scenario.\n# TYPE understudy_injected_faults_total counter\n");
    for (int b = 0; b < BUCKETS; b++)
        for (struct counter *c = m->buckets[b]; c != NULL; c = c->next)
            if (c->fault)
                put(&buf, len, &cap, "understudy_injected_faults_total{%s} %llu\n", c->labels,
                    c->value);
    pthread_mutex_unlock(&m->lock);
    for (size_t i = 0; i < ngauges; i++)
        put(&buf, len, &cap, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", gauges[i].name,
            gauges[i].help, gauges[i].name, gauges[i].counter ? "counter" : "gauge", gauges[i].name,
            gauges[i].value);
    return buf;
}
