/* groups.c -- RASL's groups: named sets of contacts (a contact lists its groups in group_id), and
 * adding and removing members.
 *
 * The resource's shape and its list, create, get, update and delete are shared with the other
 * named resources (named_shared.c); this file says what a group is and keeps its membership. */
#include "rasl.h"

#include <stdio.h>

#include "err.h"
#include "req.h"

/* clang-format off */
static const struct rasl_named groups = {
    .table = RASL_GROUPS, .title = "Group", .lower = "group",
};
/* clang-format on */

int rasl_groups_list(struct req *req, struct res *res)
{
    return rasl_named_list(req, res, &groups);
}

int rasl_groups_create(struct req *req, struct res *res)
{
    return rasl_named_create(req, res, &groups);
}

int rasl_groups_get(struct req *req, struct res *res)
{
    return rasl_named_get(req, res, &groups);
}

int rasl_groups_update(struct req *req, struct res *res)
{
    return rasl_named_update(req, res, &groups);
}

int rasl_groups_delete(struct req *req, struct res *res)
{
    return rasl_named_delete(req, res, &groups);
}

/* Reads {"contact_ids": [ints]} into details' messages; checks existence when must_exist. */
static int contact_ids(struct req *req, int must_exist, json_t *details)
{
    json_t *ids = json_object_get(req->json, "contact_ids"), *id, *row;
    json_int_t number;
    char field[48];
    size_t i;

    if (ids == NULL || json_is_null(ids)) {
        rasl_field_error(details, "contact_ids", "Contact IDs are required.");
        return EMU_OK;
    }
    if (!json_is_array(ids)) {
        rasl_field_error(details, "contact_ids", "Contact IDs must be an array.");
        return EMU_OK;
    }
    if (json_array_size(ids) == 0) {
        rasl_field_error(details, "contact_ids", "Contact IDs are required.");
        return EMU_OK;
    }
    json_array_foreach(ids, i, id)
    {
        snprintf(field, sizeof(field), "contact_ids.%zu", i);
        if (rasl_integer_of(id, &number) != FIELD_OK) {
            rasl_field_error(details, field, "The contact ID must be an integer.");
            continue;
        }
        if (!must_exist)
            continue;
        if (rasl_get(req, RASL_CONTACTS, number, &row) == EMU_OK)
            json_decref(row);
        else
            rasl_field_error(details, field, "One or more contact IDs do not exist.");
    }
    return EMU_OK;
}

static int membership(struct req *req, struct res *res, int adding)
{
    json_int_t group_id = rasl_path_id(req);
    json_t *group, *details, *id;
    int rc = rasl_get(req, RASL_GROUPS, group_id, &group), changed = 0;
    size_t i;

    json_decref(group);
    if (rc == EMU_NOT_FOUND)
        return rasl_named_not_found(res, &groups);
    if (rc != EMU_OK)
        return rc;
    details = json_object();
    contact_ids(req, adding, details);
    if (json_object_size(details) > 0)
        return rasl_fail(res, "VALIDATION_ERROR", NULL, details);
    json_decref(details);
    json_array_foreach(json_object_get(req->json, "contact_ids"), i, id)
    {
        json_t *contact, *list;
        json_int_t contact_id = 0;
        size_t at, n;
        int present = 0;

        rasl_integer_of(id, &contact_id); /* validated: 3 or "3" */
        if (rasl_get(req, RASL_CONTACTS, contact_id, &contact) != EMU_OK)
            continue; /* removing an unknown contact changes nothing */
        list = json_object_get(contact, "group_id");
        n = json_array_size(list);
        for (at = 0; at < n && !present; at++)
            present = json_integer_value(json_array_get(list, at)) == group_id;
        if (adding && !present)
            rc = json_array_append_new(list, json_integer(group_id));
        else if (!adding && present)
            rc = json_array_remove(list, at - 1);
        else {
            json_decref(contact);
            continue;
        }
        changed++;
        if (rc == 0)
            rc = rasl_put(req, RASL_CONTACTS, contact);
        json_decref(contact);
        if (rc != EMU_OK)
            return rc < 0 && rc != -1 ? rc : EMU_NOMEM;
    }
    return rasl_reply(req, res, 200,
                      json_pack("{s:I,s:i}", "group_id", (json_int_t)group_id,
                                adding ? "contacts_added" : "contacts_removed", changed),
                      adding ? "Contacts added to group successfully"
                             : "Contacts removed from group successfully");
}

int rasl_groups_add_contacts(struct req *req, struct res *res)
{
    return membership(req, res, 1);
}

int rasl_groups_remove_contacts(struct req *req, struct res *res)
{
    return membership(req, res, 0);
}
