/* otp.c -- RASL's OTP verification: send-otp, verify, resend and status under /auth.
 *
 * One OTP per tenant, phone and purpose (rasl.otp, key "<tenant>/<digits>/<purpose>"); a new
 * send replaces the old one. The client supplies the code on send-otp; resend draws a new
 * 6-digit code from the seeded generator. Expiry and the limiters (10 verifications a minute,
 * 3 resends in 5 minutes, per phone) run on the emulator clock. A failed verification is
 * answered 422 but its attempt is kept, as the vendor counts it: those answers are written
 * and committed by the handler itself. The code sent is in the outbox for tests to read. */
#include "rasl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "clock.h"
#include "err.h"
#include "jsonx.h"
#include "ratelimit.h"
#include "req.h"
#include "rng.h"
#include "store.h"

#define OTP_MAX_ATTEMPTS 5
#define OTP_SEED_SALT    0x4f5450ULL /* "OTP": resend codes' own stream */

static const char *purpose_of(const struct req *req)
{
    const char *purpose = jsonx_string(req->json, "purpose");

    return purpose && *purpose ? purpose : "authentication";
}

static void otp_key(const struct req *req, const char *digits, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s/%s", req->tenant, digits, purpose_of(req));
}

/* Counts one try of kind for this phone; fails with the vendor's sentence when over. */
static int limit(struct req *req, struct res *res, const char *kind, const char *digits, int max,
                 int64_t window_ms, const char *what)
{
    char key[200], message[160];
    int rc;

    snprintf(key, sizeof(key), "%s/rasl-otp-%s/%s/", req->tenant, kind, digits);
    rc = ratelimit_answer(req, res, key, window_ms, max, 0);
    if (rc != EMU_RATE_LIMITED)
        return rc;
    snprintf(message, sizeof(message), "Too many %s attempts. Please try again in %d seconds.",
             what, res->retry_after);
    return rasl_fail(res, "RATE_LIMIT_EXCEEDED", message,
                     json_pack("{s:i}", "retry_after", res->retry_after));
}

static int validation(struct res *res, json_t *details)
{
    if (json_object_size(details) == 0) {
        json_decref(details);
        return EMU_OK;
    }
    return rasl_fail(res, "VALIDATION_ERROR", NULL, details);
}

static void check_purpose(const json_t *body, json_t *details)
{
    rasl_messages_check_text(body, "purpose", 0, 50, NULL, details);
}

/* verify and status: a phone is required and must be a string (any other type is Laravel's
 * string rule failing). */
static void check_verify_phone(const json_t *body, json_t *details)
{
    if (rasl_messages_empty_member(body, "phone"))
        rasl_field_error(details, "phone", "Phone number is required.");
    else
        rasl_rule_string(body, "phone", NULL, details, NULL);
}

/* *out is a new reference to the tenant's approved template name in language, which must be
 * an authentication template; otherwise fails the request as the vendor does. */
static int auth_template(struct req *req, struct res *res, const char *name, const char *language,
                         json_t **out)
{
    int rc = rasl_templates_find(req, name, language, out);

    if (rc == EMU_NOT_FOUND) {
        char message[400];

        snprintf(message, sizeof(message), "Authentication template '%s' not found or not approved",
                 name);
        return rasl_fail(res, "RESOURCE_NOT_FOUND", message,
                         json_pack("{s:s,s:s}", "template_name", name, "language", language));
    }
    if (rc != EMU_OK)
        return rc;
    if (strcmp(jsonx_string(*out, "category"), "AUTHENTICATION") != 0) {
        rc = rasl_fail(
            res, "VALIDATION_ERROR", "Template must be of type AUTHENTICATION to use this endpoint",
            json_pack("{s:s,s:O,s:s}", "template_name", name, "actual_category",
                      json_object_get(*out, "category"), "required_category", "AUTHENTICATION"));
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

/* The message an OTP send delivers: the template's body with the code, the expiry when the
 * template has room for it, then the request's additional_params. New malloc'd text. */
static char *otp_text(struct req *req, const json_t *template, const char *code, int minutes)
{
    json_t *params = json_pack("{s:s}", "field_1", code), *extra, *p;
    char number[32], *text;
    size_t i = 2;

    snprintf(number, sizeof(number), "%d", minutes);
    extra = json_object_get(req->json, "additional_params");
    if (json_integer_value(json_object_get(template, "body_params_count")) >= 2)
        json_object_set_new(params, "field_2", json_string(number)), i = 3;
    for (size_t j = 0; json_is_array(extra) && j < json_array_size(extra) && i <= 10; j++, i++) {
        char field[16];

        p = json_array_get(extra, j);
        snprintf(field, sizeof(field), "field_%zu", i);
        if (json_is_string(p))
            json_object_set(params, field, p);
    }
    text = rasl_templates_fill(jsonx_string(template, "body_data"), params);
    json_decref(params);
    return text;
}

/* Sends code to the request's phone with the authentication template, and stores the OTP. */
static int send_code(struct req *req, struct res *res, const char *code)
{
    const char *name = jsonx_string(req->json, "template_name");
    const char *language = jsonx_string(req->json, "language");
    json_t *template, *contact, *otp, *row;
    char digits[32], key[200], now[32], expires[32], *text;
    json_int_t expiry = 10; /* validated: absent, null or 1 to 60 (12 or "12") */
    int minutes = rasl_integer_of(json_object_get(req->json, "expiry_minutes"), &expiry) == FIELD_OK
                      ? (int)expiry
                      : 10;
    int64_t expires_ms = req->now_ms + (int64_t)minutes * 60000;
    int rc;

    if (language == NULL || *language == '\0')
        language = "en";
    rc = auth_template(req, res, name, language, &template);
    if (rc != EMU_OK)
        return rc;
    rc = rasl_messages_send_prepare(req, res, 1, "WhatsApp", digits, &contact);
    if (rc == EMU_OK && (rc = rasl_templates_allowed(req, res)) != EMU_OK)
        json_decref(contact);
    if (rc != EMU_OK) {
        json_decref(template);
        return rc;
    }

    text = otp_text(req, template, code, minutes);
    rasl_now(req, now);
    clock_format_iso_offset(expires_ms, expires, sizeof(expires));
    otp = json_pack("{s:s,s:s,s:s,s:s,s:i,s:s,s:I,s:b,s:n,s:i,s:i,s:s,s:{s:O}}", "phone", digits,
                    "code", code, "purpose", purpose_of(req), "template_name", name,
                    "expiry_minutes", minutes, "expires_at", expires, "expires_ms",
                    (json_int_t)expires_ms, "is_verified", 0, "verified_at",
                    "verification_attempts", 0, "max_attempts", OTP_MAX_ATTEMPTS, "created_at", now,
                    "metadata", "contact_id", json_object_get(contact, "id"));
    otp_key(req, digits, key, sizeof(key));
    rc = text && otp ? store_put(req->txn, RASL_OTP, key, otp) : EMU_NOMEM;
    if (rc == EMU_OK)
        rc =
            rasl_messages_send_record(req, contact, "template", text, NULL, name, code, NULL, &row);
    if (rc == EMU_OK) {
        rc = rasl_reply(req, res, 200,
                        json_pack("{s:O,s:O,s:s,s:s,s:s,s:b,s:i,s:s,s:s,s:O}", "message_id",
                                  json_object_get(row, "message_id"), "contact_id",
                                  json_object_get(contact, "id"), "phone", digits, "template_name",
                                  name, "language", language, "code_sent", 1, "expiry_minutes",
                                  minutes, "expires_at", expires, "status", "sent", "sent_at",
                                  json_object_get(row, "sent_at")),
                        "Authentication code sent successfully. Please verify using "
                        "/auth/verify endpoint.");
        json_decref(row);
    }
    free(text);
    json_decref(otp);
    json_decref(template);
    json_decref(contact);
    return rc;
}

static void check_send(const json_t *body, json_t *details)
{
    json_int_t expiry, contact_id;

    rasl_messages_check_phone(body, 20, details);
    rasl_messages_check_text(body, "template_name", 1, 255, NULL, details);
    rasl_messages_check_text(body, "language", 0, 10, NULL, details);
    if (rasl_rule_integer(body, "expiry_minutes", NULL, details, &expiry) == FIELD_OK &&
        (expiry < 1 || expiry > 60))
        rasl_field_error(details, "expiry_minutes",
                         "The expiry minutes field must be between 1 and 60.");
    if (rasl_integer_of(json_object_get(body, "contact_id"), &contact_id) == FIELD_WRONG_TYPE)
        rasl_field_error(details, "contact_id", "Contact ID must be a valid integer.");
    check_purpose(body, details);
    rasl_rule_array(body, "additional_params", NULL, details, NULL);
}

int rasl_otp_send(struct req *req, struct res *res)
{
    json_t *details = json_object();
    int rc;

    check_send(req->json, details);
    rasl_messages_check_text(req->json, "code", 1, 10, NULL, details);
    rc = validation(res, details);
    return rc == EMU_OK ? send_code(req, res, jsonx_string(req->json, "code")) : rc;
}

int rasl_otp_resend(struct req *req, struct res *res)
{
    json_t *details = json_object();
    char digits[32], code[8], name[96];
    uint64_t n;
    int rc;

    check_send(req->json, details);
    rc = validation(res, details);
    if (rc != EMU_OK)
        return rc;
    rasl_messages_phone_digits(jsonx_string(req->json, "phone"), digits, sizeof(digits));
    rc = limit(req, res, "resend", digits, 3, 300000, "resend");
    if (rc != EMU_OK)
        return rc;
    snprintf(name, sizeof(name), "otp/%s", req->tenant);
    rc = store_seq_next(req->txn, name, &n);
    if (rc != EMU_OK)
        return rc;
    snprintf(code, sizeof(code), "%06u",
             (unsigned)(rng_draw(req->app->cfg.seed ^ OTP_SEED_SALT, n) % 1000000));
    return send_code(req, res, code);
}

/* The tenant's OTP for the request's phone and purpose, if it is active (not verified, not
 * expired). *key gets its store key. */
static int active_otp(struct req *req, char *key, size_t keylen, json_t **out)
{
    char digits[32];
    int rc;

    rasl_messages_phone_digits(jsonx_string(req->json, "phone"), digits, sizeof(digits));
    otp_key(req, digits, key, keylen);
    rc = store_get(req->txn, RASL_OTP, key, out);
    if (rc == EMU_OK && (json_is_true(json_object_get(*out, "is_verified")) ||
                         json_integer_value(json_object_get(*out, "expires_ms")) <= req->now_ms)) {
        json_decref(*out);
        *out = NULL;
        rc = EMU_NOT_FOUND;
    }
    return rc;
}

/* A verification failure: 422 whose details say which, answered here so that the attempt it
 * counted is committed with it. */
static int refuse(struct req *req, struct res *res, const char *error_code, const char *message,
                  json_t *extra)
{
    json_t *details =
        json_pack("{s:s,s:b,s:s}", "error_code", error_code, "success", 0, "message", message);

    if (extra != NULL)
        json_object_update(details, extra);
    json_decref(extra);
    rasl_fail(res, "VALIDATION_ERROR", message, details);
    return rasl_answer_error(req, res);
}

int rasl_otp_verify(struct req *req, struct res *res)
{
    json_t *details = json_object(), *otp;
    char key[200], digits[32], now[32];
    json_int_t attempts;
    int rc;

    check_verify_phone(req->json, details);
    if (rasl_messages_empty_member(req->json, "code"))
        rasl_field_error(details, "code", "Verification code is required.");
    else if (!json_is_string(json_object_get(req->json, "code")))
        rasl_field_error(details, "code", "The code field must be a string.");
    check_purpose(req->json, details);
    rc = validation(res, details);
    if (rc != EMU_OK)
        return rc;
    rasl_messages_phone_digits(jsonx_string(req->json, "phone"), digits, sizeof(digits));
    rc = limit(req, res, "verify", digits, 10, 60000, "verification");
    if (rc != EMU_OK)
        return rc;
    rc = active_otp(req, key, sizeof(key), &otp);
    if (rc == EMU_NOT_FOUND)
        return refuse(req, res, "OTP_NOT_FOUND", "No active OTP found for this phone number.",
                      NULL);
    if (rc != EMU_OK)
        return rc;
    attempts = json_integer_value(json_object_get(otp, "verification_attempts"));
    if (attempts >= OTP_MAX_ATTEMPTS) {
        json_decref(otp);
        return refuse(req, res, "MAX_ATTEMPTS_EXCEEDED",
                      "Maximum verification attempts exceeded. Please request a new OTP.",
                      json_pack("{s:i}", "attempts_remaining", 0));
    }
    json_object_set_new(otp, "verification_attempts", json_integer(++attempts));
    if (strcmp(jsonx_string(otp, "code"), jsonx_string(req->json, "code")) != 0) {
        rc = store_put(req->txn, RASL_OTP, key, otp);
        json_decref(otp);
        return rc != EMU_OK ? rc
                            : refuse(req, res, "INVALID_CODE", "Invalid OTP code.",
                                     json_pack("{s:I}", "attempts_remaining",
                                               (json_int_t)(OTP_MAX_ATTEMPTS - attempts)));
    }
    rasl_now(req, now);
    json_object_set_new(otp, "is_verified", json_true());
    json_object_set_new(otp, "verified_at", json_string(now));
    rc = store_put(req->txn, RASL_OTP, key, otp);
    if (rc == EMU_OK) {
        char limiter[200];

        snprintf(limiter, sizeof(limiter), "%s/rasl-otp-verify/%s/", req->tenant, digits);
        ratelimit_clear(req->app->limits, limiter); /* a success starts the count again */
        rc = rasl_reply(req, res, 200,
                        json_pack("{s:s,s:O,s:s}", "phone", digits, "purpose",
                                  json_object_get(otp, "purpose"), "verified_at", now),
                        "OTP verified successfully");
    }
    json_decref(otp);
    return rc;
}

int rasl_otp_status(struct req *req, struct res *res)
{
    json_t *details = json_object(), *otp;
    char key[200];
    json_int_t attempts, left_ms;
    int rc;

    check_verify_phone(req->json, details);
    check_purpose(req->json, details);
    rc = validation(res, details);
    if (rc != EMU_OK)
        return rc;
    rc = active_otp(req, key, sizeof(key), &otp);
    if (rc == EMU_NOT_FOUND)
        return rasl_reply(
            req, res, 200,
            json_pack("{s:b,s:s}", "has_active_otp", 0, "message", "No active OTP found"),
            "OTP status checked");
    if (rc != EMU_OK)
        return rc;
    attempts = json_integer_value(json_object_get(otp, "verification_attempts"));
    left_ms = json_integer_value(json_object_get(otp, "expires_ms")) - req->now_ms;
    rc = rasl_reply(
        req, res, 200,
        json_pack("{s:b,s:O,s:I,s:b,s:I,s:i,s:I,s:O}", "has_active_otp", 1, "expires_at",
                  json_object_get(otp, "expires_at"), "expires_in_seconds",
                  (json_int_t)(left_ms / 1000), "is_expired", 0, "verification_attempts", attempts,
                  "max_attempts", OTP_MAX_ATTEMPTS, "attempts_remaining",
                  (json_int_t)(attempts >= OTP_MAX_ATTEMPTS ? 0 : OTP_MAX_ATTEMPTS - attempts),
                  "created_at", json_object_get(otp, "created_at")),
        "OTP status retrieved successfully");
    json_decref(otp);
    return rc;
}
