/* webhooks.c -- the delivery queue, the worker thread, POSTs and HMAC signatures. */
#include "webhooks.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "app.h"
#include "clock.h"
#include "err.h"
#include "http_client.h"
#include "jsonx.h"
#include "outbox.h"
#include "store.h"

#define QUEUE_MAX 1024
#define ATTEMPTS  3
#define TIMEOUT_S 30

/* One POST in flight. A thread of its own sends it, so that the worker -- the only thread
 * that writes deliveries' outcomes into the store -- never blocks on a receiver and can always
 * be joined at once when the server stops; a sender still waiting on its receiver then is
 * left behind (it holds no store handle and nothing of struct webhooks) and ends with the
 * process. Freed by whichever of the worker and the sender lets go last. */
struct transfer {
    pthread_mutex_t lock;
    pthread_cond_t done_cv;
    int refs;         /* the worker's and the sender's */
    int done;         /* the sender has an outcome in status and error */
    int abandoned;    /* the server stops: the worker waits no more */
    json_t *delivery; /* the sender's own copy */
    long status;      /* the receiver's HTTP status, or 0 */
    char error[256];  /* why there is no status */
};

struct webhooks {
    struct app *app;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    json_t *queue;            /* deliveries waiting, oldest first */
    struct transfer *current; /* the POST the worker waits for, or NULL */
    atomic_int stopping;
};

void webhooks_sign(const char *secret, const char *body, size_t len, char out[65])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;

    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len, mac,
         &mac_len);
    for (unsigned int i = 0; i < mac_len && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
    out[64] = '\0';
}

int webhooks_url_valid(const char *url)
{
    const char *host, *end, *port = NULL;
    size_t scheme;

    if (url == NULL)
        return 0;
    for (const char *p = url; *p != '\0'; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return 0; /* control characters and spaces: never part of a URL (RFC 3986) */
    if (strncasecmp(url, "http://", 7) == 0)
        scheme = 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        scheme = 8;
    else
        return 0;
    host = url + scheme;
    end = host + strcspn(host, "/?#");
    if (memchr(host, '@', (size_t)(end - host)) != NULL)
        host = (const char *)memchr(host, '@', (size_t)(end - host)) + 1; /* user info */
    if (*host == '[') {                                                   /* an IPv6 literal */
        const char *close = memchr(host, ']', (size_t)(end - host));

        if (close == NULL || close == host + 1)
            return 0;
        port = close[1] == ':' ? close + 2 : NULL;
        if (close + 1 != end && port == NULL)
            return 0;
    } else {
        const char *colon = memchr(host, ':', (size_t)(end - host));

        if ((colon ? colon : end) == host)
            return 0; /* no host */
        port = colon ? colon + 1 : NULL;
    }
    if (port != NULL) {
        long n = 0;

        if (port == end || (size_t)(end - port) > 5)
            return 0;
        for (const char *p = port; p < end; p++) {
            if (*p < '0' || *p > '9')
                return 0;
            n = n * 10 + (*p - '0');
        }
        if (n < 1 || n > 65535)
            return 0;
    }
    return 1;
}

/* Appends one attempt to the delivery's outbox entry, and the outcome when it is final. */
static void record_attempt(struct webhooks *w, const json_t *d, long status, const char *error,
                           int final, int delivered)
{
    struct store_txn *txn;
    json_t *entry, *attempt;
    char at[32];

    if (store_txn_begin(w->app->store, 1, &txn) != EMU_OK)
        return;
    if (store_get(txn, OUTBOX_TABLE, jsonx_string(d, "outbox_key"), &entry) != EMU_OK) {
        store_txn_abort(txn); /* the outbox was emptied meanwhile */
        return;
    }
    clock_format_iso_ms(clock_now_ms(&w->app->clock), at, sizeof(at));
    attempt = json_pack("{s:s,s:o,s:s?}", "at", at, "status",
                        status > 0 ? json_integer(status) : json_null(), "error", error);
    json_array_append_new(json_object_get(entry, "attempts"), attempt);
    if (final)
        json_object_set_new(entry, "delivered", json_boolean(delivered));
    if (store_put(txn, OUTBOX_TABLE, jsonx_string(d, "outbox_key"), entry) == EMU_OK)
        store_txn_commit(txn);
    else
        store_txn_abort(txn);
    json_decref(entry);
}

/* One POST; returns the HTTP status, or 0 with a sentence in error. */
static long post_once(const json_t *d, char *error, size_t errlen)
{
    const char *body = jsonx_string(d, "body"), *name, *lines[24];
    char buf[24][600], signature[65];
    struct http_answer a;
    json_t *value;
    long status;
    int n = 0;

    webhooks_sign(jsonx_string(d, "secret") ? jsonx_string(d, "secret") : "", body, strlen(body),
                  signature);
    snprintf(buf[n], sizeof(buf[n]), "User-Agent: whatsmark-Webhook/1.0");
    lines[n] = buf[n], n++;
    snprintf(buf[n], sizeof(buf[n]), "Content-Type: application/json");
    lines[n] = buf[n], n++;
    snprintf(buf[n], sizeof(buf[n]), "Accept: application/json");
    lines[n] = buf[n], n++;
    snprintf(buf[n], sizeof(buf[n]), "X-Webhook-Signature: %s", signature);
    lines[n] = buf[n], n++;
    json_object_foreach(json_object_get(d, "headers"), name, value)
    {
        if (n == 24)
            break;
        snprintf(buf[n], sizeof(buf[n]), "%s: %s", name, json_string_value(value));
        lines[n] = buf[n], n++;
    }
    if (http_client_request(jsonx_string(d, "url"), "POST", lines, n, body, strlen(body),
                            TIMEOUT_S * 1000, &a, error, errlen) != EMU_OK)
        return 0;
    status = a.status;
    http_answer_clear(&a);
    return status;
}

static void transfer_release(struct transfer *t)
{
    int last;

    pthread_mutex_lock(&t->lock);
    last = --t->refs == 0;
    pthread_mutex_unlock(&t->lock);
    if (!last)
        return;
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->done_cv);
    json_decref(t->delivery);
    free(t);
}

static void *sender(void *arg)
{
    struct transfer *t = arg;
    char error[256] = "";
    long status = post_once(t->delivery, error, sizeof(error));

    pthread_mutex_lock(&t->lock);
    t->status = status;
    memcpy(t->error, error, sizeof(error));
    t->done = 1;
    pthread_cond_broadcast(&t->done_cv);
    pthread_mutex_unlock(&t->lock);
    transfer_release(t);
    return NULL;
}

/* Sends d once, from a sender thread, and waits for its outcome or for the server to stop.
 * Returns 1 with *status and error filled, or 0 when the server stops first (or no thread
 * could be started: then error says so and *status is 0). */
static int post_from_sender(struct webhooks *w, const json_t *d, long *status, char *error,
                            size_t errlen)
{
    struct transfer *t = calloc(1, sizeof(*t));
    pthread_attr_t attr;
    pthread_t thread;
    int stopping, started, finished;

    *status = 0;
    if (t == NULL || (t->delivery = json_deep_copy(d)) == NULL) {
        free(t);
        snprintf(error, errlen, "not sent: out of memory");
        return 1;
    }
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->done_cv, NULL);
    t->refs = 2;
    pthread_mutex_lock(&w->lock);
    stopping = atomic_load(&w->stopping); /* webhooks_stop has passed already: do not start */
    if (!stopping)
        w->current = t;
    pthread_mutex_unlock(&w->lock);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    started = !stopping && pthread_create(&thread, &attr, sender, t) == 0;
    pthread_attr_destroy(&attr);
    pthread_mutex_lock(&t->lock);
    if (!started) {
        t->refs = 1; /* no sender holds it */
        if (!stopping)
            snprintf(error, errlen, "not sent: no thread to send it");
    }
    while (started && !t->done && !t->abandoned)
        pthread_cond_wait(&t->done_cv, &t->lock);
    finished = started ? t->done : !stopping;
    *status = t->status;
    if (t->done)
        snprintf(error, errlen, "%s", t->error);
    pthread_mutex_unlock(&t->lock);
    pthread_mutex_lock(&w->lock);
    w->current = NULL; /* from here webhooks_stop cannot reach t */
    pthread_mutex_unlock(&w->lock);
    transfer_release(t);
    return finished;
}

/* Waits ms milliseconds of real time, or less if the server stops. */
static void pause_for(struct webhooks *w, unsigned ms)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(ms / 1000);
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->lock);
    while (!atomic_load(&w->stopping) && pthread_cond_timedwait(&w->wake, &w->lock, &until) == 0)
        ;
    pthread_mutex_unlock(&w->lock);
}

static void deliver(struct webhooks *w, const json_t *d)
{
    const unsigned *pauses = w->app->cfg.webhook_pauses_ms; /* ATTEMPTS - 1 of them */
    char error[256];

    for (int attempt = 1; attempt <= ATTEMPTS && !atomic_load(&w->stopping); attempt++) {
        long status;

        error[0] = '\0';
        if (!post_from_sender(w, d, &status, error, sizeof(error)))
            return; /* the server stops: nothing more is written */
        if (status >= 200 && status < 300) {
            record_attempt(w, d, status, NULL, 1, 1);
            return;
        }
        if (error[0] == '\0')
            snprintf(error, sizeof(error), "the receiver answered %ld", status);
        record_attempt(w, d, status, error, attempt == ATTEMPTS, 0);
        if (attempt < ATTEMPTS)
            pause_for(w, pauses[attempt - 1]);
    }
}

static void *worker(void *arg)
{
    struct webhooks *w = arg;

    for (;;) {
        json_t *d;

        pthread_mutex_lock(&w->lock);
        while (!atomic_load(&w->stopping) && json_array_size(w->queue) == 0)
            pthread_cond_wait(&w->wake, &w->lock);
        if (atomic_load(&w->stopping)) {
            pthread_mutex_unlock(&w->lock);
            return NULL;
        }
        d = json_incref(json_array_get(w->queue, 0));
        json_array_remove(w->queue, 0);
        pthread_mutex_unlock(&w->lock);
        deliver(w, d);
        json_decref(d);
    }
}

int webhooks_start(struct app *app, struct webhooks **out)
{
    struct webhooks *w = calloc(1, sizeof(*w));

    *out = NULL;
    if (w == NULL || (w->queue = json_array()) == NULL) {
        free(w);
        return EMU_NOMEM;
    }
    w->app = app;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    if (pthread_create(&w->thread, NULL, worker, w) != 0) {
        json_decref(w->queue);
        free(w);
        return EMU_INTERNAL;
    }
    *out = w;
    return EMU_OK;
}

void webhooks_stop(struct webhooks *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->lock);
    atomic_store(&w->stopping, 1);
    pthread_cond_broadcast(&w->wake);
    if (w->current != NULL) { /* the worker waits for a POST: it waits no more */
        pthread_mutex_lock(&w->current->lock);
        w->current->abandoned = 1;
        pthread_cond_broadcast(&w->current->done_cv);
        pthread_mutex_unlock(&w->current->lock);
    }
    pthread_mutex_unlock(&w->lock);
    /* The worker never blocks on the network, so this returns at once, and once it has the
     * store is no longer written from here: the caller may close it. */
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    json_decref(w->queue);
    free(w);
}

void webhooks_enqueue(struct webhooks *w, const json_t *deliveries)
{
    size_t i;
    json_t *d;

    if (w == NULL)
        return;
    json_array_foreach(deliveries, i, d)
    {
        int full;

        pthread_mutex_lock(&w->lock);
        full = json_array_size(w->queue) >= QUEUE_MAX;
        if (!full)
            json_array_append(w->queue, d);
        pthread_cond_signal(&w->wake);
        pthread_mutex_unlock(&w->lock);
        if (full)
            record_attempt(w, d, 0, "not sent: more than 1024 deliveries were waiting", 1, 0);
    }
}
