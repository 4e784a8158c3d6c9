/* sources.c -- RASL's sources: where a contact came from, with a description; its changes fire
 * source.* events.
 *
 * The resource's shape and its list, create, get, update and delete are shared with the other
 * named resources (named_shared.c); this file says what a source is. */
#include "rasl.h"

#include "req.h"

/* clang-format off */
static const struct rasl_named sources = {
    .table = RASL_SOURCES, .event_type = "source", .title = "Source", .lower = "source",
    .has_description = 1, .contact_field = "source_id",
};
/* clang-format on */

int rasl_sources_list(struct req *req, struct res *res)
{
    return rasl_named_list(req, res, &sources);
}

int rasl_sources_create(struct req *req, struct res *res)
{
    return rasl_named_create(req, res, &sources);
}

int rasl_sources_get(struct req *req, struct res *res)
{
    return rasl_named_get(req, res, &sources);
}

int rasl_sources_update(struct req *req, struct res *res)
{
    return rasl_named_update(req, res, &sources);
}

int rasl_sources_delete(struct req *req, struct res *res)
{
    return rasl_named_delete(req, res, &sources);
}
