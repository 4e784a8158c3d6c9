/* statuses.c -- RASL's statuses: a contact's stage, with a colour and a description; its changes
 * fire status.* events.
 *
 * The resource's shape and its list, create, get, update and delete are shared with the other
 * named resources (named_shared.c); this file says what a status is. */
#include "rasl.h"

#include "req.h"

/* clang-format off */
static const struct rasl_named statuses = {
    .table = RASL_STATUSES, .event_type = "status", .title = "Status", .lower = "status",
    .has_color = 1, .has_description = 1, .contact_field = "status_id",
};
/* clang-format on */

int rasl_statuses_list(struct req *req, struct res *res)
{
    return rasl_named_list(req, res, &statuses);
}

int rasl_statuses_create(struct req *req, struct res *res)
{
    return rasl_named_create(req, res, &statuses);
}

int rasl_statuses_get(struct req *req, struct res *res)
{
    return rasl_named_get(req, res, &statuses);
}

int rasl_statuses_update(struct req *req, struct res *res)
{
    return rasl_named_update(req, res, &statuses);
}

int rasl_statuses_delete(struct req *req, struct res *res)
{
    return rasl_named_delete(req, res, &statuses);
}
