/* app.h -- the server's long-lived state, created by main before the HTTP server starts.
 *
 * Every request thread (and the webhook worker) shares all of it, so each member is either
 * read-only once the server runs or guards itself:
 *   read-only: cfg, fixtures, data_dir, and outside this struct the vendor registry
 *     (vendors.h) and its table list, both set by main before any thread starts (the
 *     fixtures' rows may be loaded on first use, by a writer: LMDB serialises writers);
 *   its own lock: the clock, the rate limiter, the journal, the metrics, the scenarios and
 *     their counters, the webhook queue;
 *   LMDB's concurrency: the store (one transaction per request; writers are serialised);
 *   atomics: ready and answers.
 * The server itself (server/http_server.c) keeps its own counters of connections and requests
 * in flight, also atomic, and one Date header cache per worker thread; net/civetweb_compat.c
 * keeps its table of connections under its own lock. */
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
struct reqlog;
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
    struct reqlog *reqlog;       /* the request log's writer while the server runs; NULL with
                                  * --log off (set and cleared by the server) */
    struct scenarios *scenarios; /* known and active scenarios, and their counters */
    char data_dir[PATH_MAX];
    int data_dir_is_temp;  /* 1: removed at exit */
    atomic_int ready;      /* 1 once the store is open and seeded */
    atomic_ullong answers; /* answers numbered so far (request ids); reset with the data */
    int skip_delays;       /* 1: scenario delays are decided but not waited (the fuzz targets,
                            * which must not sleep); never set by the binary */
};

#endif
