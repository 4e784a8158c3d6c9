/* metrics.h -- request counters for GET /__admin/metrics, in Prometheus' text format.
 *
 * One counter per vendor, route, status and tenant, and one per scenario that injected an
 * answer; the journal's and the store's sizes are read when the page is written. */
#ifndef EMU_METRICS_H
#define EMU_METRICS_H

#include <stddef.h>

struct metrics;
struct app;

int metrics_new(struct metrics **out);
void metrics_free(struct metrics *m);
/* Counts one answer. route is the route pattern, or "-" when none matched. */
void metrics_count(struct metrics *m, const char *vendor, const char *method, const char *route,
                   int status, const char *tenant);
/* Counts one answer a scenario rule gave. */
void metrics_fault(struct metrics *m, const char *scenario);
void metrics_reset(struct metrics *m);
/* The whole page as new malloc'd text. */
char *metrics_render(struct metrics *m, struct app *app, size_t *len);

#endif
