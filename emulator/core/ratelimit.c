/* ratelimit.c -- fixed windows in a string map keyed by "<tenant>/<scope>", under one mutex. */
#include "ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "err.h"
#include "strmap.h"
#include "req.h"

#define BUCKETS 256

struct window {
    int64_t start_ms;
    int count;
};

struct ratelimit {
    pthread_mutex_t lock;
    struct strmap *windows; /* key -> struct window */
};

int ratelimit_new(struct ratelimit **out)
{
    struct ratelimit *rl = calloc(1, sizeof(*rl));

    *out = rl;
    if (rl == NULL)
        return EMU_NOMEM;
    rl->windows = strmap_new(BUCKETS, sizeof(struct window));
    if (rl->windows == NULL) {
        free(rl);
        *out = NULL;
        return EMU_NOMEM;
    }
    pthread_mutex_init(&rl->lock, NULL);
    return EMU_OK;
}

void ratelimit_free(struct ratelimit *rl)
{
    if (rl == NULL)
        return;
    strmap_free(rl->windows);
    pthread_mutex_destroy(&rl->lock);
    free(rl);
}

int ratelimit_hit(struct ratelimit *rl, const char *key, int64_t now_ms, int64_t window_ms,
                  int limit, struct ratelimit_state *st)
{
    struct window *w;
    int added;

    pthread_mutex_lock(&rl->lock);
    w = strmap_find_or_add(rl->windows, key, &added);
    if (w == NULL) {
        pthread_mutex_unlock(&rl->lock);
        return EMU_NOMEM;
    }
    if (added)
        w->start_ms = now_ms;
    /* A clock moved back (a new --clock, a freeze in the past) also opens a new window. */
    if (now_ms >= w->start_ms + window_ms || now_ms < w->start_ms) {
        w->start_ms = now_ms;
        w->count = 0;
    }
    st->allowed = w->count < limit;
    if (st->allowed)
        w->count++;
    st->limit = limit;
    st->remaining = limit - w->count;
    st->reset_ms = w->start_ms + window_ms;
    pthread_mutex_unlock(&rl->lock);
    return EMU_OK;
}

void ratelimit_clear(struct ratelimit *rl, const char *prefix)
{
    pthread_mutex_lock(&rl->lock);
    strmap_remove_prefix(rl->windows, prefix);
    pthread_mutex_unlock(&rl->lock);
}

int ratelimit_answer(struct req *req, struct res *res, const char *key, int64_t window_ms,
                     int limit, unsigned headers)
{
    struct ratelimit_state st;
    int rc = ratelimit_hit(req->app->limits, key, req->now_ms, window_ms, limit, &st);

    if (rc != EMU_OK)
        return rc;
    if (headers & RATELIMIT_HEADERS) {
        res_header(res, "X-RateLimit-Limit", "%d", st.limit);
        res_header(res, "X-RateLimit-Remaining", "%d", st.remaining);
        res_header(res, "X-RateLimit-Reset", "%lld", (long long)((st.reset_ms + 999) / 1000));
    }
    if (headers & RATELIMIT_WINDOW)
        res_header(res, "X-RateLimit-Window", "%lld", (long long)(window_ms / 1000));
    if (st.allowed)
        return EMU_OK;
    res->retry_after = (int)((st.reset_ms - req->now_ms + 999) / 1000);
    if (res->retry_after < 1)
        res->retry_after = 1;
    res_header(res, "Retry-After", "%d", res->retry_after);
    return EMU_RATE_LIMITED;
}
