/* named_shared.c -- what RASL's named resources (statuses.c, sources.c, groups.c) share.
 *
 * The three have one shape: an id, a name unique in the tenant, optional members (a status's
 * colour, a status's or source's description) and timestamps. Create checks the name and the
 * optional members; a PATCH changes only what it sends, and an unknown id is 404 before any
 * validation. Deleting a status or source that contacts use is refused with the count, and
 * never touches the contacts; deleting a group takes it out of its contacts' group_id lists.
 * Each resource file describes its kind in a struct rasl_named and hands it to the functions
 * here. */
#include "rasl.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "err.h"
#include "jsonx.h"
#include "req.h"
#include "store.h"

#define NAME_MAX_CHARS 255

static const char *const named_filters[] = {"created_at", NULL};
static const char *const named_sorts[] = {"name", "created_at", "updated_at", NULL};
static const char *const named_searches[] = {"name", NULL};
static const struct rasl_list_spec named_list = {
    .filters = named_filters,
    .sorts = named_sorts,
    .searches = named_searches,
};

int rasl_named_not_found(struct res *res, const struct rasl_named *kind)
{
    char message[64];

    snprintf(message, sizeof(message), "%s not found.", kind->title);
    return rasl_fail(res, "NOT_FOUND", message, NULL);
}

/* Laravel reads "" as null in every request. */
static int empty_string(const json_t *v)
{
    return json_is_string(v) && json_string_length(v) == 0;
}

static int valid_color(const char *c)
{
    if (c == NULL || strlen(c) != 7 || c[0] != '#')
        return 0;
    for (int i = 1; i < 7; i++)
        if (!isxdigit((unsigned char)c[i]))
            return 0;
    return 1;
}

struct name_clash {
    const char *name;
    json_int_t except_id; /* the row being renamed may keep its own name */
    int taken;
};

static int check_name(const char *key, json_t *doc, void *arg)
{
    struct name_clash *c = arg;

    (void)key;
    if (json_integer_value(json_object_get(doc, "id")) != c->except_id &&
        strcasecmp(jsonx_string(doc, "name"), c->name) == 0) {
        c->taken = 1;
        return 1;
    }
    return 0;
}

/* Checks the members body sends (all required ones when creating) into details. */
static int validate(struct req *req, const struct rasl_named *kind, const json_t *body,
                    int creating, json_int_t id, json_t *details)
{
    json_t *name = json_object_get(body, "name");
    char message[128], prefix[80];

    if (creating || name != NULL) {
        snprintf(message, sizeof(message), "%s name is required.", kind->title);
        if (field_is_empty(name) || (json_is_array(name) && json_array_size(name) == 0) ||
            (json_is_object(name) && json_object_size(name) == 0)) {
            rasl_field_error(details, "name", message);
        } else if (!json_is_string(name)) {
            rasl_field_error(details, "name", "The name field must be a string.");
        } else if (json_string_length(name) > NAME_MAX_CHARS) {
            rasl_field_error(details, "name",
                             "The name field must not be greater than 255 characters.");
        } else {
            struct name_clash clash = {json_string_value(name), id, 0};
            int rc;

            snprintf(prefix, sizeof(prefix), "%s/", req->tenant);
            rc = store_scan(req->txn, kind->table, prefix, check_name, &clash);
            if (rc != EMU_OK)
                return rc;
            snprintf(message, sizeof(message), "A %s with this name already exists.", kind->lower);
            if (clash.taken)
                rasl_field_error(details, "name", message);
        }
    }
    if (kind->has_color) {
        json_t *color = json_object_get(body, "color");

        if (color != NULL && !json_is_null(color) && !empty_string(color) &&
            !valid_color(json_string_value(color)))
            rasl_field_error(details, "color",
                             "Color must be a valid hex color code (e.g., #FF5733).");
    }
    if (kind->has_description) {
        json_t *desc = json_object_get(body, "description");

        if (desc != NULL && !json_is_null(desc) && !json_is_string(desc))
            rasl_field_error(details, "description", "The description field must be a string.");
    }
    return EMU_OK;
}

static json_t *member_or_null(const json_t *body, const char *key)
{
    json_t *v = json_object_get(body, key);

    return v ? v : json_null();
}

/* Fires "<type>.<what>" for kinds that have events. */
static int fire(struct req *req, const struct rasl_named *kind, const char *what, const json_t *row,
                const json_t *previous)
{
    char event[48];

    if (kind->event_type == NULL)
        return EMU_OK;
    snprintf(event, sizeof(event), "%s.%s", kind->event_type, what);
    return rasl_events_emit(req, event, kind->event_type, row, previous);
}

int rasl_named_create(struct req *req, struct res *res, const struct rasl_named *kind)
{
    json_t *details = json_object(), *row;
    char now[32], message[64];
    json_int_t id;
    int rc = validate(req, kind, req->json, 1, 0, details);

    if (rc != EMU_OK || json_object_size(details) > 0)
        return rc != EMU_OK ? (json_decref(details), rc)
                            : rasl_fail(res, "VALIDATION_ERROR", NULL, details);
    json_decref(details);
    rc = rasl_next_id(req, kind->table, &id);
    if (rc != EMU_OK)
        return rc;
    rasl_now(req, now);
    row = json_pack("{s:I,s:O}", "id", (json_int_t)id, "name", json_object_get(req->json, "name"));
    if (kind->has_color)
        json_object_set(row, "color", member_or_null(req->json, "color"));
    if (kind->has_description)
        json_object_set(row, "description", member_or_null(req->json, "description"));
    if (empty_string(json_object_get(row, "color")))
        json_object_set_new(row, "color", json_null());
    if (empty_string(json_object_get(row, "description")))
        json_object_set_new(row, "description", json_null());
    json_object_set_new(row, "created_at", json_string(now));
    json_object_set_new(row, "updated_at", json_string(now));
    rc = rasl_put(req, kind->table, row);
    if (rc == EMU_OK)
        rc = fire(req, kind, "created", row, NULL);
    if (rc != EMU_OK) {
        json_decref(row);
        return rc;
    }
    snprintf(message, sizeof(message), "%s created successfully", kind->title);
    return rasl_reply(req, res, 201, row, message);
}

int rasl_named_get(struct req *req, struct res *res, const struct rasl_named *kind)
{
    json_t *row;
    int rc = rasl_get(req, kind->table, rasl_path_id(req), &row);

    if (rc == EMU_NOT_FOUND)
        return rasl_named_not_found(res, kind);
    return rc == EMU_OK ? rasl_reply(req, res, 200, row, NULL) : rc;
}

int rasl_named_update(struct req *req, struct res *res, const struct rasl_named *kind)
{
    static const char *const members[] = {"name", "color", "description"};
    json_int_t id = rasl_path_id(req);
    json_t *row, *details, *previous;
    char now[32], message[64];
    int rc = rasl_get(req, kind->table, id, &row);

    if (rc == EMU_NOT_FOUND)
        return rasl_named_not_found(res, kind);
    if (rc != EMU_OK)
        return rc;
    details = json_object();
    rc = validate(req, kind, req->json, 0, id, details);
    if (rc != EMU_OK || json_object_size(details) > 0) {
        json_decref(row);
        return rc != EMU_OK ? (json_decref(details), rc)
                            : rasl_fail(res, "VALIDATION_ERROR", NULL, details);
    }
    json_decref(details);
    previous = json_deep_copy(row);
    for (size_t i = 0; i < 3; i++) {
        json_t *v = json_object_get(req->json, members[i]);

        if (v != NULL && json_object_get(row, members[i]) != NULL) /* only what it has */
            json_object_set(row, members[i], i > 0 && empty_string(v) ? json_null() : v);
    }
    rasl_now(req, now);
    json_object_set_new(row, "updated_at", json_string(now));
    rc = rasl_put(req, kind->table, row);
    if (rc == EMU_OK)
        rc = fire(req, kind, "updated", row, previous);
    json_decref(previous);
    if (rc != EMU_OK) {
        json_decref(row);
        return rc;
    }
    snprintf(message, sizeof(message), "%s updated successfully", kind->title);
    return rasl_reply(req, res, 200, row, message);
}

/* Counts the contacts pointing at id, or (groups) takes id out of their group_id lists: the
 * "field" index holds exactly the contacts whose member (or a group_id entry) is the integer id,
 * so this reads only them. */
static int sweep_contacts(struct req *req, const struct rasl_named *kind, json_int_t id, int *count)
{
    char group[STORE_INDEX_PART + 64], text[32], key[STORE_INDEX_PART], previous[STORE_INDEX_PART];
    long n = 0;
    int rc;

    *count = 0;
    snprintf(text, sizeof(text), "%lld", (long long)id);
    rasl_group(req->tenant, kind->contact_field ? kind->contact_field : "group_id", text, group,
               sizeof(group));
    if (kind->contact_field != NULL) {
        rc = rasl_group_count(req, RASL_CONTACTS, group, &n);
        *count = (int)n;
        return rc;
    }
    previous[0] = '\0';
    /* each contact rewritten leaves the group: take the first until none is left */
    while ((rc = store_index_first(req->txn, RASL_CONTACTS, RASL_INDEX, group, key, sizeof(key))) ==
           EMU_OK) {
        json_t *contact, *ids;

        if (strcmp(key, previous) == 0)
            return EMU_STORE; /* the index did not follow the write */
        snprintf(previous, sizeof(previous), "%s", key);
        rc = store_get(req->txn, RASL_CONTACTS, key, &contact);
        if (rc != EMU_OK)
            return rc;
        ids = json_object_get(contact, "group_id");
        for (size_t j = json_array_size(ids); j-- > 0;)
            if (json_integer_value(json_array_get(ids, j)) == id)
                json_array_remove(ids, j);
        rc = store_put(req->txn, RASL_CONTACTS, key, contact);
        json_decref(contact);
        if (rc != EMU_OK)
            return rc;
    }
    return rc == EMU_NOT_FOUND ? EMU_OK : rc;
}

int rasl_named_delete(struct req *req, struct res *res, const struct rasl_named *kind)
{
    json_int_t id = rasl_path_id(req);
    char message[128];
    json_t *row;
    int count, rc = rasl_get(req, kind->table, id, &row);

    if (rc == EMU_NOT_FOUND)
        return rasl_named_not_found(res, kind);
    if (rc == EMU_OK)
        rc = sweep_contacts(req, kind, id, &count);
    if (rc == EMU_OK && count == 0)
        rc = rasl_del(req, kind->table, id);
    if (rc == EMU_OK && count == 0)
        rc = fire(req, kind, "deleted", row, NULL);
    json_decref(row);
    if (rc != EMU_OK)
        return rc;
    if (count > 0) {
        snprintf(message, sizeof(message), "Cannot delete %s. It is being used by %d contact(s).",
                 kind->lower, count);
        return rasl_fail(res, "RESOURCE_CONFLICT", message,
                         json_pack("{s:i}", "contacts_count", count));
    }
    snprintf(message, sizeof(message), "%s deleted successfully", kind->title);
    return rasl_reply(req, res, 200, NULL, message);
}

int rasl_named_list(struct req *req, struct res *res, const struct rasl_named *kind)
{
    struct rasl_list_spec spec = named_list;

    spec.table = kind->table;
    return rasl_list(req, res, &spec, NULL);
}

/* The fixture rows of the three tables. */
int rasl_named_row_key(const json_t *row, size_t index, char *key, size_t keylen,
                       const char **field, char *msg, size_t msglen)
{
    json_t *id = json_object_get(row, "id"), *color = json_object_get(row, "color");
    int64_t at;

    (void)index; /* keys come from the row's id */
    if (!json_is_integer(id) || json_integer_value(id) < 1) {
        *field = "id";
        snprintf(msg, msglen, "\"id\" must be a whole number of at least 1");
    } else if (jsonx_string(row, "name") == NULL) {
        *field = "name";
        snprintf(msg, msglen, "\"name\" must be a string");
    } else if (color != NULL && !json_is_null(color) && !valid_color(json_string_value(color))) {
        *field = "color";
        snprintf(msg, msglen, "\"color\" must be \"#RRGGBB\" or null");
    } else if (clock_parse_rfc3339(jsonx_string(row, "created_at"), &at) != EMU_OK) {
        *field = "created_at";
        snprintf(msg, msglen, "\"created_at\" must be an RFC 3339 instant");
    } else if (clock_parse_rfc3339(jsonx_string(row, "updated_at"), &at) != EMU_OK) {
        *field = "updated_at";
        snprintf(msg, msglen, "\"updated_at\" must be an RFC 3339 instant");
    } else {
        snprintf(key, keylen, "%010lld", (long long)json_integer_value(id));
        return EMU_OK;
    }
    return EMU_INVALID;
}
