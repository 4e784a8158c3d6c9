/* contacts.c -- Guayaba contacts: list, create (an upsert by phone), update by phone or by id,
 * and fulfil.
 *
 * A stored contact is {id, name, phoneNumber, timezone, status, customVariables, campaignId,
 * createdAt, updatedAt, fulfilledAt, reAddedAt, deletedAt}. A contact with deletedAt set was
 * deleted in the vendor's dashboard: it is invisible to every call, and creating it again by
 * phone reactivates it (reAddedAt). guayaba.phones maps each phone number of a tenant to its
 * contact, so lookups by phone and the duplicate check cost one read. Each endpoint answers
 * with the fields and key order the vendor's documentation shows for it. */
#include "guayaba.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static int is_deleted(const json_t *contact)
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

/* Refuses a status name the tenant does not have, listing the ones it has. */
static int known_status(struct req *req, struct res *res, const char *name)
{
    char names[512], clip[GUAYABA_CLIP_SIZE];

    if (guayaba_statuses_known(req, name))
        return EMU_OK;
    guayaba_statuses_names(req, names, sizeof(names));
    return res_fail(res, EMU_BAD_REQUEST, "Invalid status '%s'. Valid statuses: %s",
                    guayaba_clip(name, clip), names);
}

static int opt_status(struct req *req, struct res *res, const json_t *body, const char **out)
{
    enum field_state s = field_string(body, "status", out);
    int rc = EMU_OK;

    if (s == FIELD_OK && (rc = known_status(req, res, *out)) == EMU_OK)
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

static int phone_key(const struct req *req, const char *phone, char *buf, size_t len)
{
    return snprintf(buf, len, "%s/%s", req->tenant, phone) < (int)len ? EMU_OK : EMU_INVALID;
}

/* *out is a new reference to the contact holding phone, deleted or not; EMU_NOT_FOUND. */
static int find_by_phone(struct req *req, const char *phone, json_t **out)
{
    char key[128];
    json_t *entry;
    int rc;

    *out = NULL;
    if (phone_key(req, phone, key, sizeof(key)) != EMU_OK)
        return EMU_NOT_FOUND;
    rc = store_get(req->txn, GUAYABA_PHONES, key, &entry);
    if (rc != EMU_OK)
        return rc;
    snprintf(key, sizeof(key), "%s/%s", req->tenant, jsonx_string(entry, "id"));
    json_decref(entry);
    return store_get(req->txn, GUAYABA_CONTACTS, key, out);
}

/* Like find_by_phone, for the calls that only see live contacts: 404 in the vendor's words. */
static int live_by_phone(struct req *req, struct res *res, const char *phone, json_t **out)
{
    int rc = find_by_phone(req, phone, out);

    if (rc == EMU_OK && is_deleted(*out)) {
        json_decref(*out);
        *out = NULL;
        rc = EMU_NOT_FOUND;
    }
    return rc == EMU_NOT_FOUND ? res_fail(res, EMU_NOT_FOUND, "Contact not found") : rc;
}

static int index_phone(struct req *req, const char *phone, const char *id)
{
    char key[128];
    json_t *entry = json_pack("{s:s}", "id", id);
    int rc = phone_key(req, phone, key, sizeof(key));

    if (entry == NULL)
        return EMU_NOMEM;
    if (rc == EMU_OK)
        rc = store_put(req->txn, GUAYABA_PHONES, key, entry);
    json_decref(entry);
    return rc;
}

static int save(struct req *req, json_t *contact)
{
    char key[128];

    snprintf(key, sizeof(key), "%s/%s", req->tenant, jsonx_string(contact, "id"));
    return store_put(req->txn, GUAYABA_CONTACTS, key, contact);
}

struct index_build {
    struct store_txn *txn;
    const char *tenant;
};

static int index_one(const char *key, json_t *doc, void *arg)
{
    struct index_build *b = arg;
    char pkey[128];
    json_t *entry = json_pack("{s:s}", "id", jsonx_string(doc, "id"));
    int rc;

    (void)key;
    if (entry == NULL)
        return EMU_NOMEM;
    snprintf(pkey, sizeof(pkey), "%s/%s", b->tenant, jsonx_string(doc, "phoneNumber"));
    rc = store_put(b->txn, GUAYABA_PHONES, pkey, entry);
    json_decref(entry);
    return rc;
}

int guayaba_contacts_index(struct store_txn *txn, const char *tenant)
{
    struct index_build b = {txn, tenant};
    char prefix[80];
    int rc;

    snprintf(prefix, sizeof(prefix), "%s/", tenant);
    rc = store_del_prefix(txn, GUAYABA_PHONES, prefix);
    return rc == EMU_OK ? store_scan(txn, GUAYABA_CONTACTS, prefix, index_one, &b) : rc;
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
        return *contact ? index_phone(req, in->phone, id) : EMU_NOMEM;
    }
    if (rc != EMU_OK)
        return rc;
    if (is_deleted(*contact)) {
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

/* PUT /contacts/{id} gives contact (id) the number phone: refused when another contact has it;
 * otherwise the phone index follows the number. */
static int move_phone(struct req *req, struct res *res, const json_t *contact, const char *phone,
                      const char *id)
{
    char old_key[128];
    json_t *other = NULL;
    int rc = find_by_phone(req, phone, &other);

    json_decref(other);
    if (rc == EMU_OK)
        return res_fail(res, EMU_BAD_REQUEST, "A contact with this phone number already exists");
    if (rc != EMU_NOT_FOUND)
        return rc;
    phone_key(req, jsonx_string(contact, "phoneNumber"), old_key, sizeof(old_key));
    rc = store_del(req->txn, GUAYABA_PHONES, old_key);
    return rc == EMU_OK || rc == EMU_NOT_FOUND ? index_phone(req, phone, id) : rc;
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
    if (rc == EMU_OK && is_deleted(contact))
        rc = EMU_NOT_FOUND;
    if (rc == EMU_NOT_FOUND)
        rc = res_fail(res, EMU_NOT_FOUND, "Contact not found");
    if (rc == EMU_OK && u.campaign_id != NULL)
        rc = need_campaign(req, res, u.campaign_id);
    if (rc == EMU_OK && u.phone != NULL &&
        strcmp(u.phone, jsonx_string(contact, "phoneNumber")) != 0)
        rc = move_phone(req, res, contact, u.phone, id);
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

/* ---- GET /contacts ---- */

/* The longest search text, and the longest status list (the tenant's statuses once over
 * fit in far less); longer values are refused, never cut. campaignId takes any number of ids. */
#define SEARCH_MAX_BYTES      255
#define STATUS_LIST_MAX_BYTES 2047

struct contact_query {
    json_t *statuses;   /* names to keep, or NULL for all */
    json_t *campaigns;  /* campaign ids to keep, or NULL for all */
    const char *search; /* "" for all; borrowed from the query object */
    int by_name, by_phone;
    const char *sort_by;
    int descending;
    json_t *hits;
};

/* Splits a comma-separated list into a new array of its non-empty trimmed items. */
static json_t *split_list(const char *text)
{
    json_t *items = json_array();
    const char *p = text;

    while (items != NULL && *p != '\0') {
        size_t n = strcspn(p, ",");
        size_t start = 0, end = n;

        while (start < end && p[start] == ' ')
            start++;
        while (end > start && p[end - 1] == ' ')
            end--;
        if (end > start)
            json_array_append_new(items, json_stringn(p + start, end - start));
        p += n;
        if (*p == ',')
            p++;
    }
    return items;
}

static int in_list(const json_t *list, const char *value)
{
    size_t i;
    json_t *item;

    json_array_foreach(list, i,
                       item) if (value && strcmp(json_string_value(item), value) == 0) return 1;
    return 0;
}

static int keep_contact(const char *key, json_t *doc, void *arg)
{
    struct contact_query *q = arg;

    (void)key;
    if (is_deleted(doc))
        return 0;
    if (q->statuses && !in_list(q->statuses, jsonx_string(doc, "status")))
        return 0;
    if (q->campaigns && !in_list(q->campaigns, jsonx_string(doc, "campaignId")))
        return 0;
    if (q->search != NULL && q->search[0]) {
        const char *name = jsonx_string(doc, "name"), *phone = jsonx_string(doc, "phoneNumber");
        int hit = (q->by_name && name && strcasestr(name, q->search)) ||
                  (q->by_phone && phone && strstr(phone, q->search));

        if (!hit)
            return 0;
    }
    return json_array_append(q->hits, doc) == 0 ? 0 : EMU_NOMEM;
}

/* By the sort field, nulls last in either direction, then by id so pages never shuffle. */
static int compare_contacts(const void *a, const void *b, void *arg)
{
    const struct contact_query *q = arg;
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    const char *vx = jsonx_string(x, q->sort_by), *vy = jsonx_string(y, q->sort_by);
    int c;

    if (vx == NULL || vy == NULL)
        c = (vx == NULL) - (vy == NULL);
    else
        c = q->descending ? strcmp(vy, vx) : strcmp(vx, vy);
    return c ? c : strcmp(jsonx_string(x, "id"), jsonx_string(y, "id"));
}

/* Reads an optional enum parameter: *out is NULL when absent or empty, else one of words
 * (NULL-terminated); anything else is the 400 "<name> must be one of: <words>". */
static int query_word(struct res *res, const json_t *query, const char *name,
                      const char *const *words, const char **out)
{
    char list[128] = "";
    int rc = guayaba_query_string(res, query, name, out);

    if (rc != EMU_OK || *out == NULL || (*out)[0] == '\0') {
        *out = NULL;
        return rc;
    }
    for (size_t i = 0; words[i] != NULL; i++) {
        if (strcmp(*out, words[i]) == 0) {
            *out = words[i];
            return EMU_OK;
        }
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "", words[i]);
    }
    return res_fail(res, EMU_BAD_REQUEST, "%s must be one of: %s", name, list);
}

static int read_query(struct req *req, struct res *res, const json_t *query,
                      struct contact_query *q)
{
    static const char *const search_by[] = {"name", "phone", NULL};
    static const char *const sort_by[] = {"createdAt", "fulfilledAt", "reAddedAt", NULL};
    static const char *const sort_order[] = {"asc", "desc", NULL};
    const char *text, *word;
    size_t i;
    json_t *item;
    int rc;

    rc = guayaba_query_string(res, query, "status", &text);
    if (rc == EMU_OK && text != NULL && strlen(text) > STATUS_LIST_MAX_BYTES)
        return res_fail(res, EMU_BAD_REQUEST, "status is too long");
    if (rc == EMU_OK && text != NULL && text[0]) {
        q->statuses = split_list(text);
        if (q->statuses == NULL)
            return EMU_NOMEM;
        json_array_foreach(q->statuses, i, item)
        {
            if ((rc = known_status(req, res, json_string_value(item))) != EMU_OK)
                return rc;
        }
    }
    if (rc == EMU_OK)
        rc = guayaba_query_string(res, query, "campaignId", &text);
    if (rc == EMU_OK && text != NULL && text[0]) {
        q->campaigns = split_list(text);
        if (q->campaigns == NULL)
            return EMU_NOMEM;
        json_array_foreach(q->campaigns, i, item)
        {
            if (!jsonx_is_uuid(json_string_value(item)))
                return res_fail(res, EMU_BAD_REQUEST,
                                "campaignId must be a UUID or a comma-separated list of UUIDs");
        }
    }
    if (rc == EMU_OK)
        rc = guayaba_query_string(res, query, "search", &q->search);
    if (rc == EMU_OK && q->search != NULL && strlen(q->search) > SEARCH_MAX_BYTES)
        return res_fail(res, EMU_BAD_REQUEST, "search is too long");
    q->by_name = q->by_phone = 1;
    if (rc == EMU_OK)
        rc = query_word(res, query, "searchBy", search_by, &word);
    if (rc == EMU_OK && word != NULL) {
        q->by_name = strcmp(word, "name") == 0;
        q->by_phone = !q->by_name;
    }
    if (rc == EMU_OK)
        rc = query_word(res, query, "sortBy", sort_by, &word);
    q->sort_by = rc == EMU_OK && word != NULL ? word : "createdAt";
    if (rc == EMU_OK)
        rc = query_word(res, query, "sortOrder", sort_order, &word);
    q->descending = !(rc == EMU_OK && word != NULL && strcmp(word, "asc") == 0);
    return rc;
}

/* {id, name} of a contact's campaign, looked up once per campaign per request. */
static json_t *campaign_ref(struct req *req, json_t *cache, const char *id)
{
    json_t *hit = json_object_get(cache, id), *campaign;

    if (hit == NULL) {
        if (guayaba_campaigns_find(req, id, &campaign) == EMU_OK) {
            hit = json_pack("{s:s,s:O}", "id", id, "name", member(campaign, "name"));
            json_decref(campaign);
        } else {
            hit = json_null();
        }
        json_object_set_new(cache, id, hit);
    }
    return hit;
}

int guayaba_contacts_list(struct req *req, struct res *res)
{
    struct contact_query q = {0};
    json_t **items = NULL, *contacts = json_array(), *cache = json_object(), *query = NULL;
    char prefix[80];
    int limit = 25, rc;
    json_int_t page = 1;
    uint64_t first;
    size_t total = 0;

    q.hits = json_array();
    rc = q.hits && contacts && cache ? guayaba_query(req, res, &query) : EMU_NOMEM;
    if (rc == EMU_OK)
        rc = guayaba_paging(res, query, 25, &page, &limit);
    if (rc == EMU_OK)
        rc = read_query(req, res, query, &q);
    snprintf(prefix, sizeof(prefix), "%s/", req->tenant);
    if (rc == EMU_OK)
        rc = store_scan(req->txn, GUAYABA_CONTACTS, prefix, keep_contact, &q);
    if (rc == EMU_OK && (total = json_array_size(q.hits)) > 0) {
        items = malloc(sizeof(*items) * total);
        if (items == NULL)
            rc = EMU_NOMEM;
        for (size_t i = 0; items != NULL && i < total; i++)
            items[i] = json_array_get(q.hits, i);
        if (items != NULL)
            qsort_r(items, total, sizeof(*items), compare_contacts, &q);
    }
    /* page is at most 2^53 and limit 100, so the product fits in 64 bits */
    first = (uint64_t)(page - 1) * (uint64_t)limit;
    for (uint64_t n = first; rc == EMU_OK && n < total && n < first + (uint64_t)limit; n++) {
        const json_t *c = items[n];
        json_t *ref = campaign_ref(req, cache, jsonx_string(c, "campaignId"));
        json_t *campaigns = json_is_null(ref) ? json_array() : json_pack("[O]", ref);

        json_array_append_new(
            contacts, json_pack("{s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:o*}", "id", member(c, "id"),
                                "name", member(c, "name"), "phoneNumber", member(c, "phoneNumber"),
                                "timezone", member(c, "timezone"), "status", member(c, "status"),
                                "customVariables", member(c, "customVariables"), "createdAt",
                                member(c, "createdAt"), "fulfilledAt", member(c, "fulfilledAt"),
                                "reAddedAt", member(c, "reAddedAt"), "campaigns", campaigns));
    }
    free(items);
    json_decref(q.hits);
    json_decref(q.statuses);
    json_decref(q.campaigns);
    json_decref(cache);
    json_decref(query); /* q.search was borrowed from it */
    if (rc != EMU_OK) {
        json_decref(contacts);
        return rc;
    }
    return res_json(res, 200,
                    json_pack("{s:o,s:{s:I,s:I,s:i}}", "contacts", contacts, "pagination", "total",
                              (json_int_t)total, "page", page, "limit", limit));
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
