/* contacts.c -- Guayaba contacts: create (an upsert by phone), update by phone or by id, and
 * fulfil; the list is contacts_list.c's.
 *
 * A stored contact is {id, name, phoneNumber, timezone, status, customVariables, campaignId,
 * createdAt, updatedAt, fulfilledAt, reAddedAt, deletedAt}. A contact with deletedAt set was
 * deleted in the vendor's dashboard: it is invisible to every call, and creating it again by
 * phone reactivates it (reAddedAt). The store's phone index maps each phone number of a tenant
 * to its contact, so lookups by phone and the duplicate check cost a seek. Each endpoint answers
 * with the fields and key order the vendor's documentation shows for it. */
#include "guayaba.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "err.h"
#include "field.h"
#include "jsonx.h"
#include "req.h"
#include "store.h"

#define NAME_MAX_CHARS 255

static json_t *member(const json_t *doc, const char *key)
{
    json_t *v = json_object_get(doc, key);

    return v ? v : json_null();
}

int guayaba_contact_deleted(const json_t *contact)
{
    json_t *d = json_object_get(contact, "deletedAt");

    return d != NULL && !json_is_null(d);
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* ---- validation of request fields; each records the vendor's sentence on failure ----
 *
 * Every member is read through field.h, so a value of another JSON type than the field takes is
 * a 400 naming the field: "<field> must be a string" for free text, the format's own sentence
 * for UUIDs and time zones (a number is no more a UUID than "Q1" is), "customVariables must be
 * an object". JSON null reads as absent where a field is optional. */

static int need_phone(struct res *res, const json_t *body, const char *key, const char **out)
{
    switch (field_string(body, key, out)) {
    case FIELD_ABSENT:
    case FIELD_NULL:
        return res_fail(res, EMU_BAD_REQUEST, "%s is required", key);
    case FIELD_WRONG_TYPE:
        return res_fail(res, EMU_BAD_REQUEST, "%s must be a string", key);
    case FIELD_OK:
        break;
    }
    if (!guayaba_phone_is_e164(*out))
        return res_fail(res, EMU_BAD_REQUEST,
                        "%s must be a valid phone number in E.164 format (e.g. +11234567890)", key);
    return EMU_OK;
}

/* An optional UUID member: *out stays NULL when absent or null. */
static int opt_uuid(struct res *res, const json_t *body, const char *key, const char **out)
{
    enum field_state s = field_string(body, key, out);

    if (s == FIELD_OK && jsonx_is_uuid(*out))
        return EMU_OK;
    *out = NULL;
    if (s == FIELD_ABSENT || s == FIELD_NULL)
        return EMU_OK;
    return res_fail(res, EMU_BAD_REQUEST, "%s must be a valid UUID", key);
}

/* The name member: *out is the JSON value to store (a string, or null to clear it), NULL when
 * absent. */
static int opt_name(struct res *res, const json_t *body, json_t **out)
{
    const char *name;
    enum field_state s = field_string(body, "name", &name);

    *out = NULL;
    if (s == FIELD_WRONG_TYPE)
        return res_fail(res, EMU_BAD_REQUEST, "name must be a string");
    if (s == FIELD_OK && utf8_chars(name) > NAME_MAX_CHARS)
        return res_fail(res, EMU_BAD_REQUEST, "name must be at most %d characters", NAME_MAX_CHARS);
    if (s != FIELD_ABSENT)
        *out = json_object_get(body, "name");
    return EMU_OK;
}

static int opt_timezone(struct res *res, const json_t *body, const char **out)
{
    enum field_state s = field_string(body, "timezone", out);

    if (s == FIELD_OK && guayaba_timezone_valid(*out))
        return EMU_OK;
    *out = NULL;
    if (s == FIELD_ABSENT || s == FIELD_NULL)
        return EMU_OK;
    return res_fail(res, EMU_BAD_REQUEST,
                    "timezone must be a valid IANA timezone (e.g. America/New_York)");
}

static int opt_variables(struct res *res, const json_t *body, json_t **out)
{
    enum field_state s = field_object(body, "customVariables", out);
    char clip[GUAYABA_CLIP_SIZE];
    const char *key;
    json_t *value;

    if (s != FIELD_OK)
        *out = NULL;
    if (s == FIELD_WRONG_TYPE)
        return res_fail(res, EMU_BAD_REQUEST, "customVariables must be an object");
    if (s != FIELD_OK)
        return EMU_OK;
    json_object_foreach(*out, key, value)
    {
        if (field_state_of(value, JSON_STRING) != FIELD_OK) {
            *out = NULL;
            return res_fail(res, EMU_BAD_REQUEST, "customVariables.%s must be a string",
                            guayaba_clip(key, clip));
        }
    }
    return EMU_OK;
}

static int opt_status(struct req *req, struct res *res, const json_t *body, const char **out)
{
    enum field_state s = field_string(body, "status", out);
    int rc = EMU_OK;

    if (s == FIELD_OK && (rc = guayaba_statuses_known_or_fail(req, res, *out)) == EMU_OK)
        return EMU_OK;
    *out = NULL;
    if (s == FIELD_ABSENT || s == FIELD_NULL)
        return EMU_OK;
    return s == FIELD_WRONG_TYPE ? res_fail(res, EMU_BAD_REQUEST, "status must be a string") : rc;
}

/* 1 when the body gives member key a value (present and not null). */
static int given(const json_t *body, const char *key)
{
    json_t *v = json_object_get(body, key);

    return v != NULL && !json_is_null(v);
}

/* ---- storage ---- */

struct found_key {
    char key[128];
    int found;
};

static int take_key(const char *key, void *arg)
{
    struct found_key *f = arg;

    snprintf(f->key, sizeof(f->key), "%s", key);
    f->found = 1;
    return 1;
}

/* *out is a new reference to the contact holding phone, deleted or not; EMU_NOT_FOUND. Of two
 * contacts seeded with one number, the one with the greater id holds it. */
static int find_by_phone(struct req *req, const char *phone, json_t **out)
{
    char group[128];
    struct found_key f = {.found = 0};
    struct store_range r = {.group = group, .descending = 1};
    int rc;

    *out = NULL;
    if (snprintf(group, sizeof(group), "%s/%s", req->tenant, phone) >= (int)sizeof(group))
        return EMU_NOT_FOUND;
    rc = store_index_scan(req->txn, GUAYABA_CONTACTS, GUAYABA_PHONE_INDEX, &r, take_key, &f);
    if (rc == EMU_OK && !f.found)
        rc = EMU_NOT_FOUND;
    return rc == EMU_OK ? store_get(req->txn, GUAYABA_CONTACTS, f.key, out) : rc;
}

/* Like find_by_phone, for the calls that only see live contacts: 404 in the vendor's words. */
static int live_by_phone(struct req *req, struct res *res, const char *phone, json_t **out)
{
    int rc = find_by_phone(req, phone, out);

    if (rc == EMU_OK && guayaba_contact_deleted(*out)) {
        json_decref(*out);
        *out = NULL;
        rc = EMU_NOT_FOUND;
    }
    return rc == EMU_NOT_FOUND ? res_fail(res, EMU_NOT_FOUND, "Contact not found") : rc;
}

/* Writes contact; the store keeps its index entries (contacts_list.c) in step. */
static int save(struct req *req, json_t *contact)
{
    char key[128];

    snprintf(key, sizeof(key), "%s/%s", req->tenant, jsonx_string(contact, "id"));
    return store_put(req->txn, GUAYABA_CONTACTS, key, contact);
}

/* EMU_OK when the tenant has campaign id; otherwise the vendor's 404. */
static int need_campaign(struct req *req, struct res *res, const char *id)
{
    json_t *campaign;
    int rc = guayaba_campaigns_find(req, id, &campaign);

    json_decref(campaign);
    return rc == EMU_NOT_FOUND ? res_fail(res, EMU_NOT_FOUND, "Campaign not found") : rc;
}

/* The campaign a contact goes to: campaignId wins over splitterId, as the vendor documents. */
static int resolve_campaign(struct req *req, struct res *res, const char *campaign_id,
                            const char *splitter_id, json_t **campaign, char admin[37])
{
    char picked[37];
    int rc;

    admin[0] = '\0';
    if (campaign_id == NULL) {
        rc = guayaba_splitters_pick(req, splitter_id, picked, admin);
        if (rc == EMU_NOT_FOUND)
            return res_fail(res, EMU_NOT_FOUND, "Splitter not found");
        if (rc != EMU_OK)
            return rc;
        campaign_id = picked;
    }
    rc = guayaba_campaigns_find(req, campaign_id, campaign);
    if (rc == EMU_NOT_FOUND)
        return res_fail(res, EMU_NOT_FOUND, "Campaign not found");
    return rc;
}

/* ---- POST /contacts ---- */

/* What POST /contacts reads from its body, checked; the references are borrowed from the body
 * except campaign (new). */
struct create_input {
    const char *phone, *campaign_id, *splitter_id, *tz;
    json_t *name, *vars, *campaign;
    char admin[37]; /* the splitter's adminId, when a splitter routed the contact */
};

/* Reads and checks POST /contacts's body in the vendor's order, and finds the campaign. */
static int create_input_read(struct req *req, struct res *res, struct create_input *in)
{
    int rc = need_phone(res, req->json, "phoneNumber", &in->phone);

    if (rc == EMU_OK)
        rc = opt_uuid(res, req->json, "campaignId", &in->campaign_id);
    if (rc == EMU_OK)
        rc = opt_uuid(res, req->json, "splitterId", &in->splitter_id);
    if (rc == EMU_OK && in->campaign_id == NULL && in->splitter_id == NULL)
        rc = res_fail(res, EMU_BAD_REQUEST, "campaignId or splitterId is required");
    if (rc == EMU_OK)
        rc = opt_name(res, req->json, &in->name);
    if (rc == EMU_OK)
        rc = opt_timezone(res, req->json, &in->tz);
    if (rc == EMU_OK)
        rc = opt_variables(res, req->json, &in->vars);
    if (rc == EMU_OK)
        rc = resolve_campaign(req, res, in->campaign_id, in->splitter_id, &in->campaign, in->admin);
    if (rc != EMU_OK)
        return rc;
    if (json_is_true(json_object_get(in->campaign, "appointmentScheduling")) &&
        (in->vars == NULL || jsonx_string(in->vars, "email") == NULL ||
         *jsonx_string(in->vars, "email") == '\0'))
        return res_fail(res, EMU_BAD_REQUEST,
                        "customVariables.email is required for campaigns with appointment "
                        "scheduling");
    return EMU_OK;
}

/* The contact POST /contacts stores: a new one, or (an upsert) the one with the phone number
 * taking the new data, a deleted one coming back as active. *contact is new; *created says
 * which. */
static int create_upsert(struct req *req, const struct create_input *in, json_t **contact,
                         int *created)
{
    json_t *campaign_ref = json_object_get(in->campaign, "id");
    char now[32], id[37];
    int rc;

    guayaba_now(req, now);
    rc = find_by_phone(req, in->phone, contact);
    *created = rc == EMU_NOT_FOUND;
    if (rc == EMU_NOT_FOUND) {
        rc = req_new_uuid(req, id);
        if (rc != EMU_OK)
            return rc;
        *contact =
            json_pack("{s:s,s:O,s:s,s:s,s:s,s:o,s:O,s:s,s:s,s:n,s:n,s:n}", "id", id, "name",
                      in->name ? in->name : json_null(), "phoneNumber", in->phone, "timezone",
                      in->tz ? in->tz : guayaba_timezone_for_phone(in->phone), "status", "active",
                      "customVariables", in->vars ? json_deep_copy(in->vars) : json_object(),
                      "campaignId", campaign_ref, "createdAt", now, "updatedAt", now, "fulfilledAt",
                      "reAddedAt", "deletedAt");
        return *contact ? EMU_OK : EMU_NOMEM;
    }
    if (rc != EMU_OK)
        return rc;
    if (guayaba_contact_deleted(*contact)) {
        json_object_set_new(*contact, "deletedAt", json_null());
        json_object_set_new(*contact, "reAddedAt", json_string(now));
        json_object_set_new(*contact, "status", json_string("active"));
        json_object_set_new(*contact, "fulfilledAt", json_null());
    }
    if (in->name != NULL)
        json_object_set(*contact, "name", in->name);
    if (in->tz != NULL)
        json_object_set_new(*contact, "timezone", json_string(in->tz));
    if (in->vars != NULL)
        json_object_set_new(*contact, "customVariables", json_deep_copy(in->vars));
    json_object_set(*contact, "campaignId", campaign_ref);
    json_object_set_new(*contact, "updatedAt", json_string(now));
    return EMU_OK;
}

/* POST /contacts's data: a splitter's answer names its adminId and more members. New. */
static json_t *create_answer(const json_t *contact, const struct create_input *in)
{
    if (in->campaign_id == NULL) /* routed by a splitter: the vendor's splitter answer */
        return json_pack("{s:O,s:s,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O}", "id", member(contact, "id"),
                         "adminId", in->admin, "campaignId", member(contact, "campaignId"),
                         "phoneNumber", member(contact, "phoneNumber"), "name",
                         member(contact, "name"), "timezone", member(contact, "timezone"), "status",
                         member(contact, "status"), "customVariables",
                         member(contact, "customVariables"), "createdAt",
                         member(contact, "createdAt"), "updatedAt", member(contact, "updatedAt"));
    return json_pack("{s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O}", "id", member(contact, "id"),
                     "phoneNumber", member(contact, "phoneNumber"), "name", member(contact, "name"),
                     "campaignId", member(contact, "campaignId"), "customVariables",
                     member(contact, "customVariables"), "timezone", member(contact, "timezone"),
                     "status", member(contact, "status"), "createdAt",
                     member(contact, "createdAt"));
}

int guayaba_contacts_create(struct req *req, struct res *res)
{
    struct create_input in = {0};
    json_t *contact = NULL, *data;
    int rc = create_input_read(req, res, &in), created = 0;

    if (rc == EMU_OK)
        rc = create_upsert(req, &in, &contact, &created);
    json_decref(in.campaign);
    if (rc == EMU_OK)
        rc = save(req, contact);
    if (rc != EMU_OK) {
        json_decref(contact);
        return rc;
    }
    data = create_answer(contact, &in);
    json_decref(contact);
    return res_json(res, created ? 201 : 200, json_pack("{s:b,s:o*}", "success", 1, "data", data));
}

/* ---- POST /contacts/update ---- */

static void set_status(json_t *contact, const char *status, const char *now)
{
    const char *before = jsonx_string(contact, "status");

    if (strcmp(status, "fulfilled") == 0 && (before == NULL || strcmp(before, "fulfilled") != 0))
        json_object_set_new(contact, "fulfilledAt", json_string(now));
    json_object_set_new(contact, "status", json_string(status));
}

int guayaba_contacts_update_by_phone(struct req *req, struct res *res)
{
    const char *phone, *status, *campaign_id;
    json_t *contact = NULL;
    char now[32];
    int rc;

    rc = need_phone(res, req->json, "phone", &phone);
    if (rc == EMU_OK && !given(req->json, "status") && !given(req->json, "campaignId"))
        rc =
            res_fail(res, EMU_BAD_REQUEST, "At least one of status or campaignId must be provided");
    if (rc == EMU_OK)
        rc = opt_status(req, res, req->json, &status);
    if (rc == EMU_OK)
        rc = opt_uuid(res, req->json, "campaignId", &campaign_id);
    if (rc == EMU_OK)
        rc = live_by_phone(req, res, phone, &contact);
    if (rc == EMU_OK && campaign_id != NULL)
        rc = need_campaign(req, res, campaign_id);
    if (rc != EMU_OK) {
        json_decref(contact);
        return rc;
    }
    guayaba_now(req, now);
    if (status != NULL)
        set_status(contact, status, now);
    if (campaign_id != NULL)
        json_object_set_new(contact, "campaignId", json_string(campaign_id));
    json_object_set_new(contact, "updatedAt", json_string(now));
    rc = save(req, contact);
    if (rc == EMU_OK)
        rc = res_json(
            res, 200,
            json_pack("{s:b,s:s,s:{s:O,s:O,s:O,s:O,s:O,s:O,s:O}}", "success", 1, "message",
                      "Contact updated successfully", "contact", "id", member(contact, "id"),
                      "phoneNumber", member(contact, "phoneNumber"), "name",
                      member(contact, "name"), "campaignId", member(contact, "campaignId"),
                      "status", member(contact, "status"), "fulfilledAt",
                      member(contact, "fulfilledAt"), "updatedAt", member(contact, "updatedAt")));
    json_decref(contact);
    return rc;
}

/* ---- PUT /contacts/{id} ---- */

/* PUT /contacts/{id} may give a contact the number phone only when no other contact, deleted
 * or not, has it; the phone index follows the number when the contact is saved. */
static int phone_free(struct req *req, struct res *res, const char *phone)
{
    json_t *other = NULL;
    int rc = find_by_phone(req, phone, &other);

    json_decref(other);
    if (rc == EMU_OK)
        return res_fail(res, EMU_BAD_REQUEST, "A contact with this phone number already exists");
    return rc == EMU_NOT_FOUND ? EMU_OK : rc;
}

/* PUT /contacts/{id}'s answer for the updated contact. New. */
static json_t *update_answer(const json_t *contact)
{
    return json_pack("{s:b,s:s,s:{s:O,s:O,s:O,s:O,s:O,s:O,s:O}}", "success", 1, "message",
                     "Contact updated successfully", "contact", "id", member(contact, "id"),
                     "phoneNumber", member(contact, "phoneNumber"), "name", member(contact, "name"),
                     "status", member(contact, "status"), "campaignId",
                     member(contact, "campaignId"), "customVariables",
                     member(contact, "customVariables"), "updatedAt", member(contact, "updatedAt"));
}

/* The members a PUT /contacts/{id} may change; NULL where the body leaves one alone. */
struct contact_update {
    const char *phone, *tz, *status, *campaign_id;
    json_t *name, *vars;
};

/* Reads and checks body's members into u, answering the first problem as the vendor does. */
static int read_update(struct req *req, struct res *res, const json_t *body,
                       struct contact_update *u)
{
    static const char *const fields[] = {"name",   "phoneNumber", "timezone",
                                         "status", "campaignId",  "customVariables"};
    int rc, any = 0;

    memset(u, 0, sizeof(*u));
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        any |= json_object_get(body, fields[i]) != NULL;
    if (!any)
        return res_fail(res, EMU_BAD_REQUEST, "At least one field must be provided");
    rc = opt_name(res, body, &u->name);
    if (rc == EMU_OK && json_object_get(body, "phoneNumber") != NULL)
        rc = need_phone(res, body, "phoneNumber", &u->phone);
    if (rc == EMU_OK)
        rc = opt_timezone(res, body, &u->tz);
    if (rc == EMU_OK)
        rc = opt_status(req, res, body, &u->status);
    if (rc == EMU_OK)
        rc = opt_uuid(res, body, "campaignId", &u->campaign_id);
    if (rc == EMU_OK)
        rc = opt_variables(res, body, &u->vars);
    return rc;
}

/* Applies u to contact at now. */
static void apply_update(json_t *contact, const struct contact_update *u, const char *now)
{
    if (u->name != NULL)
        json_object_set(contact, "name", u->name);
    if (u->phone != NULL)
        json_object_set_new(contact, "phoneNumber", json_string(u->phone));
    if (u->tz != NULL)
        json_object_set_new(contact, "timezone", json_string(u->tz));
    if (u->status != NULL)
        set_status(contact, u->status, now);
    if (u->campaign_id != NULL)
        json_object_set_new(contact, "campaignId", json_string(u->campaign_id));
    if (u->vars != NULL) /* replaces the whole object, as the vendor documents */
        json_object_set_new(contact, "customVariables", json_deep_copy(u->vars));
    json_object_set_new(contact, "updatedAt", json_string(now));
}

int guayaba_contacts_update_by_id(struct req *req, struct res *res)
{
    const char *id = req_param(req, "id");
    struct contact_update u;
    json_t *contact = NULL;
    char key[128], now[32];
    int rc;

    if (!jsonx_is_uuid(id))
        return res_fail(res, EMU_BAD_REQUEST, "id must be a valid UUID");
    rc = read_update(req, res, req->json, &u);
    if (rc != EMU_OK)
        return rc;
    snprintf(key, sizeof(key), "%s/%s", req->tenant, id);
    rc = store_get(req->txn, GUAYABA_CONTACTS, key, &contact);
    if (rc == EMU_OK && guayaba_contact_deleted(contact))
        rc = EMU_NOT_FOUND;
    if (rc == EMU_NOT_FOUND)
        rc = res_fail(res, EMU_NOT_FOUND, "Contact not found");
    if (rc == EMU_OK && u.campaign_id != NULL)
        rc = need_campaign(req, res, u.campaign_id);
    if (rc == EMU_OK && u.phone != NULL &&
        strcmp(u.phone, jsonx_string(contact, "phoneNumber")) != 0)
        rc = phone_free(req, res, u.phone);
    if (rc != EMU_OK) {
        json_decref(contact);
        return rc;
    }
    guayaba_now(req, now);
    apply_update(contact, &u, now);
    rc = save(req, contact);
    if (rc == EMU_OK)
        rc = res_json(res, 200, update_answer(contact));
    json_decref(contact);
    return rc;
}

/* ---- POST /contacts/fulfill ---- */

int guayaba_contacts_fulfill(struct req *req, struct res *res)
{
    const char *phone;
    json_t *contact = NULL;
    char now[32];
    int rc = need_phone(res, req->json, "phone", &phone);

    if (rc == EMU_OK)
        rc = live_by_phone(req, res, phone, &contact);
    if (rc != EMU_OK)
        return rc;
    guayaba_now(req, now);
    json_object_set_new(contact, "status", json_string("fulfilled"));
    json_object_set_new(contact, "fulfilledAt", json_string(now));
    json_object_set_new(contact, "updatedAt", json_string(now));
    rc = save(req, contact);
    json_decref(contact);
    if (rc != EMU_OK)
        return rc;
    return res_json(res, 200,
                    json_pack("{s:b,s:s}", "success", 1, "message",
                              "Contact marked as fulfilled successfully"));
}

/* ---- fixtures ---- */

static int is_uuid(const json_t *v)
{
    return jsonx_is_uuid(json_string_value(v));
}

static int is_e164(const json_t *v)
{
    return guayaba_phone_is_e164(json_string_value(v));
}

static int is_string(const json_t *v)
{
    return json_is_string(v);
}

static int is_zone(const json_t *v)
{
    return guayaba_timezone_valid(json_string_value(v));
}

static int is_object_or_absent(const json_t *v)
{
    return v == NULL || json_is_object(v);
}

static int is_string_or_null(const json_t *v)
{
    return v == NULL || json_is_null(v) || json_is_string(v);
}

static int is_instant(const json_t *v)
{
    int64_t at;

    return clock_parse_rfc3339(json_string_value(v), &at) == EMU_OK;
}

static int is_instant_or_null(const json_t *v)
{
    return v == NULL || json_is_null(v) || is_instant(v);
}

/* What a fixture contact's members must be. */
static const struct {
    const char *member;
    int (*ok)(const json_t *v);
    const char *must_be;
} contact_checks[] = {
    {"id", is_uuid, "a UUID"},
    {"phoneNumber", is_e164, "an E.164 number"},
    {"campaignId", is_uuid, "a UUID"},
    {"status", is_string, "a status name"},
    {"timezone", is_zone, "an IANA zone name"},
    {"customVariables", is_object_or_absent, "an object"},
    {"name", is_string_or_null, "a string or null"},
    {"createdAt", is_instant, "an RFC 3339 instant"},
    {"updatedAt", is_instant_or_null, "an RFC 3339 instant or null"},
    {"fulfilledAt", is_instant_or_null, "an RFC 3339 instant or null"},
    {"reAddedAt", is_instant_or_null, "an RFC 3339 instant or null"},
    {"deletedAt", is_instant_or_null, "an RFC 3339 instant or null"},
};

int guayaba_contact_row_key(const json_t *row, size_t index, char *key, size_t keylen,
                            const char **field, char *msg, size_t msglen)
{
    (void)index; /* keys come from the row itself */
    for (size_t i = 0; i < sizeof(contact_checks) / sizeof(contact_checks[0]); i++) {
        if (!contact_checks[i].ok(json_object_get(row, contact_checks[i].member))) {
            *field = contact_checks[i].member;
            snprintf(msg, msglen, "\"%s\" must be %s", contact_checks[i].member,
                     contact_checks[i].must_be);
            return EMU_INVALID;
        }
    }
    snprintf(key, keylen, "%s", jsonx_string(row, "id"));
    return EMU_OK;
}
