/* router.h -- route tables as data, and finding the route that answers a request.
 *
 * Each vendor lists its routes as a const array of struct route; patterns are matched as
 * path.h says. The dispatcher (server/dispatch.h) finds the route here and applies what its
 * flags ask for (authentication, JSON body, write transaction) once, for every vendor;
 * handlers only do the resource's work and return an error code, which the vendor turns into
 * its own error body. */
#ifndef EMU_ROUTER_H
#define EMU_ROUTER_H

struct req;
struct res;
struct vendor;

enum route_flags {
    ROUTE_AUTH = 1 << 0,  /* call vendor->authenticate() first */
    ROUTE_JSON = 1 << 1,  /* the body must be a JSON object: req->json */
    ROUTE_WRITE = 1 << 2, /* run in a write transaction, committed when the handler succeeds */
};

typedef int route_fn(struct req *req, struct res *res);

struct route {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* "/contacts/{id}": {name} captures one segment, "*" the rest */
    route_fn *handler;
    unsigned flags;    /* enum route_flags */
    const char *scope; /* the permission a credential needs, checked by the vendor; or NULL */
};

/* 1 when path matches pattern, a trailing slash of path aside (as routing ignores it);
 * captures {name} segments into req->params when req is not NULL (req->nparams is reset
 * first). */
int router_path_match(const char *pattern, const char *path, struct req *req);

/* Finds the vendor whose path space holds req->path and the route for req->method there.
 * Sets req->vendor (also when no route matches) and req->route. Returns EMU_OK, EMU_NO_ROUTE
 * or EMU_NO_METHOD (the path exists with other methods). */
int router_match(const struct vendor *const *list, struct req *req);

/* Answers err (with the sentence why) in the error shape of the vendor that owns req->path,
 * without running anything: for requests refused before dispatch (the server stops, the
 * framing or path is bad, civetweb found the request malformed). A status already in
 * res->status is the one the answer will carry; vendors whose body names it read it there. */
void router_refuse(struct req *req, struct res *res, int err, const char *why);

#endif
