/* err.h -- the one list of error codes every module returns, and their HTTP meaning.
 *
 * Functions that can fail return one of these; 0 is success. The X-macro below generates the
 * enum, the message table and the HTTP status table, so they cannot drift apart. Library codes
 * (LMDB's, civetweb's) are translated at their wrapper and never travel past it. What a code
 * looks like on the wire is each vendor's business: the dispatcher hands the code to the vendor's
 * reply_error, which shapes the body. */
#ifndef EMU_ERR_H
#define EMU_ERR_H

/*      name           code  http  text */
#define EMU_ERR_MAP(X)                                                                             \
    X(OK, 0, 200, "ok")                                                                            \
    X(BAD_REQUEST, -1, 400, "malformed request")                                                   \
    X(BAD_JSON, -2, 400, "request body is not valid JSON")                                         \
    X(UNAUTHORIZED, -3, 401, "missing or invalid credentials")                                     \
    X(FORBIDDEN, -4, 403, "credential not allowed to do this")                                     \
    X(NOT_FOUND, -5, 404, "no such resource")                                                      \
    X(NO_ROUTE, -6, 404, "no such route")                                                          \
    X(NO_METHOD, -7, 405, "method not allowed on this resource")                                   \
    X(CONFLICT, -8, 409, "resource already exists")                                                \
    X(TOO_LARGE, -9, 413, "request body too large")                                                \
    X(UNPROCESSABLE, -10, 422, "request failed validation")                                        \
    X(RATE_LIMITED, -11, 429, "too many requests")                                                 \
    X(STORE, -12, 500, "storage failure")                                                          \
    X(NOMEM, -13, 500, "out of memory")                                                            \
    X(INTERNAL, -14, 500, "internal error")                                                        \
    X(UNAVAILABLE, -15, 503, "service unavailable")                                                \
    X(STORE_FULL, -16, 507, "storage is full")                                                     \
    X(VENDOR, -17, 200, "vendor catalogue error (res->vendor_error names it)")                     \
    X(INVALID, -18, 500, "invalid argument")                                                       \
    X(IO, -19, 500, "input/output failure")

enum emu_err {
#define X(name, code, http, text) EMU_##name = (code),
    EMU_ERR_MAP(X)
#undef X
};

/* Returns a static sentence for err; never NULL. */
const char *emu_strerror(int err);

/* Returns the HTTP status a code means when no vendor says otherwise; 500 for unknown codes. */
int emu_http_status(int err);

/* Returns the code's short name ("NOT_FOUND"); "UNKNOWN" for codes not in the list. */
const char *emu_errname(int err);

/* The standard reason phrase of an HTTP status ("Unprocessable Entity"); "Unknown" for
 * statuses it does not list. */
const char *emu_reason_phrase(int status);

#endif
