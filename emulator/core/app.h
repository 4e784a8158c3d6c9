/* app.h -- the server's long-lived state, created before the HTTP server starts.
 *
 * Request threads share only what is here: the store (LMDB handles its own concurrency), the
 * clock and the rate limiter (each with its own lock), and read-only configuration and
 * fixtures. */
#ifndef EMU_APP_H
#define EMU_APP_H

#include <limits.h>
#include <stdatomic.h>

#include "clock.h"
#include "config.h"

struct store;
struct ratelimit;
struct fixtures;
struct webhooks;
struct journal;
struct metrics;
struct scenarios;

struct app {
    struct config cfg;
    struct store *store;
    struct clock clock;
    struct ratelimit *limits;
    struct fixtures *fixtures;   /* parsed once at start; read-only afterwards */
    struct webhooks *webhooks;   /* the outbound delivery worker */
    struct journal *journal;     /* every request and answer, bounded */
    struct metrics *metrics;     /* counters for /__admin/metrics */
    struct scenarios *scenarios; /* known and active scenarios, and their counters */
    char data_dir[PATH_MAX];
    int data_dir_is_temp;  /* 1: removed at exit */
    atomic_int ready;      /* 1 once the store is open and seeded */
    atomic_ullong answers; /* answers numbered so far (request ids); reset with the data */
};

#endif
