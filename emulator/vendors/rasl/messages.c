/* messages.c -- RASL message sends (text, media, template, interactive) and the message log.
 *
 * Nothing reaches WhatsApp: a send runs the vendor's checks in its order (validation, the
 * contact found by phone or created, opt-out for all but text, the WhatsApp connection, the
 * plan's conversation limit), then records the message, which GET /messages shows, and an
 * outbox entry, which GET /__admin/outbox shows. Message ids are wamid.… strings drawn from the
 * seeded generator. A contact's chat is the contact itself: chat_id is the contact's id. */
#include "rasl.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jsonx.h"
#include "outbox.h"
#include "req.h"
#include "store.h"

static const char *const message_filters[] = {"type", "status", "interaction_id", "direction",
                                              NULL};
static const char *const message_sorts[] = {"created_at", "updated_at", NULL};
static const char *const message_searches[] = {"message", NULL};
static const struct rasl_list_spec message_list = {message_filters, message_sorts, message_searches,
                                                   0};

/* ---- validation ---- */

/* The vendor's phone rules: required, 10 to max characters of digits, +, -, spaces and
 * parentheses. */
void rasl_check_phone(const json_t *body, size_t max, json_t *details)
{
    json_t *v = json_object_get(body, "phone");
    const char *s = json_string_value(v);
    char message[64];

    if (v == NULL || json_is_null(v) || (s != NULL && *s == '\0')) {
        rasl_field_error(details, "phone", "Phone number is required.");
        return;
    }
    if (s == NULL) {
        rasl_field_error(details, "phone", "The phone field must be a string.");
        return;
    }
    if (strlen(s) < 10)
        rasl_field_error(details, "phone", "Phone number must be at least 10 digits.");
    snprintf(message, sizeof(message), "Phone number cannot exceed %zu characters.", max);
    if (strlen(s) > max)
        rasl_field_error(details, "phone", message);
    if (strspn(s, "0123456789+- ()") != strlen(s))
        rasl_field_error(details, "phone",
                         "Phone number can only contain digits, +, -, spaces, and parentheses.");
}

/* A string member that is optional (or required) with a maximum length, in Laravel's words. */
void rasl_check_text(const json_t *body, const char *member, int required, size_t max,
                     const char *missing, json_t *details)
{
    json_t *v = json_object_get(body, member);
    char message[160], name[64];
    size_t i;

    for (i = 0; member[i] && i + 1 < sizeof(name); i++)
        name[i] = member[i] == '_' ? ' ' : member[i];
    name[i] = '\0';
    if (v == NULL || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
        if (required) {
            snprintf(message, sizeof(message), "The %s field is required.", name);
            rasl_field_error(details, member, missing ? missing : message);
        }
        return;
    }
    if (!json_is_string(v)) {
        snprintf(message, sizeof(message), "The %s field must be a string.", name);
        rasl_field_error(details, member, message);
    } else if (json_string_length(v) > max) {
        snprintf(message, sizeof(message), "The %s field must not be greater than %zu characters.",
                 name, max);
        rasl_field_error(details, member, message);
    }
}

static void check_contact_id(const json_t *body, json_t *details)
{
    json_t *v = json_object_get(body, "contact_id");

    if (v != NULL && !json_is_null(v) && !json_is_integer(v))
        rasl_field_error(details, "contact_id", "Contact ID must be a valid integer.");
}

int rasl_empty_member(const json_t *body, const char *member)
{
    json_t *v = json_object_get(body, member);

    return v == NULL || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0);
}

static int is_url(const char *s)
{
    return s != NULL && (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0) &&
           strchr(s, ' ') == NULL && strlen(s) > 10;
}

/* ---- the shared send path ---- */

/* Digits of a phone number, without '+', spaces or punctuation. */
void rasl_digits(const char *phone, char *out, size_t len)
{
    size_t n = 0;

    for (; *phone && n + 1 < len; phone++)
        if (isdigit((unsigned char)*phone))
            out[n++] = *phone;
    out[n] = '\0';
}

static int contact_by_phone(struct req *req, const char *plus_phone, json_t **out)
{
    json_t *rows, *row;
    size_t i;
    int rc = rasl_all(req, RASL_CONTACTS, &rows);

    *out = NULL;
    if (rc != EMU_OK)
        return rc;
    json_array_foreach(rows, i, row)
    {
        if (jsonx_string(row, "phone") && strcmp(jsonx_string(row, "phone"), plus_phone) == 0) {
            *out = json_incref(row);
            break;
        }
    }
    json_decref(rows);
    return *out ? EMU_OK : EMU_NOT_FOUND;
}

/* The contact a send goes to: contact_id's (which must hold this phone), or the tenant's
 * contact with this phone, or a new lead created with the tenant's default status and source.
 * *out is a new reference. */
static int find_or_create(struct req *req, struct res *res, const char *digits, const char *where,
                          json_t **out)
{
    json_t *id = json_object_get(req->json, "contact_id"), *settings, *missing, *account;
    char plus[40], now[32];
    json_int_t new_id;
    long count = 0, maximum;
    int rc;

    snprintf(plus, sizeof(plus), "+%s", digits);
    if (json_is_integer(id)) {
        rc = rasl_get(req, RASL_CONTACTS, json_integer_value(id), out);
        if (rc == EMU_OK && (jsonx_string(*out, "phone") == NULL ||
                             strcmp(jsonx_string(*out, "phone"), plus) != 0)) {
            json_decref(*out);
            rc = EMU_NOT_FOUND;
        }
        return rc == EMU_NOT_FOUND ? rasl_fail(res, "NOT_FOUND", "Contact not found.", NULL) : rc;
    }
    rc = contact_by_phone(req, plus, out);
    if (rc != EMU_NOT_FOUND)
        return rc;

    /* A new contact: the plan's contact limit first, then the tenant's defaults. */
    rc = rasl_account_row(req, &account);
    if (rc != EMU_OK && rc != EMU_NOT_FOUND)
        return rc;
    maximum = account ? (long)json_integer_value(
                            json_object_get(json_object_get(account, "limits"), "contacts"))
                      : -1;
    json_decref(account);
    if (maximum >= 0) {
        json_t *rows;

        rc = rasl_all(req, RASL_CONTACTS, &rows);
        if (rc != EMU_OK)
            return rc;
        count = (long)json_array_size(rows);
        json_decref(rows);
        if (count >= maximum)
            return rasl_fail(res, "FEATURE_LIMIT_EXCEEDED",
                             "Feature limit exceeded for contacts. Please upgrade your plan.",
                             json_pack("{s:s,s:i,s:i}", "feature", "contacts", "current",
                                       (int)count, "maximum", (int)maximum));
    }
    rc = rasl_settings(req, &settings);
    if (rc != EMU_OK)
        return rc;
    missing = json_object();
    if (!json_is_integer(json_object_get(settings, "default_status_id")))
        json_object_set_new(missing, "lead_status", json_string("Lead status not configured"));
    if (!json_is_integer(json_object_get(settings, "default_source_id")))
        json_object_set_new(missing, "lead_source", json_string("Lead source not configured"));
    if (json_object_size(missing) > 0) {
        json_decref(settings);
        char message[200];

        snprintf(message, sizeof(message),
                 "Cannot auto-create contact. Please configure default lead status and source in "
                 "%s settings, or provide contact_id.",
                 where);
        return rasl_fail(res, "VALIDATION_ERROR", message,
                         json_pack("{s:o}", "missing_config", missing));
    }
    json_decref(missing);
    rc = rasl_next_id(req, RASL_CONTACTS, &new_id);
    if (rc != EMU_OK) {
        json_decref(settings);
        return rc;
    }
    rasl_now(req, now);
    *out = json_pack("{s:I,s:s,s:s,s:n,s:s,s:n,s:s,s:O,s:O,s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:[],s:b,"
                     "s:s,s:s}",
                     "id", new_id, "firstname", digits, "lastname", "", "company", "type", "lead",
                     "email", "phone", plus, "status_id",
                     json_object_get(settings, "default_status_id"), "source_id",
                     json_object_get(settings, "default_source_id"), "description", "city", "state",
                     "zip", "address", "country_id", "assigned_id", "group_id", "is_opted_out", 0,
                     "created_at", now, "updated_at", now);
    json_decref(settings);
    if (*out == NULL)
        return EMU_NOMEM;
    rc = rasl_put(req, RASL_CONTACTS, *out);
    return rc == EMU_OK ? rasl_event(req, "contact.created", "contact", *out, NULL) : rc;
}

/* Whether this send opens a conversation the plan has no room for. */
static int conversation_room(struct req *req, struct res *res, json_int_t contact_id)
{
    json_t *account, *rows, *row, *seen;
    long limit, used;
    size_t i;
    int rc = rasl_account_row(req, &account), talked = 0;

    if (rc == EMU_NOT_FOUND)
        return EMU_OK;
    if (rc != EMU_OK)
        return rc;
    limit = (long)json_integer_value(
        json_object_get(json_object_get(account, "limits"), "conversations"));
    used = (long)json_integer_value(
        json_object_get(json_object_get(account, "usage"), "conversations"));
    json_decref(account);
    if (limit < 0)
        return EMU_OK;
    rc = rasl_all(req, RASL_MESSAGES, &rows);
    if (rc != EMU_OK)
        return rc;
    seen = json_object();
    json_array_foreach(rows, i, row)
    {
        char key[32];
        json_int_t chat = json_integer_value(json_object_get(row, "interaction_id"));

        snprintf(key, sizeof(key), "%lld", (long long)chat);
        json_object_set_new(seen, key, json_true());
        talked |= chat == contact_id;
    }
    used += (long)json_object_size(seen);
    json_decref(seen);
    json_decref(rows);
    if (!talked && used >= limit)
        return rasl_fail(res, "FEATURE_LIMIT_EXCEEDED",
                         "Conversation limit reached. Please upgrade your plan.", NULL);
    return EMU_OK;
}

int rasl_send_prepare(struct req *req, struct res *res, int check_opt_out, const char *where,
                      char digits[32], json_t **contact)
{
    int rc;

    rasl_digits(jsonx_string(req->json, "phone"), digits, 32);
    rc = find_or_create(req, res, digits, where, contact);
    if (rc != EMU_OK)
        return rc;
    if (check_opt_out && json_is_true(json_object_get(*contact, "is_opted_out")))
        rc = rasl_fail(res, "CONTACT_OPTED_OUT", "Contact has opted out of receiving messages",
                       NULL);
    else if (!rasl_whatsapp_configured(req))
        rc = rasl_fail(res, "WHATSAPP_NOT_CONFIGURED",
                       "WhatsApp connection is not configured for this account", NULL);
    else
        rc = conversation_room(req, res, json_integer_value(json_object_get(*contact, "id")));
    if (rc != EMU_OK) {
        json_decref(*contact);
        *contact = NULL;
    }
    return rc;
}

int rasl_send_record(struct req *req, const json_t *contact, const char *type, const char *text,
                     const char *url, const char *template_name, const char *code, json_t **row)
{
    json_t *settings, *entry;
    char uuid[37], wamid[64], now[32];
    const char *kind;
    json_int_t id;
    int rc = req_new_uuid(req, uuid), n = 0;

    if (rc == EMU_OK)
        rc = rasl_next_id(req, RASL_MESSAGES, &id);
    if (rc == EMU_OK)
        rc = rasl_settings(req, &settings);
    if (rc != EMU_OK)
        return rc;
    n = snprintf(wamid, sizeof(wamid), "wamid.HBgM");
    for (const char *p = uuid; *p && n < (int)sizeof(wamid) - 1; p++)
        if (*p != '-')
            wamid[n++] = (char)toupper((unsigned char)*p);
    wamid[n] = '\0';
    rasl_now(req, now);
    *row = json_pack("{s:I,s:O,s:O,s:s,s:s?,s:s,s:n,s:s,s:n,s:s?,s:s,s:b,s:n,s:s,s:s,s:s}", "id",
                     id, "interaction_id", json_object_get(contact, "id"), "sender_id",
                     json_object_get(settings, "business_phone")
                         ? json_object_get(settings, "business_phone")
                         : json_null(),
                     "type", type, "message", text, "status", "sent", "status_message",
                     "message_id", wamid, "ref_message_id", "url", url, "sent_at", now, "is_read",
                     1, "staff_id", "direction", "outbound", "created_at", now, "updated_at", now);
    json_decref(settings);
    if (*row == NULL)
        return EMU_NOMEM;
    rc = rasl_put(req, RASL_MESSAGES, *row);
    kind = code != NULL ? "otp"
           : strcmp(type, "template") == 0 || strcmp(type, "interactive") == 0 ||
                   strcmp(type, "text") == 0
               ? type
               : "media";
    entry = json_pack("{s:s,s:s,s:O,s:s,s:s?,s:s?,s:s?,s:s}", "tenant", req->tenant, "kind", kind,
                      "phone", json_object_get(contact, "phone"), "message_id", wamid, "text", text,
                      "template_name", template_name, "code", code, "sent_at", now);
    if (rc == EMU_OK)
        rc = entry ? outbox_add(req->txn, req->tenant, "messages", entry) : EMU_NOMEM;
    json_decref(entry);
    return rc;
}

/* Replaces @{contact_first_name} and friends with the contact's values. New malloc'd text. */
static char *merge_fields(const char *text, const json_t *contact)
{
    static const struct {
        const char *tag, *member;
    } tags[] = {{"@{contact_first_name}", "firstname"},
                {"@{contact_last_name}", "lastname"},
                {"@{contact_email}", "email"},
                {"@{contact_phone}", "phone"}};
    size_t cap = strlen(text) * 2 + 64, used = 0;
    char *out = malloc(cap);

    while (out != NULL && *text) {
        size_t i;

        for (i = 0; i < 4; i++)
            if (strncmp(text, tags[i].tag, strlen(tags[i].tag)) == 0)
                break;
        if (i < 4) {
            const char *value = jsonx_string(contact, tags[i].member);
            size_t len = value ? strlen(value) : 0;

            if (used + len + 1 > cap) {
                char *grown = realloc(out, cap = (used + len + 1) * 2);

                if (grown == NULL) {
                    free(out);
                    return NULL;
                }
                out = grown;
            }
            memcpy(out + used, value ? value : "", len);
            used += len;
            text += strlen(tags[i].tag);
        } else {
            if (used + 2 > cap) {
                char *grown = realloc(out, cap *= 2);

                if (grown == NULL) {
                    free(out);
                    return NULL;
                }
                out = grown;
            }
            out[used++] = *text++;
        }
    }
    if (out != NULL)
        out[used] = '\0';
    return out;
}

static int validation_failed(struct res *res, json_t *details)
{
    return rasl_fail(res, "VALIDATION_ERROR", NULL, details);
}

/* ---- the endpoints ---- */

/* The data of a sent message: its ids and phone, then the type's own fields (extra, whose
 * reference this takes) in their order, then the delivery fields. NULL when out of memory. */
static json_t *sent_data(json_t *row, json_t *contact, const char *digits, json_t *extra)
{
    json_t *data = json_pack("{s:O,s:O,s:s}", "message_id", json_object_get(row, "message_id"),
                             "contact_id", json_object_get(contact, "id"), "phone", digits);
    json_t *delivery = json_pack(
        "{s:s,s:O,s:O,s:O}", "status", "sent", "sent_at", json_object_get(row, "sent_at"),
        "chat_id", json_object_get(contact, "id"), "chat_message_id", json_object_get(row, "id"));

    if (data == NULL || extra == NULL || delivery == NULL || json_object_update(data, extra) != 0 ||
        json_object_update(data, delivery) != 0) {
        json_decref(data);
        data = NULL;
    }
    json_decref(extra);
    json_decref(delivery);
    return data;
}

int rasl_messages_text(struct req *req, struct res *res)
{
    json_t *details = json_object(), *contact, *row;
    char digits[32], *text;
    int rc;

    rasl_check_phone(req->json, 20, details);
    rasl_check_text(req->json, "message", 1, SIZE_MAX, "Message text is required.", details);
    if (json_object_get(details, "message") == NULL &&
        json_is_string(json_object_get(req->json, "message")) &&
        json_string_length(json_object_get(req->json, "message")) > 4096)
        rasl_field_error(details, "message", "Message cannot exceed 4096 characters.");
    check_contact_id(req->json, details);
    if (json_object_size(details) > 0) /* the vendor nests these under "errors" for text */
        return validation_failed(res, json_pack("{s:o}", "errors", details));
    json_decref(details);
    rc = rasl_send_prepare(req, res, 0, "Application", digits, &contact);
    if (rc != EMU_OK)
        return rc;
    text = merge_fields(jsonx_string(req->json, "message"), contact);
    rc = text ? rasl_send_record(req, contact, "text", text, NULL, NULL, NULL, &row) : EMU_NOMEM;
    if (rc == EMU_OK)
        rc = rasl_reply(req, res, 200,
                        sent_data(row, contact, digits, json_pack("{s:s}", "message", text)),
                        "Message sent successfully");
    if (rc == EMU_OK)
        json_decref(row);
    free(text);
    json_decref(contact);
    return rc;
}

int rasl_messages_media(struct req *req, struct res *res)
{
    static const char *const types[] = {"image", "document", "video", "audio"};
    json_t *details = json_object(), *contact, *row;
    const char *type = jsonx_string(req->json, "media_type");
    const char *url = jsonx_string(req->json, "media_url");
    char digits[32];
    int known = 0, rc;

    rasl_check_phone(req->json, 15, details);
    for (size_t i = 0; type && i < 4; i++)
        known |= strcmp(type, types[i]) == 0;
    if (rasl_empty_member(req->json, "media_type"))
        rasl_field_error(details, "media_type", "The media type field is required.");
    else if (!known)
        rasl_field_error(details, "media_type", "The selected media type is invalid.");
    if (rasl_empty_member(req->json, "media_url"))
        rasl_field_error(details, "media_url",
                         "The media url field is required when media file is not present.");
    else if (!is_url(url))
        rasl_field_error(details, "media_url", "The media url field must be a valid URL.");
    rasl_check_text(req->json, "caption", 0, 1024, NULL, details);
    rasl_check_text(req->json, "filename", 0, 255, NULL, details);
    if (json_object_size(details) > 0)
        return validation_failed(res, details);
    json_decref(details);
    rc = rasl_send_prepare(req, res, 1, "Application", digits, &contact);
    if (rc != EMU_OK)
        return rc;
    rc = rasl_send_record(req, contact, type, jsonx_string(req->json, "caption"), url, NULL, NULL,
                          &row);
    if (rc == EMU_OK) {
        rc = rasl_reply(req, res, 200,
                        sent_data(row, contact, digits,
                                  json_pack("{s:s,s:s,s:s?,s:s?}", "media_type", type, "media_url",
                                            url, "caption", jsonx_string(req->json, "caption"),
                                            "filename", jsonx_string(req->json, "filename"))),
                        "Media message sent successfully");
        json_decref(row);
    }
    json_decref(contact);
    return rc;
}

int rasl_templates_allowed(struct req *req, struct res *res)
{
    json_t *account;
    int allowed = 1;

    if (rasl_account_row(req, &account) == EMU_OK) {
        allowed = !json_is_false(
            json_object_get(json_object_get(account, "features"), "whatsapp_templates"));
        json_decref(account);
    }
    return allowed ? EMU_OK
                   : rasl_fail(res, "FEATURE_LIMIT_EXCEEDED",
                               "WhatsApp templates are not available on your plan.", NULL);
}

/* The body text with {{n}} replaced by field_n. New malloc'd text. */
char *rasl_fill_template(const char *body, const json_t *params)
{
    size_t cap = strlen(body) + 1, used = 0;
    char *out;

    for (int i = 1; i <= 10; i++) {
        char name[16];

        snprintf(name, sizeof(name), "field_%d", i);
        if (jsonx_string(params, name))
            cap += strlen(jsonx_string(params, name));
    }
    out = malloc(cap);
    while (out != NULL && *body) {
        int n;
        char name[16];

        if (body[0] == '{' && body[1] == '{' && sscanf(body + 2, "%d}}", &n) == 1 && n >= 1 &&
            n <= 10 && strstr(body, "}}") != NULL) {
            const char *value;

            snprintf(name, sizeof(name), "field_%d", n);
            value = jsonx_string(params, name);
            if (value != NULL) {
                memcpy(out + used, value, strlen(value));
                used += strlen(value);
            }
            body = strstr(body, "}}") + 2;
        } else {
            out[used++] = *body++;
        }
    }
    if (out != NULL)
        out[used] = '\0';
    return out;
}

int rasl_messages_template(struct req *req, struct res *res)
{
    json_t *details = json_object(), *template = NULL, *contact, *row, *problems;
    const char *name = jsonx_string(req->json, "template_name");
    const char *language = jsonx_string(req->json, "language");
    const char *format;
    char digits[32], *text;
    int rc;

    rasl_check_phone(req->json, 20, details);
    rasl_check_text(req->json, "template_name", 1, 255, NULL, details);
    rasl_check_text(req->json, "language", 1, 10, NULL, details);
    check_contact_id(req->json, details);
    if (json_object_size(details) > 0)
        return validation_failed(res, details);
    json_decref(details);
    rc = rasl_template_find(req, name, language, &template);
    if (rc == EMU_NOT_FOUND)
        return rasl_fail(res, "NOT_FOUND", "Template not found.", NULL);
    if (rc != EMU_OK)
        return rc;

    problems = json_array();
    for (json_int_t i = 1; i <= json_integer_value(json_object_get(template, "body_params_count"));
         i++) {
        char field[16], message[80];

        snprintf(field, sizeof(field), "field_%lld", (long long)i);
        snprintf(message, sizeof(message), "%s is required (body parameter %lld)", field,
                 (long long)i);
        if (rasl_empty_member(req->json, field))
            json_array_append_new(problems, json_string(message));
    }
    format = jsonx_string(template, "header_data_format");
    if (format != NULL && (strcmp(format, "IMAGE") == 0 || strcmp(format, "VIDEO") == 0 ||
                           strcmp(format, "DOCUMENT") == 0)) {
        char member[40], message[120], lower[16];
        size_t k;

        for (k = 0; format[k] && k + 1 < sizeof(lower); k++)
            lower[k] = (char)tolower((unsigned char)format[k]);
        lower[k] = '\0';
        snprintf(member, sizeof(member), "header_%s_url", lower);
        snprintf(message, sizeof(message),
                 "header_%s_url or header_%s_file is required for %s header template", lower, lower,
                 format);
        if (rasl_empty_member(req->json, member))
            json_array_append_new(problems, json_string(message));
    } else if (format != NULL && strcmp(format, "TEXT") == 0 &&
               json_integer_value(json_object_get(template, "header_params_count")) > 0 &&
               rasl_empty_member(req->json, "header_field_1")) {
        json_array_append_new(
            problems, json_string("header_field_1 is required for TEXT header template with "
                                  "parameters"));
    }
    if (json_array_size(problems) > 0) {
        json_decref(template);
        return validation_failed(res, json_pack("{s:o}", "template_fields", problems));
    }
    json_decref(problems);

    rc = rasl_send_prepare(req, res, 1, "Application", digits, &contact);
    if (rc == EMU_OK && (rc = rasl_templates_allowed(req, res)) != EMU_OK)
        json_decref(contact);
    if (rc != EMU_OK) {
        json_decref(template);
        return rc;
    }
    text = rasl_fill_template(jsonx_string(template, "body_data"), req->json);
    rc =
        text ? rasl_send_record(req, contact, "template", text, NULL, name, NULL, &row) : EMU_NOMEM;
    if (rc == EMU_OK) {
        rc = rasl_reply(
            req, res, 200,
            sent_data(row, contact, digits,
                      json_pack("{s:s,s:s}", "template_name", name, "language", language)),
            "Template message sent successfully");
        json_decref(row);
    }
    free(text);
    json_decref(template);
    json_decref(contact);
    return rc;
}

static void check_buttons(const json_t *body, json_t *details)
{
    json_t *buttons = json_object_get(body, "buttons"), *b;
    char key[48];
    size_t i;

    if (!json_is_array(buttons) || json_array_size(buttons) == 0) {
        rasl_field_error(details, "buttons", "The buttons field is required when type is button.");
        return;
    }
    if (json_array_size(buttons) > 3)
        rasl_field_error(details, "buttons", "The buttons field must not have more than 3 items.");
    json_array_foreach(buttons, i, b)
    {
        snprintf(key, sizeof(key), "buttons.%zu.id", i);
        if (!json_is_string(json_object_get(b, "id")))
            rasl_field_error(details, key, "The button id is required.");
        snprintf(key, sizeof(key), "buttons.%zu.title", i);
        if (!json_is_string(json_object_get(b, "title")))
            rasl_field_error(details, key, "The button title is required.");
        else if (json_string_length(json_object_get(b, "title")) > 20)
            rasl_field_error(details, key,
                             "The button title must not be greater than 20 "
                             "characters.");
    }
}

static void check_sections(const json_t *body, json_t *details)
{
    json_t *sections = json_object_get(body, "sections"), *s, *r;
    char key[64];
    size_t i, j;

    rasl_check_text(body, "list_button_text", 1, 20, NULL, details);
    if (!json_is_array(sections) || json_array_size(sections) == 0) {
        rasl_field_error(details, "sections", "The sections field is required when type is list.");
        return;
    }
    if (json_array_size(sections) > 10)
        rasl_field_error(details, "sections",
                         "The sections field must not have more than 10 "
                         "items.");
    json_array_foreach(sections, i, s)
    {
        snprintf(key, sizeof(key), "sections.%zu.title", i);
        if (!json_is_string(json_object_get(s, "title")))
            rasl_field_error(details, key, "The section title is required.");
        snprintf(key, sizeof(key), "sections.%zu.rows", i);
        if (!json_is_array(json_object_get(s, "rows")) ||
            json_array_size(json_object_get(s, "rows")) == 0) {
            rasl_field_error(details, key, "The section rows are required.");
            continue;
        }
        json_array_foreach(json_object_get(s, "rows"), j, r)
        {
            snprintf(key, sizeof(key), "sections.%zu.rows.%zu.id", i, j);
            if (!json_is_string(json_object_get(r, "id")))
                rasl_field_error(details, key, "The row id is required.");
            snprintf(key, sizeof(key), "sections.%zu.rows.%zu.title", i, j);
            if (!json_is_string(json_object_get(r, "title")))
                rasl_field_error(details, key, "The row title is required.");
            else if (json_string_length(json_object_get(r, "title")) > 24)
                rasl_field_error(details, key,
                                 "The row title must not be greater than 24 "
                                 "characters.");
            snprintf(key, sizeof(key), "sections.%zu.rows.%zu.description", i, j);
            if (json_is_string(json_object_get(r, "description")) &&
                json_string_length(json_object_get(r, "description")) > 72)
                rasl_field_error(details, key,
                                 "The row description must not be greater than 72 "
                                 "characters.");
        }
    }
}

int rasl_messages_interactive(struct req *req, struct res *res)
{
    json_t *details = json_object(), *contact, *row;
    const char *type = jsonx_string(req->json, "type");
    char digits[32];
    int rc;

    rasl_check_phone(req->json, 20, details);
    if (rasl_empty_member(req->json, "type"))
        rasl_field_error(details, "type", "The type field is required.");
    else if (type == NULL || (strcmp(type, "button") != 0 && strcmp(type, "list") != 0))
        rasl_field_error(details, "type", "Type must be either button or list.");
    rasl_check_text(req->json, "body_text", 1, 1024, NULL, details);
    rasl_check_text(req->json, "header_text", 0, 60, NULL, details);
    rasl_check_text(req->json, "footer_text", 0, 60, NULL, details);
    if (type != NULL && strcmp(type, "button") == 0)
        check_buttons(req->json, details);
    if (type != NULL && strcmp(type, "list") == 0)
        check_sections(req->json, details);
    check_contact_id(req->json, details);
    if (json_object_size(details) > 0)
        return validation_failed(res, details);
    json_decref(details);
    rc = rasl_send_prepare(req, res, 1, "Application", digits, &contact);
    if (rc != EMU_OK)
        return rc;
    rc = rasl_send_record(req, contact, "interactive", jsonx_string(req->json, "body_text"), NULL,
                          NULL, NULL, &row);
    if (rc == EMU_OK) {
        rc = rasl_reply(req, res, 200,
                        sent_data(row, contact, digits, json_pack("{s:s}", "type", type)),
                        "Interactive message sent successfully");
        json_decref(row);
    }
    json_decref(contact);
    return rc;
}

/* ---- the log ---- */

static json_t *list_item(struct req *req, const json_t *m)
{
    (void)req;
    return json_pack("{s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O}", "id", json_object_get(m, "id"),
                     "interaction_id", json_object_get(m, "interaction_id"), "sender_id",
                     json_object_get(m, "sender_id"), "type", json_object_get(m, "type"), "message",
                     json_object_get(m, "message"), "status", json_object_get(m, "status"),
                     "message_id", json_object_get(m, "message_id"), "sent_at",
                     json_object_get(m, "sent_at"), "is_read", json_object_get(m, "is_read"));
}

int rasl_messages_list(struct req *req, struct res *res)
{
    json_t *rows, *newest_first;
    int rc = rasl_all(req, RASL_MESSAGES, &rows);

    if (rc != EMU_OK)
        return rc;
    newest_first = json_array(); /* the vendor orders by created_at desc before any sort */
    for (size_t i = json_array_size(rows); i-- > 0;)
        json_array_append(newest_first, json_array_get(rows, i));
    json_decref(rows);
    return rasl_list(req, res, newest_first, &message_list, list_item);
}

int rasl_messages_get(struct req *req, struct res *res)
{
    json_t *m, *data;
    int rc = rasl_get(req, RASL_MESSAGES, rasl_path_id(req), &m);

    if (rc == EMU_NOT_FOUND)
        return rasl_fail(res, "NOT_FOUND", "Message not found.", NULL);
    if (rc != EMU_OK)
        return rc;
    data = json_pack(
        "{s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O}", "id", json_object_get(m, "id"),
        "interaction_id", json_object_get(m, "interaction_id"), "sender_id",
        json_object_get(m, "sender_id"), "type", json_object_get(m, "type"), "message",
        json_object_get(m, "message"), "status", json_object_get(m, "status"), "status_message",
        json_object_get(m, "status_message"), "message_id", json_object_get(m, "message_id"),
        "ref_message_id", json_object_get(m, "ref_message_id"), "url", json_object_get(m, "url"),
        "sent_at", json_object_get(m, "sent_at"), "is_read", json_object_get(m, "is_read"),
        "staff_id", json_object_get(m, "staff_id"));
    json_decref(m);
    return rasl_reply(req, res, 200, data, "Message retrieved successfully");
}
