/* listeners.c -- RASL's inbound eCommerce webhook listeners: /api/webhooks/{uuid} and its
 * /status.
 *
 * A listener (fixtures/rasl/listeners.json) is a public URL a shop posts orders to. It checks
 * its method and secret, finds the customer's phone in the payload at its extraction path
 * ("@{billing.phone}"), and queues its mapped template message to that phone: the message is
 * recorded and appears in the outbox. Listener answers are not RASL's API envelope but the
 * listener's own bodies, and every request, refused or not, counts in the listener's stats, so
 * those answers are written here and committed. */
#include "rasl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "err.h"
#include "jsonx.h"
#include "req.h"
#include "store.h"

struct found {
    const char *uuid;
    char key[160];
    json_t *row;
};

static int match_uuid(const char *key, json_t *doc, void *arg)
{
    struct found *f = arg;

    if (strcmp(jsonx_string(doc, "uuid"), f->uuid) != 0)
        return 0;
    snprintf(f->key, sizeof(f->key), "%s", key);
    f->row = json_incref(doc);
    return 1;
}

/* Finds the listener with this uuid in any tenant, and makes its tenant the request's. */
static int find_listener(struct req *req, struct found *f)
{
    int rc;

    f->uuid = req_param(req, "uuid");
    f->row = NULL;
    rc = store_scan(req->txn, RASL_LISTENERS, "", match_uuid, f);
    if (rc != EMU_OK)
        return rc;
    if (f->row == NULL)
        return EMU_NOT_FOUND;
    snprintf(req->tenant, sizeof(req->tenant), "%.*s", (int)(strchr(f->key, '/') - f->key), f->key);
    return EMU_OK;
}

/* The array index a path segment of digits names; one past any array when it is too long to
 * be one. */
static size_t array_index(const char *digits)
{
    size_t n = 0, i = 0;

    for (; isdigit((unsigned char)digits[i]) && i < 9; i++)
        n = n * 10 + (size_t)(digits[i] - '0');
    return digits[i] == '\0' ? n : (size_t)-1;
}

/* Resolves "@{a.b.c}" against payload; a value that is not a path is returned as it is. *out
 * is a new string, or NULL when the path leads nowhere. */
static json_t *resolve(const json_t *payload, const char *spec)
{
    char path[256], *p, *dot;
    const json_t *v = payload;
    size_t n;

    if (spec == NULL)
        return NULL;
    n = strlen(spec);
    if (n < 4 || strncmp(spec, "@{", 2) != 0 || spec[n - 1] != '}')
        return json_string(spec);
    snprintf(path, sizeof(path), "%.*s", (int)(n - 3), spec + 2);
    for (p = path; v != NULL && p != NULL; p = dot ? dot + 1 : NULL) {
        dot = strchr(p, '.');
        if (dot != NULL)
            *dot = '\0';
        v = json_is_array(v) && isdigit((unsigned char)*p) ? json_array_get(v, array_index(p))
                                                           : json_object_get(v, p);
    }
    if (json_is_string(v) && json_string_length(v) > 0)
        return json_incref((json_t *)v);
    if (json_is_integer(v)) {
        char number[32];

        snprintf(number, sizeof(number), "%lld", (long long)json_integer_value(v));
        return json_string(number);
    }
    return NULL;
}

static int answer(struct res *res, int status, json_t *body)
{
    res_json(res, status, body);
    return EMU_OK;
}

/* Counts a request in the listener's stats. */
static int count_request(struct req *req, struct found *f, int ok)
{
    json_t *stats = json_object_get(f->row, "stats"), *days;
    char now[32], day[16];

    if (!json_is_object(stats)) {
        stats = json_object();
        json_object_set_new(f->row, "stats", stats);
    }
    rasl_now(req, now);
    snprintf(day, sizeof(day), "%.10s", now);
    json_object_set_new(
        stats, "total_requests",
        json_integer(json_integer_value(json_object_get(stats, "total_requests")) + 1));
    json_object_set_new(stats, ok ? "successful_requests" : "failed_requests",
                        json_integer(json_integer_value(json_object_get(
                                         stats, ok ? "successful_requests" : "failed_requests")) +
                                     1));
    json_object_set_new(stats, "last_request", json_string(now));
    days = json_object_get(stats, "days");
    if (!json_is_object(days)) {
        days = json_object();
        json_object_set_new(stats, "days", days);
    }
    json_object_set_new(days, day,
                        json_integer(json_integer_value(json_object_get(days, day)) + 1));
    return store_put(req->txn, RASL_LISTENERS, f->key, f->row);
}

/* The secret a caller sent: X-Webhook-Secret, Authorization (without "Bearer "), or a
 * "secret" field of the body or query string. New malloc'd text, or NULL. */
static char *sent_secret(struct req *req, const json_t *payload)
{
    const char *h = req_header(req, "X-Webhook-Secret"), *query_secret;

    if (h == NULL && (h = req_header(req, "Authorization")) != NULL &&
        strncmp(h, "Bearer ", 7) == 0)
        h += 7;
    if (h != NULL)
        return strdup(h);
    if (jsonx_string(payload, "secret") != NULL)
        return strdup(jsonx_string(payload, "secret"));
    if (req_query_value(req, "secret", &query_secret) == EMU_OK)
        return strdup(query_secret);
    return NULL;
}

/* The payload, whatever it came as: a JSON object, a form, or nothing usable. New object. */
static json_t *payload_of(struct req *req)
{
    const char *type = req_header(req, "Content-Type");
    json_t *payload = NULL;

    if (req->body_len > 0 && !jsonx_too_deep(req->body, req->body_len, 64) &&
        (payload = json_loadb(req->body, req->body_len, 0, NULL)) != NULL &&
        json_is_object(payload))
        return payload;
    json_decref(payload);
    if (req->body_len > 0 && type != NULL && strstr(type, "x-www-form-urlencoded") != NULL &&
        req_form_all(req, &payload) == EMU_OK)
        return payload;
    return json_object();
}

/* Queues the listener's template to phone: it is sent (recorded, in the outbox) now. */
static void send_mapped(struct req *req, struct res *res, const json_t *listener,
                        const json_t *payload, const char *phone)
{
    json_t *params = json_object(), *saved = req->json, *contact = NULL, *template = NULL, *row;
    const char *name;
    json_t *value;
    char digits[32], *text = NULL;

    json_object_foreach(json_object_get(listener, "params"), name, value)
    {
        json_t *resolved = resolve(payload, json_string_value(value));

        if (resolved != NULL)
            json_object_set_new(params, name, resolved);
    }
    /* The send path reads the phone from the request body: give it the extracted one. */
    req->json = json_pack("{s:s}", "phone", phone);
    if (rasl_templates_find(req, jsonx_string(listener, "template_name"),
                            jsonx_string(listener, "language"), &template) == EMU_OK &&
        rasl_messages_send_prepare(req, res, 1, "Application", digits, &contact) == EMU_OK &&
        (text = rasl_templates_fill(jsonx_string(template, "body_data"), params)) != NULL &&
        rasl_messages_send_record(req, contact, "template", text, NULL,
                                  jsonx_string(listener, "template_name"), NULL, NULL,
                                  &row) == EMU_OK)
        json_decref(row);
    /* A send that fails is the queued job failing, not this request: forget its error. */
    res->vendor_error = NULL;
    res->detail[0] = '\0';
    json_decref(res->error_details);
    res->error_details = NULL;
    free(text);
    json_decref(contact);
    json_decref(template);
    json_decref(req->json);
    json_decref(params);
    req->json = saved;
}

/* Counts a refused request against listener f, then answers status with body (stolen); frees
 * f's row. */
static int refuse_counted(struct req *req, struct res *res, struct found *f, int status,
                          json_t *body)
{
    int rc = count_request(req, f, 0);

    if (rc == EMU_OK)
        answer(res, status, body);
    else
        json_decref(body);
    json_decref(f->row);
    return rc;
}

/* Longer than most: the vendor's checks (listener, sync mode, method, secret, phone) run in
 * this order, each with its own answer, and reading them top to bottom is the point. */
int rasl_listeners_receive(struct req *req, struct res *res)
{
    struct found f;
    json_t *payload, *phone, *keys, *value;
    const char *key, *secret;
    char now[32], *sent, plus[40], digits[32];
    int rc = find_listener(req, &f), mapped;
    uint64_t log_id;

    rasl_now(req, now);
    if (rc == EMU_NOT_FOUND)
        return answer(res, 404,
                      json_pack("{s:s,s:o,s:s}", "error", "Webhook not found", "webhook_uuid",
                                rasl_client_text(req_param(req, "uuid")), "timestamp", now));
    if (rc != EMU_OK)
        return rc;
    if (json_is_true(json_object_get(f.row, "sync_mode"))) {
        rc = count_request(req, &f, 1);
        json_decref(f.row);
        return rc != EMU_OK ? rc
                            : answer(res, 200,
                                     json_pack("{s:s,s:s,s:s}", "message",
                                               "Payload synchronized no further processing",
                                               "webhook_uuid", f.uuid, "timestamp", now));
    }
    if (strcasecmp(jsonx_string(f.row, "method"), req->method) != 0)
        return refuse_counted(req, res, &f, 405,
                              json_pack("{s:s,s:s,s:s}", "error", "Method not allowed",
                                        "expected_method", jsonx_string(f.row, "method"),
                                        "received_method", req->method));
    payload = payload_of(req);
    secret = jsonx_string(f.row, "secret");
    sent = sent_secret(req, payload);
    if (secret != NULL && *secret != '\0' && (sent == NULL || strcmp(sent, secret) != 0)) {
        free(sent);
        json_decref(payload);
        return refuse_counted(req, res, &f, 401,
                              json_pack("{s:s,s:s}", "error", "Unauthorized", "message",
                                        "Invalid or missing secret key"));
    }
    free(sent);
    phone = resolve(payload, jsonx_string(f.row, "phone_path"));
    if (phone == NULL) {
        keys = json_array();
        json_object_foreach(payload, key, value) json_array_append_new(keys, json_string(key));
        json_decref(payload);
        return refuse_counted(req, res, &f, 422,
                              json_pack("{s:s,s:{s:O,s:o}}", "error",
                                        "Phone number not found in payload", "debug",
                                        "extraction_config", json_object_get(f.row, "phone_path"),
                                        "payload_keys", keys));
    }
    rasl_messages_phone_digits(json_string_value(phone), digits, sizeof(digits));
    snprintf(plus, sizeof(plus), "+%s", digits);
    json_decref(phone);
    mapped = jsonx_string(f.row, "template_name") != NULL;
    if (mapped)
        send_mapped(req, res, f.row, payload, plus);
    json_decref(payload);
    rc = store_seq_next(req->txn, "listener-log", &log_id);
    if (rc == EMU_OK)
        rc = count_request(req, &f, 1);
    if (rc == EMU_OK)
        answer(res, 200,
               json_pack("{s:b,s:s,s:O,s:I,s:s,s:b,s:s,s:s}", "success", 1, "message",
                         "Webhook received successfully", "webhook_id",
                         json_object_get(f.row, "id"), "log_id", (json_int_t)log_id,
                         "extracted_phone", plus, "template_mapped", mapped, "processing_status",
                         mapped ? "queued" : "logged_only", "timestamp", now));
    json_decref(f.row);
    return rc;
}

int rasl_listeners_status(struct req *req, struct res *res)
{
    struct found f;
    json_t *stats;
    char now[32], day[16];
    json_int_t total, ok;
    int rc = find_listener(req, &f), active, has_template;

    if (rc == EMU_NOT_FOUND)
        return answer(
            res, 404,
            json_pack("{s:s,s:s}", "status", "not_found", "message", "Webhook not found"));
    if (rc != EMU_OK)
        return rc;
    rasl_now(req, now);
    snprintf(day, sizeof(day), "%.10s", now);
    stats = json_object_get(f.row, "stats");
    total = json_integer_value(json_object_get(stats, "total_requests"));
    ok = json_integer_value(json_object_get(stats, "successful_requests"));
    active = !json_is_false(json_object_get(f.row, "active"));
    has_template = jsonx_string(f.row, "template_name") != NULL;
    rc = answer(
        res, 200,
        json_pack("{s:s,s:{s:O,s:O,s:O,s:b,s:b,s:b},s:{s:I,s:I,s:I,s:f,s:o,s:I},s:s}", "status",
                  active ? "active" : "inactive", "webhook", "name", json_object_get(f.row, "name"),
                  "method", json_object_get(f.row, "method"), "created_at",
                  json_object_get(f.row, "created_at"), "has_secret",
                  jsonx_string(f.row, "secret") != NULL, "has_template", has_template,
                  "can_trigger",
                  active && has_template && !json_is_true(json_object_get(f.row, "sync_mode")),
                  "stats", "total_requests", total, "successful_requests", ok, "failed_requests",
                  json_integer_value(json_object_get(stats, "failed_requests")), "success_rate",
                  total > 0 ? (double)ok * 100.0 / (double)total : 0.0, "last_request",
                  json_object_get(stats, "last_request")
                      ? json_incref(json_object_get(stats, "last_request"))
                      : json_null(),
                  "requests_today",
                  json_integer_value(json_object_get(json_object_get(stats, "days"), day)),
                  "last_check", now));
    json_decref(f.row);
    return rc;
}

int rasl_listener_row_key(const json_t *row, size_t index, char *key, size_t keylen,
                          const char **field, char *msg, size_t msglen)
{
    static const char *const strings[] = {"uuid", "name", "method", "phone_path", "created_at"};

    (void)index; /* keys come from the row's uuid */
    for (size_t i = 0; i < 5; i++) {
        if (jsonx_string(row, strings[i]) == NULL) {
            *field = strings[i];
            snprintf(msg, msglen, "\"%s\" must be a string", strings[i]);
            return EMU_INVALID;
        }
    }
    if (!jsonx_is_uuid(jsonx_string(row, "uuid"))) {
        *field = "uuid";
        snprintf(msg, msglen, "\"uuid\" must be a UUID");
        return EMU_INVALID;
    }
    if (!json_is_integer(json_object_get(row, "id"))) {
        *field = "id";
        snprintf(msg, msglen, "\"id\" must be a whole number");
        return EMU_INVALID;
    }
    snprintf(key, keylen, "%s", jsonx_string(row, "uuid"));
    return EMU_OK;
}
