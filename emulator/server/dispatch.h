/* dispatch.h -- the request pipeline, the same for every vendor.
 *
 * The dispatcher finds the route (router.h), opens the request's one LMDB transaction, and
 * applies what the route's flags ask for (authentication, JSON body, write transaction) once,
 * for every vendor; scenarios may answer instead of the vendor once the tenant is known;
 * handlers only do the resource's work and return an error code, which the vendor turns into
 * its own error body. Webhook deliveries a request deferred are handed over once its
 * transaction has committed. */
#ifndef EMU_DISPATCH_H
#define EMU_DISPATCH_H

struct app;
struct req;
struct res;

/* Runs the request through match, body-size check, transaction, authentication, scenarios,
 * body parsing, the handler and commit; on any failure asks the vendor to render the error.
 * HEAD runs the GET route; OPTIONS on a known path answers 204 with Allow. A trailing slash
 * routes like the path without it. */
void dispatch_request(struct app *app, struct req *req, struct res *res);

#endif
