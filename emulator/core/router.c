/* router.c -- the vendor that owns a path, and the route that answers it. */
#include "router.h"

#include <string.h>

#include "err.h"
#include "path.h"
#include "req.h"
#include "vendors.h"

/* Copies one captured segment into req->params; 0 when it does not fit. The name is set by
 * name_params once the route is known. */
static int capture_param(const char *seg, size_t len, void *arg)
{
    struct req *req = arg;
    struct req_param *param;

    if (req->nparams == REQ_MAX_PARAMS || len >= sizeof(param->value))
        return 0;
    param = &req->params[req->nparams++];
    param->name = NULL;
    memcpy(param->value, seg, len);
    param->value[len] = '\0';
    return 1;
}

/* Matches the first len bytes of path against pattern, capturing into req when not NULL. */
static int match_n(const char *pattern, const char *path, size_t len, struct req *req)
{
    if (req != NULL)
        req->nparams = 0;
    return path_match_len(pattern, path, len, req ? capture_param : NULL, req);
}

int router_path_match(const char *pattern, const char *path, struct req *req)
{
    return match_n(pattern, path, path_routed_length(path), req);
}

/* Names the captured parameters after a match. A name points into the static route pattern,
 * just past its '{', and ends at the '}' (req_param compares up to it). */
static void name_params(const char *pattern, struct req *req)
{
    int i = 0;

    for (const char *p = strchr(pattern, '{'); p != NULL && i < req->nparams;
         p = strchr(p + 1, '{'))
        req->params[i++].name = p + 1;
}

static int prefix_of(const struct vendor *v, const char *path, size_t *best)
{
    for (int i = 0; v->prefixes[i] != NULL; i++) {
        size_t n = strlen(v->prefixes[i]);

        if (strncmp(path, v->prefixes[i], n) != 0)
            continue;
        /* "/v1" owns "/v1" and "/v1/...", not "/v1x"; "" owns whatever no one else does. */
        if (n > 0 && path[n] != '\0' && path[n] != '/' && v->prefixes[i][n - 1] != '/')
            continue;
        if (n > *best || (n == 0 && *best == 0)) {
            *best = n;
            return 1;
        }
    }
    return 0;
}

int router_match(const struct vendor *const *list, struct req *req)
{
    const struct vendor *owner = NULL;
    size_t best = 0, len = path_routed_length(req->path);
    int path_known = 0;

    for (int i = 0; list[i] != NULL; i++) {
        size_t n = best;

        if (prefix_of(list[i], req->path, &n) && (owner == NULL || n > best)) {
            owner = list[i];
            best = n;
        }
    }
    req->vendor = owner;
    req->route = NULL;
    if (owner == NULL)
        return EMU_NO_ROUTE;
    for (const struct route *r = owner->routes; r->method != NULL; r++) {
        if (!match_n(r->path, req->path, len, req))
            continue;
        if (strcmp(r->method, req->method) == 0) {
            req->route = r;
            name_params(r->path, req);
            return EMU_OK;
        }
        path_known = 1;
    }
    req->nparams = 0;
    return path_known ? EMU_NO_METHOD : EMU_NO_ROUTE;
}

void router_refuse(struct req *req, struct res *res, int err, const char *why)
{
    router_match(vendors_all(), req); /* sets the vendor, and the route when one matches */
    res_fail(res, err, "%s", why);
    (req->vendor ? req->vendor : vendors_own_api())->reply_error(req, res, err);
}
