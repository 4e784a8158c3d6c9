/* contacts.c -- RASL contacts: list, create, get, update, delete, batch create and delete.
 *
 * A contact is stored as the vendor's ContactResource: id, firstname, lastname, company, type,
 * email, phone, status_id, source_id, description, city, state, zip, address, country_id,
 * assigned_id, group_id, is_opted_out, created_at, updated_at. Phone and email are unique in
 * the tenant; source_id and status_id must name the tenant's own source and status; groups
 * replaces group_id. The plan's contact limit is checked after validation. Answers add groups
 * (always on create and update), source and status as include= asks. Integer members take 12
 * and "12" alike (form bodies send strings), and an empty string clears an optional member.
 *
 * Uniqueness is looked up in the contacts' "field" index (phone and email lower-cased), and the
 * plan's count is the "all" index's: a create, and each item of a batch, costs a few lookups,
 * whatever the number of contacts. */
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

static const char *const contact_filters[] = {"type",       "status_id", "source_id", "assigned_id",
                                              "created_at", "group_id",  NULL};
static const char *const contact_sorts[] = {"id",         "firstname",  "lastname",
                                            "created_at", "updated_at", NULL};
static const char *const contact_searches[] = {"firstname", "lastname", "email",
                                               "phone",     "company",  NULL};
static const char *const contact_indexed[] = {"type",        "status_id", "source_id",
                                              "assigned_id", "group_id",  NULL};
static const struct rasl_list_spec contact_list = {
    .table = RASL_CONTACTS,
    .filters = contact_filters,
    .sorts = contact_sorts,
    .searches = contact_searches,
    .indexed = contact_indexed,
    .contacts_shape = 1,
};

/* The members a client may send, with their rules. */
enum kind { TEXT, TYPE, REF, INT, GROUPS };

static const struct field {
    const char *name;
    enum kind kind;
    int required;        /* on create; on update, if present it may not be null or empty */
    size_t max;          /* characters, for text */
    const char *missing; /* the vendor's sentence when required and absent */
} fields[] = {
    /* in the order of the vendor's rules, which is the order of its error details */
    {"firstname", TEXT, 1, 255, "First name is required."},
    {"lastname", TEXT, 1, 255, "Last name is required."},
    {"phone", TEXT, 1, 20, "Phone number is required."},
    {"type", TYPE, 1, 0, "Type is required."},
    {"source_id", REF, 1, 0, "Source is required."},
    {"status_id", REF, 1, 0, "Status is required."},
    {"email", TEXT, 0, 191, NULL},
    {"company", TEXT, 0, 255, NULL},
    {"description", TEXT, 0, 65535, NULL},
    {"city", TEXT, 0, 255, NULL},
    {"state", TEXT, 0, 255, NULL},
    {"zip", TEXT, 0, 20, NULL},
    {"address", TEXT, 0, 500, NULL},
    {"country_id", INT, 0, 0, NULL},
    {"assigned_id", INT, 0, 0, NULL},
    {"groups", GROUPS, 0, 0, NULL},
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* Laravel's integer rule takes 12 and "12" alike: *out gets the number. */
static int integer_value(const json_t *v, json_int_t *out)
{
    return rasl_integer_of(v, out) == FIELD_OK;
}

static int empty(const json_t *v)
{
    return v == NULL || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0);
}

int rasl_contacts_valid_email(const char *s)
{
    const char *at = strchr(s, '@');

    return at != NULL && at != s && strchr(at + 1, '@') == NULL && strchr(at + 1, '.') != NULL &&
           at[1] != '.' && s[strlen(s) - 1] != '.' && strpbrk(s, " \t,;") == NULL;
}

/* Laravel's name for a member in its default sentences: "source_id" reads "source id". */
static void spoken(const char *name, char *out, size_t len)
{
    size_t i = 0;

    for (; name[i] && i + 1 < len; i++)
        out[i] = name[i] == '_' ? ' ' : name[i];
    out[i] = '\0';
}

/* Whether another contact of the tenant than except_id has value as member, ignoring case. */
static int taken(struct req *req, const char *member, const char *value, json_int_t except_id)
{
    return rasl_contact_with(req, member, value, 0, except_id, NULL) == EMU_OK;
}

static int exists(struct req *req, const char *table, json_int_t id)
{
    json_t *row;
    int rc = rasl_get(req, table, id, &row);

    json_decref(row);
    return rc == EMU_OK;
}

/* The TEXT rules on member f's value v (a string of at most f->max characters; an email's
 * form; an email and a phone unique in the tenant, self aside). spoken is f's spoken name. */
static void check_text(struct req *req, const struct field *f, const json_t *v, json_int_t self,
                       const char *spoken_name, json_t *details)
{
    char message[160];

    if (!json_is_string(v) && strcmp(f->name, "email") == 0) { /* no string rule */
        rasl_field_error(details, f->name, "The email field must be a valid email address.");
    } else if (!json_is_string(v)) {
        snprintf(message, sizeof(message), "The %s field must be a string.", spoken_name);
        rasl_field_error(details, f->name, message);
    } else if (json_string_length(v) > f->max) {
        snprintf(message, sizeof(message), "The %s field must not be greater than %zu characters.",
                 spoken_name, f->max);
        rasl_field_error(details, f->name, message);
    } else if (strcmp(f->name, "email") == 0 && !rasl_contacts_valid_email(json_string_value(v))) {
        rasl_field_error(details, f->name, "The email field must be a valid email address.");
    } else if (strcmp(f->name, "email") == 0 && taken(req, "email", json_string_value(v), self)) {
        rasl_field_error(details, f->name, "This email address already exists.");
    } else if (strcmp(f->name, "phone") == 0 && taken(req, "phone", json_string_value(v), self)) {
        rasl_field_error(details, f->name, "This phone number already exists.");
    }
}

/* The REF rules: an integer naming one of the tenant's statuses (status_id) or sources. Not an
 * integer fails the exists rule as well: no row has such an id. */
static void check_ref(struct req *req, const struct field *f, const json_t *v,
                      const char *spoken_name, json_t *details)
{
    int status = strcmp(f->name, "status_id") == 0;
    char message[160];
    json_int_t number;

    if (!integer_value(v, &number)) {
        snprintf(message, sizeof(message), "The %s field must be an integer.", spoken_name);
        rasl_field_error(details, f->name, message);
    }
    if (!integer_value(v, &number) || !exists(req, status ? RASL_STATUSES : RASL_SOURCES, number)) {
        snprintf(message, sizeof(message),
                 "The selected %s does not exist or does not belong to your account.",
                 status ? "status" : "source");
        rasl_field_error(details, f->name, message);
    }
}

/* The GROUPS rules: an array of integers. */
static void check_groups(const struct field *f, const json_t *v, json_t *details)
{
    char key[48], message[160];
    json_int_t number;
    size_t j;
    json_t *g;

    if (!json_is_array(v)) {
        rasl_field_error(details, f->name, "The groups field must be an array.");
        return;
    }
    json_array_foreach(v, j, g)
    {
        snprintf(key, sizeof(key), "groups.%zu", j);
        snprintf(message, sizeof(message), "The groups.%zu field must be an integer.", j);
        if (!integer_value(g, &number))
            rasl_field_error(details, key, message);
    }
}

/* Checks body against the rules into details. creating: required members must be there;
 * otherwise only those sent are checked. self is the contact's id on update (0 on create). */
static void validate(struct req *req, const json_t *body, int creating, json_int_t self,
                     json_t *details)
{
    char message[160], name[64];
    json_int_t number;

    for (size_t i = 0; i < NFIELDS; i++) {
        const struct field *f = &fields[i];
        json_t *v = json_object_get(body, f->name);

        spoken(f->name, name, sizeof(name));
        if (v == NULL && !creating)
            continue;
        if (f->required && empty(v)) {
            rasl_field_error(details, f->name, f->missing);
            continue;
        }
        if (field_is_empty(v)) /* Laravel reads "" as null: an optional member is cleared */
            continue;
        switch (f->kind) {
        case TEXT:
            check_text(req, f, v, self, name, details);
            break;
        case TYPE:
            if (!json_is_string(v) || (strcmp(json_string_value(v), "lead") != 0 &&
                                       strcmp(json_string_value(v), "customer") != 0 &&
                                       strcmp(json_string_value(v), "guest") != 0))
                rasl_field_error(details, f->name, "Type must be either lead, customer, or guest.");
            break;
        case REF:
            check_ref(req, f, v, name, details);
            break;
        case INT:
            if (!integer_value(v, &number)) {
                snprintf(message, sizeof(message), "The %s field must be an integer.", name);
                rasl_field_error(details, f->name, message);
            }
            break;
        case GROUPS:
            check_groups(f, v, details);
            break;
        }
    }
}

/* A validated groups member (null or an array of 3 or "3") as the stored group_id list. */
static json_t *group_ids(const json_t *v)
{
    json_t *ids = json_array(), *g;
    json_int_t number;
    size_t i;

    json_array_foreach(v, i, g)
    {
        if (integer_value(g, &number))
            json_array_append_new(ids, json_integer(number));
    }
    return ids;
}

/* Copies body's members onto contact (groups becomes group_id). */
static void apply(json_t *contact, const json_t *body)
{
    for (size_t i = 0; i < NFIELDS; i++) {
        json_t *v = json_object_get(body, fields[i].name);
        json_int_t number;

        if (v == NULL)
            continue;
        if (fields[i].kind == GROUPS)
            json_object_set_new(contact, "group_id", group_ids(v));
        else if ((fields[i].kind == REF || fields[i].kind == INT) && integer_value(v, &number))
            json_object_set_new(contact, fields[i].name, json_integer(number));
        else if (json_is_string(v) && json_string_length(v) == 0 && !fields[i].required)
            json_object_set_new(contact, fields[i].name, json_null()); /* "" means null */
        else
            json_object_set(contact, fields[i].name, v);
    }
}

/* A new contact with every member in the vendor's order, all empty. */
static json_t *blank_contact(json_int_t id, const char *now)
{
    return json_pack("{s:I,s:s,s:s,s:n,s:s,s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:[],s:b,"
                     "s:s,s:s}",
                     "id", id, "firstname", "", "lastname", "", "company", "type", "lead", "email",
                     "phone", "status_id", "source_id", "description", "city", "state", "zip",
                     "address", "country_id", "assigned_id", "group_id", "is_opted_out", 0,
                     "created_at", now, "updated_at", now);
}

/* Whether the tenant's plan still has room for n more contacts; fails the request if not. */
static int room_for(struct req *req, struct res *res, long n)
{
    json_t *account, *limit;
    long current, maximum;
    int rc = rasl_account_row(req, &account);

    if (rc == EMU_NOT_FOUND)
        return EMU_OK; /* no plan, no limit */
    if (rc != EMU_OK)
        return rc;
    limit = json_object_get(json_object_get(account, "limits"), "contacts");
    maximum = json_is_integer(limit) ? (long)json_integer_value(limit) : -1;
    json_decref(account);
    if (maximum < 0)
        return EMU_OK;
    rc = rasl_count(req, RASL_CONTACTS, &current);
    if (rc != EMU_OK)
        return rc;
    if (current + n <= maximum)
        return EMU_OK;
    return rasl_fail(res, "FEATURE_LIMIT_EXCEEDED",
                     "Feature limit exceeded for contacts. Please upgrade your plan.",
                     json_pack("{s:s,s:i,s:i}", "feature", "contacts", "current", (int)current,
                               "maximum", (int)maximum));
}

/* What a contact looks like in an answer: the stored row plus the relations include= or the
 * endpoint asks for. */
static json_t *render_with(struct req *req, const json_t *row, int groups, int source, int status)
{
    json_t *out = json_deep_copy(row), *g, *rel;
    size_t i;

    if (out == NULL)
        return NULL;
    if (groups) {
        json_t *list = json_array();

        json_array_foreach(json_object_get(row, "group_id"), i, g)
        {
            if (rasl_get(req, RASL_GROUPS, json_integer_value(g), &rel) == EMU_OK)
                json_array_append_new(list, rel);
        }
        json_object_set_new(out, "groups", list);
    }
    if (source) {
        rel = NULL;
        rasl_get(req, RASL_SOURCES, json_integer_value(json_object_get(row, "source_id")), &rel);
        json_object_set_new(out, "source", rel ? rel : json_null());
    }
    if (status) {
        rel = NULL;
        rasl_get(req, RASL_STATUSES, json_integer_value(json_object_get(row, "status_id")), &rel);
        json_object_set_new(out, "status", rel ? rel : json_null());
    }
    return out;
}

/* Whether include= (a comma list of any length) names relation. */
static int includes(const json_t *query, const char *relation)
{
    const char *p = jsonx_string(query, "include");
    size_t n = strlen(relation);

    while (p != NULL && *p) {
        size_t len = strcspn(p, ",");

        if (len == n && strncmp(p, relation, n) == 0)
            return 1;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

static json_t *render_listed(struct req *req, const json_t *query, const json_t *row)
{
    return render_with(req, row, includes(query, "groups"), includes(query, "source"),
                       includes(query, "status"));
}

static int not_found(struct res *res)
{
    return rasl_fail(res, "NOT_FOUND", "Contact not found.", NULL);
}

int rasl_contacts_list(struct req *req, struct res *res)
{
    return rasl_list(req, res, &contact_list, render_listed);
}

int rasl_contacts_get(struct req *req, struct res *res)
{
    json_t *row, *data, *query;
    int rc = rasl_get(req, RASL_CONTACTS, rasl_path_id(req), &row);

    if (rc == EMU_NOT_FOUND)
        return not_found(res);
    if (rc == EMU_OK && (rc = req_query_all(req, &query)) != EMU_OK)
        json_decref(row);
    if (rc != EMU_OK)
        return rc;
    data = render_listed(req, query, row);
    json_decref(query);
    json_decref(row);
    return rasl_reply(req, res, 200, data, NULL);
}

int rasl_contacts_create(struct req *req, struct res *res)
{
    json_t *details = json_object(), *contact;
    json_int_t id;
    char now[32];
    int rc;

    validate(req, req->json, 1, 0, details);
    if (json_object_size(details) > 0)
        return rasl_fail(res, "VALIDATION_ERROR", "Validation failed", details);
    json_decref(details);
    rc = room_for(req, res, 1);
    if (rc == EMU_OK)
        rc = rasl_next_id(req, RASL_CONTACTS, &id);
    if (rc != EMU_OK)
        return rc;
    rasl_now(req, now);
    contact = blank_contact(id, now);
    apply(contact, req->json);
    rc = rasl_put(req, RASL_CONTACTS, contact);
    if (rc == EMU_OK)
        rc = rasl_events_emit(req, "contact.created", "contact", contact, NULL);
    if (rc == EMU_OK)
        rc = rasl_reply(req, res, 201, render_with(req, contact, 1, 0, 0),
                        "Contact created successfully");
    json_decref(contact);
    return rc;
}

int rasl_contacts_update(struct req *req, struct res *res)
{
    json_int_t id = rasl_path_id(req);
    json_t *contact, *details, *previous;
    char now[32];
    int rc = rasl_get(req, RASL_CONTACTS, id, &contact);

    if (rc == EMU_NOT_FOUND)
        return not_found(res);
    if (rc != EMU_OK)
        return rc;
    details = json_object();
    validate(req, req->json, 0, id, details);
    if (json_object_size(details) > 0) {
        json_decref(contact);
        return rasl_fail(res, "VALIDATION_ERROR", "Validation failed", details);
    }
    json_decref(details);
    previous = json_deep_copy(contact);
    apply(contact, req->json);
    rasl_now(req, now);
    json_object_set_new(contact, "updated_at", json_string(now));
    rc = rasl_put(req, RASL_CONTACTS, contact);
    if (rc == EMU_OK)
        rc = rasl_events_emit(req, "contact.updated", "contact", contact, previous);
    json_decref(previous);
    if (rc == EMU_OK)
        rc = rasl_reply(req, res, 200, render_with(req, contact, 1, 0, 0),
                        "Contact updated successfully");
    json_decref(contact);
    return rc;
}

/* Deletes contact id and fires contact.deleted. EMU_NOT_FOUND when there is none. */
static int delete_contact(struct req *req, json_int_t id)
{
    json_t *contact;
    int rc = rasl_get(req, RASL_CONTACTS, id, &contact);

    if (rc == EMU_OK)
        rc = rasl_del(req, RASL_CONTACTS, id);
    if (rc == EMU_OK)
        rc = rasl_events_emit(req, "contact.deleted", "contact", contact, NULL);
    json_decref(contact);
    return rc;
}

int rasl_contacts_delete(struct req *req, struct res *res)
{
    json_int_t id = rasl_path_id(req);
    int rc = delete_contact(req, id);

    if (rc == EMU_NOT_FOUND)
        return not_found(res);
    if (rc != EMU_OK)
        return rc;
    return rasl_reply(req, res, 200, NULL, "Contact deleted successfully");
}

/* ---- batches ---- */

/* What a batch knows: how many contacts the tenant has and the plan's maximum (-1: none). The
 * phones and emails taken are looked up in the index, which sees the items created so far. */
struct batch {
    struct req *req;
    long count, maximum;
};

static int batch_is_taken(const struct batch *b, const char *member, const char *value)
{
    return value != NULL && taken(b->req, member, value, 0);
}

static int batch_open(struct req *req, struct batch *b)
{
    json_t *account, *limit;
    int rc;

    b->req = req;
    b->count = 0;
    b->maximum = -1;
    rc = rasl_count(req, RASL_CONTACTS, &b->count);
    if (rc != EMU_OK)
        return rc;
    rc = rasl_account_row(req, &account);
    if (rc == EMU_NOT_FOUND)
        return EMU_OK; /* no plan, no limit */
    if (rc != EMU_OK)
        return rc;
    limit = json_object_get(json_object_get(account, "limits"), "contacts");
    if (json_is_integer(limit) && json_integer_value(limit) >= 0)
        b->maximum = (long)json_integer_value(limit);
    json_decref(account);
    return EMU_OK;
}

/* One of the batch's options: a boolean (true, false, 1, 0, "1", "0") or its default;
 * another type is Laravel's boolean rule failing, under "options.<name>". */
static int option(const json_t *body, const char *name, int fallback, json_t *details)
{
    char field[64];
    int value;

    snprintf(field, sizeof(field), "options.%s", name);
    return rasl_rule_boolean(json_object_get(body, "options"), name, field, details, &value) ==
                   FIELD_OK
               ? value
               : fallback;
}

/* An item's members by the create rules that do not look at the table (text types and
 * lengths, integers), in Laravel's default sentences. */
static void validate_item_members(const json_t *item, json_t *errors)
{
    char message[160], name[64];

    for (size_t i = 0; i < NFIELDS; i++) {
        const struct field *f = &fields[i];
        json_t *v = json_object_get(item, f->name);
        json_int_t number;

        if (field_is_empty(v) || strcmp(f->name, "email") == 0)
            continue;
        spoken(f->name, name, sizeof(name));
        if (f->kind == TEXT && !json_is_string(v)) {
            if (f->required) /* firstname, lastname and phone have their own sentences */
                continue;
            snprintf(message, sizeof(message), "The %s field must be a string.", name);
            rasl_field_error(errors, f->name, message);
        } else if (f->kind == TEXT && json_string_length(v) > f->max) {
            snprintf(message, sizeof(message),
                     "The %s field must not be greater than %zu characters.", name, f->max);
            rasl_field_error(errors, f->name, message);
        } else if (f->kind == INT && !integer_value(v, &number)) {
            snprintf(message, sizeof(message), "The %s field must be an integer.", name);
            rasl_field_error(errors, f->name, message);
        }
    }
}

/* An item's source_id or status_id: an integer naming a row of table. */
static void validate_item_ref(struct req *req, const json_t *item, const char *member,
                              const char *table, json_t *errors)
{
    char message[96], name[32];
    json_int_t id;

    spoken(member, name, sizeof(name));
    if (!integer_value(json_object_get(item, member), &id)) {
        snprintf(message, sizeof(message), "The %s field must be an integer.", name);
        rasl_field_error(errors, member, message);
    } else if (!exists(req, table, id)) {
        snprintf(message, sizeof(message), "The selected %s is invalid.", name);
        rasl_field_error(errors, member, message);
    }
}

/* One batch item's problems, in Laravel's default sentences, into errors. */
static void validate_item(struct req *req, const struct batch *b, const json_t *item,
                          json_t *errors)
{
    static const char *const required[] = {"firstname", "lastname",  "phone",
                                           "type",      "source_id", "status_id"};
    char message[128], name[64];
    json_t *email = json_object_get(item, "email");
    const char *type;

    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        spoken(required[i], name, sizeof(name));
        snprintf(message, sizeof(message), "The %s field is required.", name);
        if (empty(json_object_get(item, required[i])))
            rasl_field_error(errors, required[i], message);
    }
    if (json_object_size(errors) > 0)
        return;
    rasl_rule_string(item, "firstname", NULL, errors, NULL);
    rasl_rule_string(item, "lastname", NULL, errors, NULL);
    if (!json_is_string(json_object_get(item, "phone")))
        rasl_field_error(errors, "phone", "The phone field must be a string.");
    else if (batch_is_taken(b, "phone", jsonx_string(item, "phone")))
        rasl_field_error(errors, "phone", "The phone has already been taken.");
    if (!empty(email) &&
        (!json_is_string(email) || !rasl_contacts_valid_email(json_string_value(email))))
        rasl_field_error(errors, "email", "The email field must be a valid email address.");
    else if (json_is_string(email) && batch_is_taken(b, "email", json_string_value(email)))
        rasl_field_error(errors, "email", "The email has already been taken.");
    type = jsonx_string(item, "type");
    if (type == NULL ||
        (strcmp(type, "lead") != 0 && strcmp(type, "customer") != 0 && strcmp(type, "guest") != 0))
        rasl_field_error(errors, "type", "The selected type is invalid.");
    validate_item_ref(req, item, "source_id", RASL_SOURCES, errors);
    validate_item_ref(req, item, "status_id", RASL_STATUSES, errors);
    validate_item_members(item, errors);
}

/* Creates one validated item as the tenant's next contact; *out is a new reference to it. */
static int batch_create(struct req *req, struct batch *b, json_t *item, json_t **out)
{
    json_int_t id;
    char now[32];
    int rc = rasl_next_id(req, RASL_CONTACTS, &id);

    *out = NULL;
    if (rc != EMU_OK)
        return rc;
    rasl_now(req, now);
    *out = blank_contact(id, now);
    if (*out == NULL)
        return EMU_NOMEM;
    json_object_del(item, "groups"); /* a batch does not place contacts in groups */
    apply(*out, item);
    rc = rasl_put(req, RASL_CONTACTS, *out);
    if (rc == EMU_OK)
        rc = rasl_events_emit(req, "contact.created", "contact", *out, NULL);
    b->count++;
    return rc;
}

/* Checks a batch body's contacts array and its options into details, and reads the options. */
static void batch_check(const json_t *body, int *keep_going, int *skip_duplicates, json_t *details)
{
    json_t *items = json_object_get(body, "contacts");
    json_t *options = json_object_get(body, "options");

    if (!json_is_array(items))
        rasl_field_error(details, "contacts",
                         items && !json_is_null(items) ? "The contacts field must be an array."
                                                       : "The contacts field is required.");
    if (!field_is_empty(options) && !json_is_object(options) &&
        !(json_is_array(options) && json_array_size(options) == 0)) /* PHP's empty [] is {} */
        rasl_rule_error(details, "options", "must be an array.");
    *keep_going = option(body, "continue_on_error", 1, details);
    *skip_duplicates = option(body, "skip_duplicates", 0, details);
}

/* Longer than most: one loop decides, per item, skipped, failed or created, and the three
 * lists it fills make the answer; split, the loop's state would travel in a struct. */
int rasl_contacts_batch_create(struct req *req, struct res *res)
{
    json_t *items = json_object_get(req->json, "contacts"), *item, *details = json_object();
    json_t *created, *skipped, *failed, *result;
    int keep_going, skip_duplicates;
    struct batch b;
    size_t i;
    int rc;

    batch_check(req->json, &keep_going, &skip_duplicates, details);
    if (json_object_size(details) > 0)
        return rasl_fail(res, "VALIDATION_ERROR", NULL, details);
    json_decref(details);
    rc = batch_open(req, &b);
    if (rc != EMU_OK) {
        return rc;
    }
    created = json_array();
    skipped = json_array();
    failed = json_array();
    json_array_foreach(items, i, item)
    {
        json_t *errors = json_object(), *contact;

        if (json_is_object(item) && skip_duplicates &&
            batch_is_taken(&b, "phone", jsonx_string(item, "phone"))) {
            json_array_append_new(skipped, json_pack("{s:i,s:s,s:O}", "index", (int)i, "reason",
                                                     "Duplicate phone", "data", item));
            json_decref(errors);
            continue;
        }
        if (!json_is_object(item))
            rasl_field_error(errors, "contact", "The contact must be an object.");
        else
            validate_item(req, &b, item, errors);
        if (json_object_size(errors) == 0 && b.maximum >= 0 && b.count + 1 > b.maximum)
            rasl_field_error(errors, "contacts",
                             "Feature limit exceeded for contacts. Please upgrade your plan.");
        if (json_object_size(errors) > 0) {
            json_array_append_new(failed, json_pack("{s:i,s:O,s:o}", "index", (int)i, "data", item,
                                                    "errors", errors));
            if (!keep_going)
                break;
            continue;
        }
        json_decref(errors);
        rc = batch_create(req, &b, item, &contact);
        if (contact != NULL)
            json_array_append_new(created, contact);
        if (rc != EMU_OK)
            break;
    }
    result =
        json_pack("{s:b,s:{s:i,s:i,s:i,s:i},s:o,s:o,s:o}", "success",
                  keep_going || json_array_size(failed) == 0, "summary", "total",
                  (int)json_array_size(items), "created", (int)json_array_size(created), "skipped",
                  (int)json_array_size(skipped), "failed", (int)json_array_size(failed), "created",
                  created, "skipped", skipped, "errors", failed);
    if (rc != EMU_OK) {
        json_decref(result);
        return rc;
    }
    if (!keep_going && json_array_size(failed) > 0) /* the transaction is rolled back */
        return rasl_fail(res, "VALIDATION_ERROR", "Batch operation failed", result);
    return rasl_reply(req, res, 200, result, "Batch operation completed");
}

int rasl_contacts_batch_delete(struct req *req, struct res *res)
{
    json_t *ids = json_object_get(req->json, "ids"), *id, *details;
    int deleted = 0;
    size_t i;

    if (!json_is_array(ids) || json_array_size(ids) == 0) {
        details = json_object();
        rasl_field_error(details, "ids",
                         json_is_array(ids) || ids == NULL ? "The ids field is required."
                                                           : "The ids field must be an array.");
        return rasl_fail(res, "VALIDATION_ERROR", NULL, details);
    }
    json_array_foreach(ids, i, id)
    {
        json_int_t number;
        int rc;

        if (!integer_value(id, &number))
            continue; /* an id that is not one (3 and "3" are) counts as failed */
        rc = delete_contact(req, number);
        if (rc == EMU_OK)
            deleted++;
        else if (rc != EMU_NOT_FOUND)
            return rc;
    }
    return rasl_reply(req, res, 200,
                      json_pack("{s:b,s:{s:i,s:i,s:i}}", "success", 1, "summary", "total",
                                (int)json_array_size(ids), "deleted", deleted, "failed",
                                (int)json_array_size(ids) - deleted),
                      "Contacts deleted successfully");
}

/* ---- fixtures ---- */

int rasl_contact_row_key(const json_t *row, size_t index, char *key, size_t keylen,
                         const char **field, char *msg, size_t msglen)
{
    static const char *const ints[] = {"id", "status_id", "source_id"};
    static const char *const strings[] = {"firstname", "lastname", "type", "created_at",
                                          "updated_at"};

    (void)index; /* keys come from the row's id */
    for (size_t i = 0; i < 3; i++) {
        if (!json_is_integer(json_object_get(row, ints[i]))) {
            *field = ints[i];
            snprintf(msg, msglen, "\"%s\" must be a whole number", ints[i]);
            return EMU_INVALID;
        }
    }
    for (size_t i = 0; i < 5; i++) {
        if (jsonx_string(row, strings[i]) == NULL) {
            *field = strings[i];
            snprintf(msg, msglen, "\"%s\" must be a string", strings[i]);
            return EMU_INVALID;
        }
    }
    if (!json_is_array(json_object_get(row, "group_id"))) {
        *field = "group_id";
        snprintf(msg, msglen, "\"group_id\" must be an array of group ids");
        return EMU_INVALID;
    }
    if (!json_is_boolean(json_object_get(row, "is_opted_out"))) {
        *field = "is_opted_out";
        snprintf(msg, msglen, "\"is_opted_out\" must be true or false");
        return EMU_INVALID;
    }
    snprintf(key, keylen, "%010lld", (long long)json_integer_value(json_object_get(row, "id")));
    return EMU_OK;
}
