/* req.h -- what a handler reads (struct req) and how it answers (struct res).
 *
 * The server (http_server.c) fills a struct req from the connection and sends the struct res when
 * the dispatcher is done; nothing in between knows about civetweb. Everything a request allocates
 * hangs off these two structs and is released in one place, req_clear() and res_clear(), after the
 * answer has gone out. Strings borrowed by struct req live as long as the request. */
#ifndef EMU_REQ_H
#define EMU_REQ_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "req_file.h"

struct app;
struct vendor;
struct route;
struct store_txn;

#define REQ_MAX_HEADERS 64
#define REQ_MAX_PARAMS  8
/* Vendors' bodies are a few levels deep; JSON nested deeper is refused before parsing. */
#define REQ_MAX_JSON_DEPTH 64

struct req_header {
    const char *name; /* borrowed */
    const char *value;
};

struct req_param {
    const char *name; /* borrowed from the route pattern, just past '{'; ends at '}' */
    char value[256];  /* the path segment it captured */
};

struct req {
    struct app *app;
    const char *method;      /* "GET", ... (borrowed) */
    const char *path;        /* URL-decoded path, no query (borrowed) */
    const char *query;       /* raw query string after '?', or NULL (borrowed) */
    const char *remote_addr; /* client address (borrowed) */
    struct req_header headers[REQ_MAX_HEADERS];
    int nheaders;
    const char *body; /* request body, NUL-terminated (borrowed from the server's buffer) */
    size_t body_len;
    int body_too_large; /* the body was over --max-body and was not read */
    json_t *json;       /* the body parsed (routes with ROUTE_JSON); owned, freed by req_clear */
    struct req_param params[REQ_MAX_PARAMS];
    int nparams;
    const struct vendor *vendor; /* the vendor whose path space the request is in, or NULL */
    const struct route *route;   /* the matched route, or NULL */
    struct store_txn *txn;       /* the request's transaction while the handler runs */
    char tenant[64];             /* set by the vendor's authenticate */
    json_t *credential;          /* the credential's stored row; owned, freed by req_clear */
    int64_t now_ms;              /* the emulator clock when the request arrived */
    json_t *deferred; /* webhook deliveries to hand over once the transaction commits; owned */
    struct req_file *files; /* a multipart body's files: one allocation holding the array and
                             * the names; owned, freed by req_clear */
    int nfiles;
    json_t *kept; /* values handed out by req_query_value and req_form_value; owned */
};

struct res {
    int status;    /* HTTP status; 0 until a handler or the error path sets it */
    char *headers; /* "Name: value\r\n" lines; owned */
    size_t headers_len, headers_cap;
    char *body; /* owned */
    size_t body_len;
    const char *content_type; /* static string */
    char detail[512];         /* the error's sentence, set by res_fail */
    const char *vendor_error; /* with EMU_VENDOR: the vendor catalogue entry's name */
    json_t *error_details;    /* structured detail of the error, for vendors that show one; owned */
    int retry_after;          /* seconds, for answers that throttle */
    char scenario[160];       /* the scenario rule that answered ("name#0"), or "" */
    char fault[16];           /* "reset", "empty", "truncate": what the connection suffers */
    int answered;             /* 1: a scenario gave the whole answer; no handler runs */
    json_t *inject;           /* the answering rule's "respond", for its overrides; owned */
    int close;                /* 1: close the connection after this answer */
};

/* Returns the value of the first header named name (case-insensitive), or NULL. Borrowed. */
const char *req_header(const struct req *req, const char *name);
/* Returns the path parameter captured as {name}, or NULL. Borrowed from req. */
const char *req_param(const struct req *req, const char *name);
/* Query and form values are read whole, whatever their length; names compare exactly after
 * decoding, and a repeated name gives its first value (the *_all readers: its last). Decoded text
 * that is not UTF-8, or holds a NUL, is EMU_BAD_REQUEST. */

/* Copies the URL-decoded value of query parameter name into buf. EMU_NOT_FOUND when absent,
 * EMU_BAD_REQUEST when it does not fit or is not text. For values of any length, use
 * req_query_value. */
int req_query(const struct req *req, const char *name, char *buf, size_t len);
/* Sets *out to the whole URL-decoded value of query parameter name, borrowed from req (it lives
 * until req_clear). EMU_NOT_FOUND, EMU_BAD_REQUEST (not text) or EMU_NOMEM. */
int req_query_value(struct req *req, const char *name, const char **out);
/* Parses the whole query string into a new object of URL-decoded names and values (the last
 * of a repeated name wins). *out is a new reference. EMU_BAD_REQUEST, EMU_NOMEM. */
int req_query_all(const struct req *req, json_t **out);
/* Like req_query_all, for a form-encoded request body. */
int req_form_all(const struct req *req, json_t **out);
/* Like req_query, for a form-encoded (application/x-www-form-urlencoded) request body. */
int req_form(const struct req *req, const char *name, char *buf, size_t len);
/* Like req_query_value, for a form-encoded request body. */
int req_form_value(struct req *req, const char *name, const char **out);
/* Reads the body into req->json as the framework of a vendor of the given kind does (enum
 * vendor_body, vendors.h), and a multipart body's uploads into req->files:
 *   VENDOR_BODY_JSON: the body is JSON whatever its Content-Type; an empty body is {}; bad JSON
 *     is EMU_BAD_JSON, nesting past REQ_MAX_JSON_DEPTH and anything but an object EMU_BAD_REQUEST.
 *   VENDOR_BODY_EXPRESS: as VENDOR_BODY_JSON when the Content-Type is application/json or
 *     any type "+json" (parameters aside) after skipping a UTF-8 byte order mark; any other body
 *     is not read: {}.
 *   VENDOR_BODY_LARAVEL: a Content-Type containing "/json" or "+json" is JSON, and JSON that
 *     does not decode to an object is no input ({}); an urlencoded body, and on POST a multipart
 *     one, are fields named as PHP names them (form.h) with string values; a multipart body that
 *     does not parse is no input, text that is not UTF-8 is EMU_BAD_REQUEST; any other body is
 *     {}.
 *   VENDOR_BODY_PARAMS: the vendor reads its parameters itself; as VENDOR_BODY_JSON.
 * Errors carry a sentence in res. */
int req_read_body(struct req *req, struct res *res, int kind);
/* Returns the file uploaded under form field name, or NULL. Borrowed from req. */
const struct req_file *req_file(const struct req *req, const char *name);
/* Frees what req owns. */
void req_clear(struct req *req);
/* Draws the tenant's next id (a UUIDv4) from --seed and the tenant's id sequence, which moves
 * in the request's write transaction: the same seed and writes give the same ids, and a
 * restart on kept data never repeats one. */
int req_new_uuid(struct req *req, char out[37]);

/* Answers status with body as JSON. Steals body, also on failure. Returns EMU_OK or
 * EMU_NOMEM. */
int res_json(struct res *res, int status, json_t *body);
/* Answers status with len bytes of text (stolen, malloc'd) of the given static content type. */
void res_text(struct res *res, int status, const char *content_type, char *text, size_t len);
/* Adds a response header; the value is printf-formatted. EMU_NOMEM on failure. */
int res_header(struct res *res, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records an error sentence and returns err, so a handler can `return res_fail(...)`. */
int res_fail(struct res *res, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Records a vendor catalogue entry by name (static string) and returns EMU_VENDOR; the vendor
 * renders that entry's own body. */
int res_vendor_fail(struct res *res, const char *name);
/* Drops the body (not the headers) so an error can replace a handler's answer. */
void res_drop_body(struct res *res);
/* Frees what res owns. */
void res_clear(struct res *res);

#endif
