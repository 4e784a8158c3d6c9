/* events.c -- RASL's outbound webhooks: contact, status and source created/updated/deleted.
 *
 * When the tenant has a webhook_url, an event builds the vendor's n8n-format payload, records
 * the delivery in the outbox (inside the request's transaction) and adds it to the request's
 * deferred deliveries; the core sends it once the transaction has committed, signed with the
 * tenant's webhook_secret (X-Webhook-Signature, hex HMAC-SHA256 of the body). */
#include "rasl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "clock.h"
#include "err.h"
#include "jsonx.h"
#include "outbox.h"
#include "req.h"
#include "rng.h"
#include "store.h"

#define EVENT_SEED_SALT 0x45565453ULL /* "EVTS": event ids' own stream */

/* {id, name[, color]} of a related row, or null. */
static json_t *relation(struct req *req, const char *table, const json_t *id, int with_color)
{
    json_t *row, *out;

    if (!json_is_integer(id) || rasl_get(req, table, json_integer_value(id), &row) != EMU_OK)
        return json_null();
    out = json_pack("{s:O,s:O}", "id", json_object_get(row, "id"), "name",
                    json_object_get(row, "name"));
    if (with_color)
        json_object_set(out, "color", json_object_get(row, "color"));
    json_decref(row);
    return out;
}

static json_t *contact_relationships(struct req *req, const json_t *contact)
{
    json_t *groups = json_array(), *g;
    size_t i;

    json_array_foreach(json_object_get(contact, "group_id"), i, g)
    {
        json_t *rel = relation(req, RASL_GROUPS, g, 0);

        if (json_is_null(rel))
            json_decref(rel);
        else
            json_array_append_new(groups, rel);
    }
    return json_pack("{s:o,s:o,s:o,s:n}", "status",
                     relation(req, RASL_STATUSES, json_object_get(contact, "status_id"), 1),
                     "source",
                     relation(req, RASL_SOURCES, json_object_get(contact, "source_id"), 0),
                     "groups", groups, "assigned_to");
}

static json_t *modified_fields(const json_t *previous, const json_t *current)
{
    json_t *keys = json_array(), *value;
    const char *key;

    json_object_foreach((json_t *)current, key, value)
    {
        if (strcmp(key, "updated_at") != 0 && !json_equal(value, json_object_get(previous, key)))
            json_array_append_new(keys, json_string(key));
    }
    return keys;
}

/* The event's body as the vendor sends it: the event, the tenant's account, the row (doc) with
 * its relationships, and what changed from previous (may be NULL). New malloc'd text, or NULL
 * when out of memory. */
static char *event_body(struct req *req, const char *event, const char *type, const json_t *doc,
                        const json_t *previous, const char *event_id, const char *uuid,
                        const char *now)
{
    json_t *account = NULL, *attributes, *payload;
    char *body;

    rasl_account_row(req, &account);

    attributes = json_deep_copy(doc);
    if (strcmp(type, "contact") == 0) {
        json_object_del(attributes, "status_id");
        json_object_del(attributes, "source_id");
        json_object_del(attributes, "assigned_id");
    }
    payload = json_pack(
        "{s:{s:s,s:s,s:s,s:s},s:{s:O,s:O,s:O},s:{s:{s:s,s:O,s:o},s:o},s:{s:O,s:O,s:o},s:{s:s,s:s,"
        "s:s}}",
        "event", "id", event_id, "type", event, "timestamp", now, "version", "1.0", "tenant", "id",
        account ? json_object_get(account, "id") : json_null(), "name",
        account ? json_object_get(account, "name") : json_null(), "domain",
        account ? json_object_get(account, "subdomain") : json_null(), "data", "resource", "type",
        type, "id", json_object_get(doc, "id"), "attributes", attributes, "relationships",
        strcmp(type, "contact") == 0 ? contact_relationships(req, doc) : json_object(), "changes",
        "previous", previous ? previous : json_null(), "current", doc, "modified_fields",
        previous ? modified_fields(previous, doc) : json_null(), "metadata", "source",
        "api_webhook_manager", "environment", "production", "request_id", uuid);
    json_decref(account);
    body = payload ? jsonx_dump(payload, NULL) : NULL;
    json_decref(payload);
    return body;
}

int rasl_events_emit(struct req *req, const char *event, const char *type, const json_t *doc,
                     const json_t *previous)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    json_t *settings, *entry, *delivery;
    const char *url, *secret;
    char event_id[64], uuid[37], now[32], key[128], *body;
    uint64_t n;
    int rc = rasl_settings(req, &settings), len;

    if (rc != EMU_OK)
        return rc;
    url = jsonx_string(settings, "webhook_url");
    if (url == NULL || *url == '\0') {
        json_decref(settings);
        return EMU_OK; /* no receiver configured: nothing to send */
    }
    secret = jsonx_string(settings, "webhook_secret");
    rc = req_new_uuid(req, uuid);
    if (rc == EMU_OK)
        rc = store_seq_next(req->txn, "events", &n);
    if (rc != EMU_OK) {
        json_decref(settings);
        return rc;
    }
    len = snprintf(event_id, sizeof(event_id), "evt_%lld_", (long long)(req->now_ms / 1000));
    for (int i = 0; i < 10; i++)
        event_id[len + i] =
            alphabet[rng_draw(req->app->cfg.seed ^ EVENT_SEED_SALT, n * 10 + (uint64_t)i) %
                     (sizeof(alphabet) - 1)];
    event_id[len + 10] = '\0';
    rasl_now(req, now);
    body = event_body(req, event, type, doc, previous, event_id, uuid, now);
    entry = json_pack("{s:s,s:s,s:s,s:b,s:[],s:s?}", "tenant", req->tenant, "event", event, "url",
                      url, "delivered", 0, "attempts", "body", body);
    rc =
        body && entry ? outbox_add_keyed(req->txn, req->tenant, "webhooks", entry, key) : EMU_NOMEM;
    json_decref(entry);
    if (rc == EMU_OK) {
        delivery = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s}}", "tenant", req->tenant,
                             "outbox_key", key, "url", url, "secret", secret ? secret : "", "event",
                             event, "body", body, "headers", "X-Webhook-Event", event,
                             "X-Webhook-Timestamp", now, "X-Webhook-Format", "n8n");
        if (req->deferred == NULL)
            req->deferred = json_array();
        rc = delivery && req->deferred
                 ? json_array_append_new(req->deferred, delivery) == 0 ? EMU_OK : EMU_NOMEM
                 : EMU_NOMEM;
    }
    free(body);
    json_decref(settings);
    return rc;
}
