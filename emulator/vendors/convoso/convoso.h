/* convoso.h -- private to the Convoso vendor: handler prototypes and shared helpers.
 *
 * Table (keys start with "<tenant>/"):
 *   convoso.statuses  "f<index:06>" for fixture rows, "i<seq:010>" for inserted ones, so the
 *                     table's key order is fixture order then insertion order -> the status
 *                     object exactly as the API shows it
 *   index "code"      "<tenant>/<status code in lower case>": a code's status in O(log N) */
#ifndef EMU_CONVOSO_H
#define EMU_CONVOSO_H

#include <stddef.h>

#include <jansson.h>

struct req;
struct res;
struct store_index;

#define CONVOSO_STATUSES "convoso.statuses"

/* status.c */
int convoso_status_search(struct req *req, struct res *res);
int convoso_status_insert(struct req *req, struct res *res);
int convoso_status_update(struct req *req, struct res *res);
extern const struct store_index convoso_status_by_code;
int convoso_status_row_key(const json_t *row, size_t index, char *key, size_t keylen,
                           const char **field, char *msg, size_t msglen);

/* params.c */
/* Reads a JSON body (by its Content-Type, or by its first character when it has none) into
 * req->json, refusing nested values as the vendor does (EMU_BAD_REQUEST, EMU_BAD_JSON with the
 * sentence in res); any other body is read later, by convoso_param. */
int convoso_json_body(struct req *req, struct res *res);
/* Returns parameter name, from the body (a flat JSON object or a form) or else the query
 * string, as new malloc'd text the caller frees; NULL when absent (or out of memory). */
char *convoso_param(struct req *req, const char *name);
/* Reads parameter name as the vendor's PHP reads it: from a JSON body, a string as it is, a
 * number as PHP writes it ("42", "1.5", "1.0E+300"), true as "1", false and null as "" (the
 * empty value); otherwise through convoso_param. *out is new malloc'd text the caller frees, NULL
 * when the parameter is absent. EMU_OK, EMU_NOMEM, or EMU_BAD_REQUEST (recorded in res) for an
 * array or an object. */
#define CONVOSO_NUMBER_TEXT 48
int convoso_text(struct req *req, struct res *res, const char *name, char **out);

/* convoso.c */
/* Fails the request with the catalogue entry named by its code ("6069") or text. */
int convoso_fail(struct res *res, const char *entry);

/* The vendor's own descriptor (convoso.c), which its kit calls name. */
extern const struct vendor vendor_convoso;

#endif
