/* messages.c -- RASL message sends (text, media, template, interactive) and the message log.
 *
 * Nothing reaches WhatsApp: a send runs the vendor's checks in its order (validation, the
 * contact found by phone or created, opt-out for all but text, the WhatsApp connection, the
 * plan's conversation limit), then records the message, which GET /messages shows, and an
 * outbox entry, which GET /__admin/outbox shows. Message ids are wamid.… strings drawn from the
 * seeded generator. A contact's chat is the contact itself: chat_id is the contact's id.
 *
 * Every member a send reads goes through Laravel's rules first (the rasl_rule_* helpers here,
 * shared with the other resources): a value of the wrong type is the rule's sentence under the
 * member's name, never a crash. A media send may upload media_file in place of media_url, and a
 * template send header_<kind>_file in place of header_<kind>_url: the upload is checked against
 * the vendor's extensions and sizes per media type, "stored" at the URL the vendor would give it,
 * and its name, type and size go to the outbox entry. */
#include "rasl.h"

#include <ctype.h>
#include <math.h>
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
static const struct rasl_list_spec message_list = {
    .table = RASL_MESSAGES,
    .filters = message_filters,
    .sorts = message_sorts,
    .searches = message_searches,
    .indexed = message_filters, /* each an equality the "field" index serves */
    .newest_first = 1,          /* the vendor orders by created_at desc before any sort */
};

/* ---- validation ---- */

/* What Laravel's required rule refuses: nothing, null, "" and an empty array or object. */
static int required_missing(const json_t *v)
{
    return field_is_empty(v) || (json_is_array(v) && json_array_size(v) == 0) ||
           (json_is_object(v) && json_object_size(v) == 0);
}

/* The vendor's phone rules: required, 10 to max characters of digits, +, -, spaces and
 * parentheses. */
void rasl_messages_check_phone(const json_t *body, size_t max, json_t *details)
{
    json_t *v = json_object_get(body, "phone");
    const char *s = json_string_value(v);
    char message[64];

    if (required_missing(v)) {
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

void rasl_spoken(const char *member, char *out, size_t len)
{
    size_t i = 0;

    for (; member[i] && i + 1 < len; i++)
        out[i] = member[i] == '_' ? ' ' : member[i];
    out[i] = '\0';
}

void rasl_rule_error(json_t *details, const char *field, const char *tail)
{
    char message[200], name[96];

    rasl_spoken(field, name, sizeof(name));
    snprintf(message, sizeof(message), "The %s field %s", name, tail);
    rasl_field_error(details, field, message);
}

enum field_state rasl_rule_string(const json_t *obj, const char *member, const char *field,
                                  json_t *details, const char **out)
{
    const char *value = NULL;
    enum field_state s = field_string(obj, member, &value);

    if (s == FIELD_WRONG_TYPE)
        rasl_rule_error(details, field ? field : member, "must be a string.");
    if (out != NULL)
        *out = s == FIELD_OK ? value : NULL;
    return s;
}

enum field_state rasl_integer_of(const json_t *v, json_int_t *out)
{
    /* PHP writes a float of 1e15 or more as "1.0E+15", which its integer rule refuses; below
     * that an integral float (7.0) reads as the integer it is. */
    if (json_is_real(v) && fabs(json_real_value(v)) >= 1e15)
        return FIELD_WRONG_TYPE;
    if (json_is_string(v) && json_string_length(v) == 0)
        return FIELD_NULL; /* Laravel turns "" into null before any rule */
    return field_integer_of(v, FIELD_LENIENT, out);
}

enum field_state rasl_rule_integer(const json_t *obj, const char *member, const char *field,
                                   json_t *details, json_int_t *out)
{
    json_int_t value = 0;
    enum field_state s = rasl_integer_of(json_object_get(obj, member), &value);

    if (s == FIELD_WRONG_TYPE)
        rasl_rule_error(details, field ? field : member, "must be an integer.");
    if (out != NULL)
        *out = s == FIELD_OK ? value : 0;
    return s;
}

enum field_state rasl_rule_boolean(const json_t *obj, const char *member, const char *field,
                                   json_t *details, int *out)
{
    int value = 0;
    json_t *v = json_object_get(obj, member);
    enum field_state s = json_is_string(v) && json_string_length(v) == 0
                             ? FIELD_NULL /* Laravel turns "" into null before any rule */
                             : field_boolean(obj, member, FIELD_LENIENT, &value);

    if (s == FIELD_WRONG_TYPE)
        rasl_rule_error(details, field ? field : member, "must be true or false.");
    if (out != NULL)
        *out = s == FIELD_OK ? value : 0;
    return s;
}

enum field_state rasl_rule_array(const json_t *obj, const char *member, const char *field,
                                 json_t *details, json_t **out)
{
    json_t *value = NULL, *v = json_object_get(obj, member);
    enum field_state s = json_is_string(v) && json_string_length(v) == 0
                             ? FIELD_NULL /* Laravel turns "" into null before any rule */
                             : field_array(obj, member, &value);

    if (s == FIELD_WRONG_TYPE)
        rasl_rule_error(details, field ? field : member, "must be an array.");
    if (out != NULL)
        *out = s == FIELD_OK ? value : NULL;
    return s;
}

/* A string member that is optional (or required) with a maximum length, in Laravel's words. */
void rasl_messages_check_text(const json_t *body, const char *member, int required, size_t max,
                              const char *missing, json_t *details)
{
    json_t *v = json_object_get(body, member);
    char message[160], name[64];

    rasl_spoken(member, name, sizeof(name));
    /* required refuses an empty array too; nullable lets only null (and "") through */
    if (required ? required_missing(v) : field_is_empty(v)) {
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

/* contact_id: an integer (12 or "12") when present. */
static void check_contact_id(const json_t *body, json_t *details)
{
    json_int_t id;

    if (rasl_integer_of(json_object_get(body, "contact_id"), &id) == FIELD_WRONG_TYPE)
        rasl_field_error(details, "contact_id", "Contact ID must be a valid integer.");
}

int rasl_messages_empty_member(const json_t *body, const char *member)
{
    return required_missing(json_object_get(body, member));
}

static int is_url(const char *s)
{
    return s != NULL && (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0) &&
           strchr(s, ' ') == NULL && strlen(s) > 10;
}

/* ---- the shared send path ---- */

/* Digits of a phone number, without '+', spaces or punctuation. */
void rasl_messages_phone_digits(const char *phone, char *out, size_t len)
{
    size_t n = 0;

    for (; phone != NULL && *phone && n + 1 < len; phone++)
        if (isdigit((unsigned char)*phone))
            out[n++] = *phone;
    out[n] = '\0';
}

static int contact_by_phone(struct req *req, const char *plus_phone, json_t **out)
{
    return rasl_contact_with(req, "phone", plus_phone, 1, 0, out);
}

/* EMU_OK when the tenant's plan has room for one more contact; otherwise fails the request. */
static int contact_room(struct req *req, struct res *res)
{
    json_t *account;
    long count = 0, maximum;
    int rc = rasl_account_row(req, &account);

    if (rc != EMU_OK && rc != EMU_NOT_FOUND)
        return rc;
    maximum = account ? (long)json_integer_value(
                            json_object_get(json_object_get(account, "limits"), "contacts"))
                      : -1;
    json_decref(account);
    if (maximum < 0)
        return EMU_OK;
    rc = rasl_count(req, RASL_CONTACTS, &count);
    if (rc != EMU_OK)
        return rc;
    if (count >= maximum)
        return rasl_fail(res, "FEATURE_LIMIT_EXCEEDED",
                         "Feature limit exceeded for contacts. Please upgrade your plan.",
                         json_pack("{s:s,s:i,s:i}", "feature", "contacts", "current", (int)count,
                                   "maximum", (int)maximum));
    return EMU_OK;
}

/* A new lead for phone digits with the tenant's default status and source (where names the
 * settings page when they are missing). *out is a new reference. */
static int create_lead(struct req *req, struct res *res, const char *digits, const char *where,
                       json_t **out)
{
    json_t *settings, *missing;
    char plus[40], now[32];
    json_int_t new_id;
    int rc = rasl_settings(req, &settings);

    if (rc != EMU_OK)
        return rc;
    missing = json_object();
    if (!json_is_integer(json_object_get(settings, "default_status_id")))
        json_object_set_new(missing, "lead_status", json_string("Lead status not configured"));
    if (!json_is_integer(json_object_get(settings, "default_source_id")))
        json_object_set_new(missing, "lead_source", json_string("Lead source not configured"));
    if (json_object_size(missing) > 0) {
        char message[200];

        json_decref(settings);
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
    snprintf(plus, sizeof(plus), "+%s", digits);
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
    return rc == EMU_OK ? rasl_events_emit(req, "contact.created", "contact", *out, NULL) : rc;
}

/* The contact a send goes to: contact_id's (which must hold this phone), or the tenant's
 * contact with this phone, or a new lead created with the tenant's default status and source.
 * *out is a new reference. */
static int find_or_create(struct req *req, struct res *res, const char *digits, const char *where,
                          json_t **out)
{
    char plus[40];
    json_int_t id = 0;
    int rc;

    snprintf(plus, sizeof(plus), "+%s", digits);
    /* Validation has refused a contact_id that is not an integer; 0 means none, as the
     * vendor's truthiness test reads it. */
    if (rasl_integer_of(json_object_get(req->json, "contact_id"), &id) == FIELD_OK && id != 0) {
        rc = rasl_get(req, RASL_CONTACTS, id, out);
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
    rc = contact_room(req, res);
    return rc == EMU_OK ? create_lead(req, res, digits, where, out) : rc;
}

/* *out is the number of the tenant's messages in contact_id's conversation. */
static int chat_messages(struct req *req, json_int_t contact_id, long *out)
{
    char group[STORE_INDEX_PART + 64], text[32];

    snprintf(text, sizeof(text), "%lld", (long long)contact_id);
    rasl_group(req->tenant, "interaction_id", text, group, sizeof(group));
    return rasl_group_count(req, RASL_MESSAGES, group, out);
}

/* Whether this send opens a conversation the plan has no room for. The conversations so far
 * are the messages that opened one (RASL_OPENS_CHAT), counted by the index. */
static int conversation_room(struct req *req, struct res *res, json_int_t contact_id)
{
    json_t *account;
    char group[STORE_INDEX_PART + 16];
    long limit, used, chats = 0, talked = 0;
    int rc = rasl_account_row(req, &account);

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
    snprintf(group, sizeof(group), "%s/opener", req->tenant);
    rc = rasl_group_count(req, RASL_MESSAGES, group, &chats);
    if (rc == EMU_OK)
        rc = chat_messages(req, contact_id, &talked);
    if (rc != EMU_OK)
        return rc;
    used += chats;
    if (talked == 0 && used >= limit)
        return rasl_fail(res, "FEATURE_LIMIT_EXCEEDED",
                         "Conversation limit reached. Please upgrade your plan.", NULL);
    return EMU_OK;
}

int rasl_messages_send_prepare(struct req *req, struct res *res, int check_opt_out,
                               const char *where, char digits[32], json_t **contact)
{
    int rc;

    rasl_messages_phone_digits(jsonx_string(req->json, "phone"), digits, 32);
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

json_t *rasl_client_text(const char *s)
{
    json_t *v;
    char *copy;

    if (s == NULL)
        return json_null();
    if ((v = json_string(s)) != NULL || (copy = strdup(s)) == NULL)
        return v;
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    v = json_string(copy);
    free(copy);
    return v;
}

int rasl_messages_send_record(struct req *req, const json_t *contact, const char *type,
                              const char *text, const char *url, const char *template_name,
                              const char *code, const struct req_file *file, json_t **row)
{
    json_t *settings, *entry;
    char uuid[37], wamid[64], now[32];
    const char *kind;
    json_int_t id;
    long earlier = 0;
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
    rc = chat_messages(req, json_integer_value(json_object_get(contact, "id")), &earlier);
    if (rc == EMU_OK && earlier == 0)
        rc = json_object_set_new(*row, RASL_OPENS_CHAT, json_true()) == 0 ? EMU_OK : EMU_NOMEM;
    if (rc == EMU_OK)
        rc = rasl_put(req, RASL_MESSAGES, *row);
    kind = code != NULL ? "otp"
           : strcmp(type, "template") == 0 || strcmp(type, "interactive") == 0 ||
                   strcmp(type, "text") == 0
               ? type
               : "media";
    entry = json_pack("{s:s,s:s,s:O,s:s,s:s?,s:s?,s:s?,s:s}", "tenant", req->tenant, "kind", kind,
                      "phone", json_object_get(contact, "phone"), "message_id", wamid, "text", text,
                      "template_name", template_name, "code", code, "sent_at", now);
    if (entry != NULL && file != NULL) /* what was uploaded, as the client described it */
        json_object_update_new(
            entry,
            json_pack("{s:o,s:o,s:I}", "file_name", rasl_client_text(file->filename), "file_type",
                      rasl_client_text(*file->content_type ? file->content_type : NULL),
                      "file_size", (json_int_t)file->len));
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

    rasl_messages_check_phone(req->json, 20, details);
    rasl_messages_check_text(req->json, "message", 1, SIZE_MAX, "Message text is required.",
                             details);
    if (json_object_get(details, "message") == NULL &&
        json_is_string(json_object_get(req->json, "message")) &&
        json_string_length(json_object_get(req->json, "message")) > 4096)
        rasl_field_error(details, "message", "Message cannot exceed 4096 characters.");
    check_contact_id(req->json, details);
    if (json_object_size(details) > 0) /* the vendor nests these under "errors" for text */
        return validation_failed(res, json_pack("{s:o}", "errors", details));
    json_decref(details);
    rc = rasl_messages_send_prepare(req, res, 0, "Application", digits, &contact);
    if (rc != EMU_OK)
        return rc;
    text = merge_fields(jsonx_string(req->json, "message"), contact);
    rc = text ? rasl_messages_send_record(req, contact, "text", text, NULL, NULL, NULL, NULL, &row)
              : EMU_NOMEM;
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

/* ---- uploads ---- */

/* The extensions and size the vendor accepts for each kind of media it sends. */
static const struct media_rule {
    const char *type;
    const char *extensions[9]; /* NULL-ended */
    size_t megabytes;
} media_rules[] = {
    {"image", {"jpeg", "png", NULL}, 5},
    {"video", {"mp4", "3gp", NULL}, 16},
    {"audio", {"aac", "amr", "mp3", "m4a", "ogg", NULL}, 16},
    {"document", {"pdf", "doc", "docx", "txt", "xls", "xlsx", "ppt", "pptx", NULL}, 100},
};

static const struct media_rule *media_rule_of(const char *type)
{
    for (size_t i = 0; type != NULL && i < sizeof(media_rules) / sizeof(media_rules[0]); i++)
        if (strcmp(media_rules[i].type, type) == 0)
            return &media_rules[i];
    return NULL;
}

/* The lower-cased extension of a client's file name (after the last '.' of its last path
 * segment), into out; "" when it has none or it does not fit. */
static void file_extension(const char *name, char *out, size_t len)
{
    const char *base = strrchr(name, '/'), *dot;
    size_t n, i;

    base = base ? base + 1 : name;
    dot = strrchr(base, '.');
    out[0] = '\0';
    if (dot == NULL || (n = strlen(dot + 1)) >= len)
        return;
    for (i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)dot[1 + i]);
    out[n] = '\0';
}

static int extension_allowed(const struct media_rule *rule, const char *ext)
{
    for (size_t i = 0; rule->extensions[i] != NULL; i++)
        if (strcmp(rule->extensions[i], ext) == 0)
            return 1;
    return 0;
}

/* "jpeg, png" */
static void allowed_list(const struct media_rule *rule, char *out, size_t len)
{
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; rule->extensions[i] != NULL && used < len; i++)
        used +=
            (size_t)snprintf(out + used, len - used, "%s%s", i ? ", " : "", rule->extensions[i]);
}

/* Whether file is over the rule's size; the vendor compares megabytes with a fraction. */
static int too_big(const struct media_rule *rule, const struct req_file *file)
{
    return file->len > rule->megabytes * 1024 * 1024;
}

/* The URL the vendor gives a stored upload: its public storage folder, the time and the file's
 * name made a slug (letters and digits, lower case, runs of anything else one '_', dots and
 * dashes dropped), then the extension. */
static void stored_url(const struct req *req, const char *folder, const char *prefix,
                       const struct req_file *file, char *out, size_t len)
{
    const char *base = strrchr(file->filename, '/'), *dot;
    char slug[128], ext[16], host[256];
    size_t n = 0, stem;
    int gap = 0;

    base = base ? base + 1 : file->filename;
    dot = strrchr(base, '.');
    stem = dot ? (size_t)(dot - base) : strlen(base);
    for (size_t i = 0; i < stem && n + 2 < sizeof(slug); i++) {
        unsigned char c = (unsigned char)base[i];

        if (isalnum(c) && c < 0x80) {
            if (gap && n > 0)
                slug[n++] = '_';
            slug[n++] = (char)tolower(c);
            gap = 0;
        } else if (c == '_' || isspace(c)) {
            gap = 1;
        }
    }
    slug[n] = '\0';
    file_extension(file->filename, ext, sizeof(ext));
    rasl_host(req, host, sizeof(host));
    snprintf(out, len, "http://%s/storage/%s/%s%lld_%s.%s", host, folder, prefix,
             (long long)(req->now_ms / 1000), slug, ext);
}

/* The vendor's answer to an upload it refuses, which is not its API envelope. */
static int refuse_upload(struct res *res, const char *message)
{
    res_json(res, 422, json_pack("{s:s,s:s}", "status", "error", "message", message));
    return EMU_OK;
}

/* Laravel's "nullable|string|max:N" on member of obj, reported under field. */
static void check_string_max(const json_t *obj, const char *member, const char *field, size_t max,
                             json_t *details)
{
    const char *text;
    char tail[96];

    if (rasl_rule_string(obj, member, field, details, &text) == FIELD_OK && strlen(text) > max) {
        snprintf(tail, sizeof(tail), "must not be greater than %zu characters.", max);
        rasl_rule_error(details, field, tail);
    }
}

/* The rules on the optional contact object: validated, then unused, as the vendor does. */
static void check_contact_object(const json_t *body, json_t *details)
{
    json_t *contact = json_object_get(body, "contact"), *email;

    if (!json_is_object(contact))
        return;
    check_string_max(contact, "firstname", "contact.firstname", 255, details);
    check_string_max(contact, "lastname", "contact.lastname", 255, details);
    email = json_object_get(contact, "email");
    if (!field_is_empty(email) &&
        (!json_is_string(email) || !rasl_contacts_valid_email(json_string_value(email))))
        rasl_rule_error(details, "contact.email", "must be a valid email address.");
    else if (json_is_string(email) && json_string_length(email) > 191)
        rasl_rule_error(details, "contact.email", "must not be greater than 191 characters.");
    check_string_max(contact, "country", "contact.country", 100, details);
    rasl_rule_integer(contact, "assigned_id", "contact.assigned_id", details, NULL);
    check_string_max(contact, "groups", "contact.groups", SIZE_MAX, details);
}

/* A little over 60 lines: validation, the upload, the send and the answer in the vendor's
 * order, each step a call. */
int rasl_messages_media(struct req *req, struct res *res)
{
    json_t *details = json_object(), *contact, *row;
    const struct req_file *file = req_file(req, "media_file");
    const struct media_rule *rule;
    const char *type = NULL, *url = NULL;
    char digits[32], stored[512], message[200], ext[16], allowed[96];
    int rc;

    rasl_messages_check_phone(req->json, 15, details);
    if (rasl_messages_empty_member(req->json, "media_type")) {
        rasl_field_error(details, "media_type", "The media type field is required.");
    } else {
        rasl_rule_string(req->json, "media_type", NULL, details, &type);
        if (media_rule_of(type) == NULL)
            rasl_field_error(details, "media_type", "The selected media type is invalid.");
    }
    if (rasl_messages_empty_member(req->json, "media_url")) {
        if (file == NULL && rasl_messages_empty_member(req->json, "media_file"))
            rasl_field_error(details, "media_url",
                             "The media url field is required when media file is not present.");
    } else if (!is_url(url = jsonx_string(req->json, "media_url"))) {
        rasl_field_error(details, "media_url", "The media url field must be a valid URL.");
    }
    if (file == NULL && !rasl_messages_empty_member(req->json, "media_file"))
        rasl_field_error(details, "media_file", "The media file field must be a file.");
    rasl_messages_check_text(req->json, "caption", 0, 1024, NULL, details);
    rasl_messages_check_text(req->json, "filename", 0, 255, NULL, details);
    check_contact_object(req->json, details);
    if (json_object_size(details) > 0)
        return validation_failed(res, details);
    json_decref(details);
    rule = media_rule_of(type);
    if (file != NULL) { /* an upload wins over a URL, and must fit the media type's rules */
        file_extension(file->filename, ext, sizeof(ext));
        allowed_list(rule, allowed, sizeof(allowed));
        if (!extension_allowed(rule, ext)) {
            snprintf(message, sizeof(message), "Invalid file extension for %s. Allowed: %s", type,
                     allowed);
            return refuse_upload(res, message);
        }
        if (too_big(rule, file)) {
            snprintf(message, sizeof(message),
                     "File size exceeds limit for %s. Max allowed is %zu MB", type,
                     rule->megabytes);
            return refuse_upload(res, message);
        }
        stored_url(req, "whatsapp-attachments", "", file, stored, sizeof(stored));
        url = stored;
    }
    rc = rasl_messages_send_prepare(req, res, 1, "Application", digits, &contact);
    if (rc != EMU_OK)
        return rc;
    rc = rasl_messages_send_record(req, contact, type, jsonx_string(req->json, "caption"), url,
                                   NULL, NULL, file, &row);
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

/* The length of a placeholder {{1}} to {{10}} at p, and its number in *n; 0 when p holds none.
 * The digits are read by hand, so no text can overflow a number. */
static size_t placeholder(const char *p, int *n)
{
    size_t digits = 0;

    if (p[0] != '{' || p[1] != '{')
        return 0;
    *n = 0;
    while (digits < 2 && isdigit((unsigned char)p[2 + digits]))
        *n = *n * 10 + (p[2 + digits++] - '0');
    if (digits == 0 || *n < 1 || *n > 10 || p[2 + digits] != '}' || p[3 + digits] != '}')
        return 0;
    return 4 + digits;
}

/* The body text with {{n}} replaced by field_n (a string) of params. New malloc'd text. The
 * first pass measures, the second writes, so a placeholder used twice is room for two. */
char *rasl_templates_fill(const char *body, const json_t *params)
{
    char *out = NULL;
    size_t used = 0;

    for (int pass = 0; pass < 2; pass++) {
        const char *p = body;

        used = 0;
        while (*p) {
            char name[16];
            const char *value;
            int n;
            size_t len = placeholder(p, &n);

            if (len == 0) {
                if (out != NULL)
                    out[used] = *p;
                used++, p++;
                continue;
            }
            snprintf(name, sizeof(name), "field_%d", n);
            value = jsonx_string(params, name);
            if (value != NULL && out != NULL)
                memcpy(out + used, value, strlen(value));
            used += value != NULL ? strlen(value) : 0;
            p += len;
        }
        if (pass == 0 && (out = malloc(used + 1)) == NULL)
            return NULL;
    }
    out[used] = '\0';
    return out;
}

/* The members a template send may add, in the order of the vendor's rules: header media URLs
 * and files (with the files' sizes in kilobytes), the document's name, the header and body
 * parameters, the button parameters and the OTP options. */
static void check_template_members(const struct req *req, json_t *details)
{
    static const struct {
        const char *kind;
        size_t kilobytes;
    } headers[] = {{"image", 5120}, {"video", 16384}, {"document", 102400}};
    char member[32], tail[96];
    json_int_t number;

    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        const struct req_file *file;

        snprintf(member, sizeof(member), "header_%s_url", headers[i].kind);
        if (!rasl_messages_empty_member(req->json, member) &&
            !is_url(jsonx_string(req->json, member)))
            rasl_rule_error(details, member, "must be a valid URL.");
        snprintf(member, sizeof(member), "header_%s_file", headers[i].kind);
        file = req_file(req, member);
        if (file == NULL && !rasl_messages_empty_member(req->json, member)) {
            rasl_rule_error(details, member, "must be a file.");
        } else if (file != NULL && file->len > headers[i].kilobytes * 1024) {
            snprintf(tail, sizeof(tail), "must not be greater than %zu kilobytes.",
                     headers[i].kilobytes);
            rasl_rule_error(details, member, tail);
        }
    }
    check_string_max(req->json, "header_document_name", "header_document_name", 255, details);
    rasl_rule_string(req->json, "header_field_1", NULL, details, NULL);
    for (int i = 1; i <= 10; i++) {
        snprintf(member, sizeof(member), "field_%d", i);
        rasl_rule_string(req->json, member, NULL, details, NULL);
    }
    for (int i = 0; i <= 2; i++) {
        snprintf(member, sizeof(member), "button_%d", i);
        rasl_rule_string(req->json, member, NULL, details, NULL);
    }
    rasl_rule_boolean(req->json, "auto_generate_otp", NULL, details, NULL);
    if (rasl_rule_integer(req->json, "otp_field_number", NULL, details, &number) == FIELD_OK) {
        if (number < 6)
            rasl_rule_error(details, "otp_field_number", "must be at least 6.");
        else if (number > 6)
            rasl_rule_error(details, "otp_field_number", "must not be greater than 6.");
    }
}

/* The vendor's own checks of an uploaded header after validation: its extension, then its
 * size, each refused with the header_media detail. */
static int check_header_file(struct res *res, const struct media_rule *rule,
                             const struct req_file *file)
{
    char ext[16], message[120], detail[120];

    file_extension(file->filename, ext, sizeof(ext));
    if (!extension_allowed(rule, ext)) {
        char allowed[96];

        allowed_list(rule, allowed, sizeof(allowed));
        snprintf(message, sizeof(message), "Invalid file extension for %s", rule->type);
        snprintf(detail, sizeof(detail), "Allowed: %s", allowed);
        return rasl_fail(res, "VALIDATION_ERROR", message,
                         json_pack("{s:[s]}", "header_media", detail));
    }
    if (too_big(rule, file)) {
        snprintf(message, sizeof(message), "File size exceeds %zu MB limit", rule->megabytes);
        snprintf(detail, sizeof(detail), "Max size: %zu MB", rule->megabytes);
        return rasl_fail(res, "VALIDATION_ERROR", message,
                         json_pack("{s:[s]}", "header_media", detail));
    }
    return EMU_OK;
}

/* What a template send lacks for template's parameters and header, as a new array of the
 * vendor's sentences (empty when nothing). A media header's uploaded file and its rule go to
 * *header_file and *header_rule (NULL when none). */
static json_t *template_problems(struct req *req, const json_t *template,
                                 const struct req_file **header_file,
                                 const struct media_rule **header_rule)
{
    json_t *problems = json_array();
    const char *format;

    /* A fixture's count is trusted only as far as a template can have parameters. */
    for (json_int_t i = 1;
         i <= json_integer_value(json_object_get(template, "body_params_count")) && i <= 100; i++) {
        char field[16], message[80];

        snprintf(field, sizeof(field), "field_%lld", (long long)i);
        snprintf(message, sizeof(message), "%s is required (body parameter %lld)", field,
                 (long long)i);
        if (rasl_messages_empty_member(req->json, field))
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
        snprintf(member, sizeof(member), "header_%s_file", lower);
        *header_file = req_file(req, member);
        *header_rule = media_rule_of(lower);
        snprintf(member, sizeof(member), "header_%s_url", lower);
        snprintf(message, sizeof(message),
                 "header_%s_url or header_%s_file is required for %s header template", lower, lower,
                 format);
        if (rasl_messages_empty_member(req->json, member) && *header_file == NULL)
            json_array_append_new(problems, json_string(message));
    } else if (format != NULL && strcmp(format, "TEXT") == 0 &&
               json_integer_value(json_object_get(template, "header_params_count")) > 0 &&
               rasl_messages_empty_member(req->json, "header_field_1")) {
        json_array_append_new(
            problems, json_string("header_field_1 is required for TEXT header template with "
                                  "parameters"));
    }
    return problems;
}

/* A little over 60 lines: validation, the upload, the send and the answer in the vendor's
 * order, each step a call. */
int rasl_messages_template(struct req *req, struct res *res)
{
    json_t *details = json_object(), *template = NULL, *contact, *row, *problems;
    const char *name = jsonx_string(req->json, "template_name");
    const char *language = jsonx_string(req->json, "language");
    const char *url = NULL;
    const struct req_file *header_file = NULL;
    const struct media_rule *header_rule = NULL;
    char digits[32], *text, stored[512];
    int rc;

    rasl_messages_check_phone(req->json, 20, details);
    rasl_messages_check_text(req->json, "template_name", 1, 255, NULL, details);
    rasl_messages_check_text(req->json, "language", 1, 10, NULL, details);
    check_contact_id(req->json, details);
    check_template_members(req, details);
    if (json_object_size(details) > 0)
        return validation_failed(res, details);
    json_decref(details);
    rc = rasl_templates_find(req, name, language, &template);
    if (rc == EMU_NOT_FOUND)
        return rasl_fail(res, "NOT_FOUND", "Template not found.", NULL);
    if (rc != EMU_OK)
        return rc;

    problems = template_problems(req, template, &header_file, &header_rule);
    if (json_array_size(problems) > 0) {
        json_decref(template);
        return validation_failed(res, json_pack("{s:o}", "template_fields", problems));
    }
    json_decref(problems);
    if (header_file != NULL &&
        header_rule != NULL) { /* an uploaded header, as the vendor takes it */
        rc = check_header_file(res, header_rule, header_file);
        if (rc != EMU_OK) {
            json_decref(template);
            return rc;
        }
        stored_url(req, "whatsapp-templates", "template_header_", header_file, stored,
                   sizeof(stored));
        url = stored;
    }

    rc = rasl_messages_send_prepare(req, res, 1, "Application", digits, &contact);
    if (rc == EMU_OK && (rc = rasl_templates_allowed(req, res)) != EMU_OK)
        json_decref(contact);
    if (rc != EMU_OK) {
        json_decref(template);
        return rc;
    }
    text = rasl_templates_fill(jsonx_string(template, "body_data"), req->json);
    rc = text ? rasl_messages_send_record(req, contact, "template", text, url, name, NULL,
                                          header_rule != NULL ? header_file : NULL, &row)
              : EMU_NOMEM;
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

/* A required string member of an array item (the vendor's own "required" sentence), then
 * Laravel's string rule and a maximum length, reported as field. */
static void check_item_text(const json_t *item, const char *member, const char *field,
                            const char *missing, size_t max, const char *too_long, json_t *details)
{
    json_t *v = json_object_get(item, member);

    if (missing != NULL ? required_missing(v) : field_is_empty(v)) {
        if (missing != NULL)
            rasl_field_error(details, field, missing);
    } else if (!json_is_string(v)) {
        rasl_rule_error(details, field, "must be a string.");
    } else if (json_string_length(v) > max) {
        rasl_field_error(details, field, too_long);
    }
}

static void check_buttons(const json_t *body, json_t *details)
{
    json_t *buttons = json_object_get(body, "buttons"), *b;
    char id[48], title[48];
    size_t i;

    if (required_missing(buttons)) {
        rasl_field_error(details, "buttons", "The buttons field is required when type is button.");
        return;
    }
    if (!json_is_array(buttons)) {
        rasl_rule_error(details, "buttons", "must be an array.");
        return;
    }
    if (json_array_size(buttons) > 3)
        rasl_field_error(details, "buttons", "The buttons field must not have more than 3 items.");
    json_array_foreach(buttons, i, b)
    {
        snprintf(id, sizeof(id), "buttons.%zu.id", i);
        snprintf(title, sizeof(title), "buttons.%zu.title", i);
        check_item_text(b, "id", id, "The button id is required.", SIZE_MAX, NULL, details);
        check_item_text(b, "title", title, "The button title is required.", 20,
                        "The button title must not be greater than 20 characters.", details);
    }
}

static void check_sections(const json_t *body, json_t *details)
{
    json_t *sections = json_object_get(body, "sections"), *s, *r, *rows;
    char key[64], id[80], title[80], description[80];
    size_t i, j;

    rasl_messages_check_text(body, "list_button_text", 1, 20, NULL, details);
    if (required_missing(sections)) {
        rasl_field_error(details, "sections", "The sections field is required when type is list.");
        return;
    }
    if (!json_is_array(sections)) {
        rasl_rule_error(details, "sections", "must be an array.");
        return;
    }
    if (json_array_size(sections) > 10)
        rasl_field_error(details, "sections",
                         "The sections field must not have more than 10 "
                         "items.");
    json_array_foreach(sections, i, s)
    {
        snprintf(key, sizeof(key), "sections.%zu.title", i);
        check_item_text(s, "title", key, "The section title is required.", SIZE_MAX, NULL, details);
        snprintf(key, sizeof(key), "sections.%zu.rows", i);
        rows = json_object_get(s, "rows");
        if (required_missing(rows)) {
            rasl_field_error(details, key, "The section rows are required.");
            continue;
        }
        if (!json_is_array(rows)) {
            rasl_rule_error(details, key, "must be an array.");
            continue;
        }
        json_array_foreach(rows, j, r)
        {
            snprintf(id, sizeof(id), "sections.%zu.rows.%zu.id", i, j);
            snprintf(title, sizeof(title), "sections.%zu.rows.%zu.title", i, j);
            snprintf(description, sizeof(description), "sections.%zu.rows.%zu.description", i, j);
            check_item_text(r, "id", id, "The row id is required.", SIZE_MAX, NULL, details);
            check_item_text(r, "title", title, "The row title is required.", 24,
                            "The row title must not be greater than 24 characters.", details);
            check_item_text(r, "description", description, NULL, 72,
                            "The row description must not be greater than 72 characters.", details);
        }
    }
}

int rasl_messages_interactive(struct req *req, struct res *res)
{
    json_t *details = json_object(), *contact, *row;
    const char *type = jsonx_string(req->json, "type");
    char digits[32];
    int rc;

    rasl_messages_check_phone(req->json, 20, details);
    if (rasl_messages_empty_member(req->json, "type")) {
        rasl_field_error(details, "type", "The type field is required.");
    } else {
        rasl_rule_string(req->json, "type", NULL, details, &type);
        if (type == NULL || (strcmp(type, "button") != 0 && strcmp(type, "list") != 0))
            rasl_field_error(details, "type", "Type must be either button or list.");
    }
    rasl_messages_check_text(req->json, "body_text", 1, 1024, NULL, details);
    rasl_messages_check_text(req->json, "header_text", 0, 60, NULL, details);
    rasl_messages_check_text(req->json, "footer_text", 0, 60, NULL, details);
    if (type != NULL && strcmp(type, "button") == 0)
        check_buttons(req->json, details);
    if (type != NULL && strcmp(type, "list") == 0)
        check_sections(req->json, details);
    check_contact_id(req->json, details);
    if (json_object_size(details) > 0)
        return validation_failed(res, details);
    json_decref(details);
    rc = rasl_messages_send_prepare(req, res, 1, "Application", digits, &contact);
    if (rc != EMU_OK)
        return rc;
    rc =
        rasl_messages_send_record(req, contact, "interactive", jsonx_string(req->json, "body_text"),
                                  NULL, NULL, NULL, NULL, &row);
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

static json_t *list_item(struct req *req, const json_t *query, const json_t *m)
{
    (void)req;
    (void)query;
    return json_pack("{s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O}", "id", json_object_get(m, "id"),
                     "interaction_id", json_object_get(m, "interaction_id"), "sender_id",
                     json_object_get(m, "sender_id"), "type", json_object_get(m, "type"), "message",
                     json_object_get(m, "message"), "status", json_object_get(m, "status"),
                     "message_id", json_object_get(m, "message_id"), "sent_at",
                     json_object_get(m, "sent_at"), "is_read", json_object_get(m, "is_read"));
}

int rasl_messages_list(struct req *req, struct res *res)
{
    return rasl_list(req, res, &message_list, list_item);
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
