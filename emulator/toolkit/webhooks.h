/* webhooks.h -- outbound webhook deliveries: a queue and one worker thread.
 *
 * The only module that includes OpenSSL's HMAC; it sends with net/http_client.c. A vendor that
 * fires an event records it in the outbox and adds a delivery to the request's deferred list; the
 * dispatcher hands the list over once the request's transaction has committed, so a rolled-back
 * request never fires and an answer never waits for a delivery. The worker POSTs each delivery up
 * to three times, pausing 1 s and then 2 s of real time (cfg.webhook_pauses_ms, which only tests
 * change, see config.h), each attempt with a 30 s timeout, and writes every attempt and the
 * outcome into the delivery's outbox entry. */
#ifndef EMU_WEBHOOKS_H
#define EMU_WEBHOOKS_H

#include <stddef.h>

#include <jansson.h>

struct app;
struct webhooks;

/* Starts the worker. EMU_NOMEM or EMU_INTERNAL on failure. */
int webhooks_start(struct app *app, struct webhooks **out);
/* Stops the worker and joins it, at once: a POST in flight is abandoned (its outcome is not
 * recorded), queued deliveries are dropped. Once it returns nothing here touches the store,
 * so the store may be closed. NULL is fine. */
void webhooks_stop(struct webhooks *w);

/* Queues each delivery of the array deliveries (borrowed): objects {tenant, outbox_key, url,
 * secret, event, body, headers{}}. A delivery the full queue cannot take is recorded as
 * failed. */
void webhooks_enqueue(struct webhooks *w, const json_t *deliveries);

/* 1 when url is an absolute http:// or https:// URL (scheme in any case) with a host, an
 * optional port from 1 to 65535, and no spaces or control characters anywhere: what a tenant's
 * webhook_url must be. */
int webhooks_url_valid(const char *url);

/* Writes the lowercase hex HMAC-SHA256 of body under secret into out[65]. */
void webhooks_sign(const char *secret, const char *body, size_t len, char out[65]);

#endif
