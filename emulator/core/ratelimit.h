/* ratelimit.h -- fixed-window request counters on the emulator clock.
 *
 * A window opens at a key's first request and lasts window_ms; within it, the first `limit`
 * requests pass. Counters live in memory only (a restart, like the vendors' own deploys, starts
 * fresh windows) and are cleared by /__admin/reset. Keys begin with the tenant ("demo/..."),
 * so a tenant's counters can be cleared alone. Memory is bounded by the credentials that exist:
 * only authenticated requests reach a counter. */
#ifndef EMU_RATELIMIT_H
#define EMU_RATELIMIT_H

#include <stdint.h>

struct ratelimit;

struct ratelimit_state {
    int allowed;      /* 1: this request is within the limit */
    int limit;        /* the window's size in requests */
    int remaining;    /* requests left in the window after this one */
    int64_t reset_ms; /* when the window closes */
};

int ratelimit_new(struct ratelimit **out);
void ratelimit_free(struct ratelimit *rl);

/* Counts one request for key at now_ms and fills *st. EMU_NOMEM when a new key cannot be
 * stored. */
int ratelimit_hit(struct ratelimit *rl, const char *key, int64_t now_ms, int64_t window_ms,
                  int limit, struct ratelimit_state *st);

struct req;
struct res;

/* What ratelimit_answer writes on the answer besides Retry-After. */
enum ratelimit_headers {
    RATELIMIT_HEADERS = 1 << 0, /* X-RateLimit-Limit, -Remaining, -Reset (Unix seconds) */
    RATELIMIT_WINDOW = 1 << 1,  /* X-RateLimit-Window (seconds) */
};

/* Counts the request against key on the emulator clock and writes the headers asked for.
 * Over the limit: sets res->retry_after (whole seconds, at least 1), adds Retry-After and
 * returns EMU_RATE_LIMITED; otherwise EMU_OK. */
int ratelimit_answer(struct req *req, struct res *res, const char *key, int64_t window_ms,
                     int limit, unsigned headers);

/* Forgets every key starting with prefix ("" for all). */
void ratelimit_clear(struct ratelimit *rl, const char *prefix);

#endif
