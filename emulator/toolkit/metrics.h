/* metrics.h -- request counters for GET /__admin/metrics, in Prometheus' text format.
 *
 * One counter per vendor, route, status and tenant, and one per scenario that injected an
 * answer. Numbers kept elsewhere (the journal's and the store's sizes) are handed in by whoever
 * owns them when the page is written, as struct metrics_gauge rows. */
#ifndef EMU_METRICS_H
#define EMU_METRICS_H

#include <stddef.h>

struct metrics;

/* One number shown on the page: "# HELP name help", "# TYPE name gauge|counter", "name value". */
struct metrics_gauge {
    const char *name; /* "understudy_store_bytes" */
    const char *help; /* one sentence */
    int counter;      /* 1: a counter (only grows); 0: a gauge */
    unsigned long long value;
};

int metrics_new(struct metrics **out);
void metrics_free(struct metrics *m);
/* Counts one answer. route is the route pattern, or "-" when none matched. */
void metrics_count(struct metrics *m, const char *vendor, const char *method, const char *route,
                   int status, const char *tenant);
/* Counts one answer a scenario rule gave. */
void metrics_fault(struct metrics *m, const char *scenario);
void metrics_reset(struct metrics *m);
/* The whole page as new malloc'd text: the counters, then the ngauges rows of gauges in order. */
char *metrics_render(struct metrics *m, const struct metrics_gauge *gauges, size_t ngauges,
                     size_t *len);

#endif
