/* fuzz_app.h -- the server's state for in-process fuzz targets, and one request through it.
 *
 * A fuzz target runs requests through dispatch_request exactly as server/http_server.c does,
 * without civetweb: the app is built once the way main.c builds it (built-in fixtures, a private
 * temporary store, frozen clock, the built-in scenarios, no webhook worker, so nothing leaves the
 * process), and put back to that state before each input, so every input runs on the same data and
 * a crash found once reproduces from its file alone. Every answer is checked against what a careful
 * server must never do; a breach aborts, which libFuzzer records as a crash. */
#ifndef EMU_FUZZ_APP_H
#define EMU_FUZZ_APP_H

#include <stddef.h>

#include <jansson.h>

#include "app.h"
#include "req.h"

/* The clock every input starts at. */
#define FUZZ_CLOCK "2026-01-01T00:00:00Z"

/* Builds the app once (later calls return the same one); aborts when it cannot. */
struct app *fuzz_app(void);

/* Puts the store back to the fixtures (every table emptied first, sequences included), the clock
 * back to FUZZ_CLOCK, and forgets rate windows, scenarios put at run time, counters, journal and
 * metrics. */
void fuzz_app_reset(struct app *app);

/* One request as the HTTP layer hands it over. Strings are borrowed and NUL-terminated; body
 * may hold NULs (body_len counts them). */
struct fuzz_request {
    const char *method, *path, *query; /* query may be NULL */
    const char *header_names[REQ_MAX_HEADERS], *header_values[REQ_MAX_HEADERS];
    int nheaders;
    const char *body;
    size_t body_len;
    int body_too_large;
};

/* Dispatches r, journals it as http_server.c does, checks the answer (fuzz_check_answer) and frees
 * everything. Returns the status answered. */
int fuzz_dispatch(struct app *app, const struct fuzz_request *r);

/* Aborts, with the reason on stderr, when an answer breaks the server's promises: a status
 * outside 100-599 or a 5xx no scenario injected (unless UNDERSTUDY_FUZZ_ALLOW_5XX is set, to look
 * past known ones for memory errors); a header block that is not "Name: value\r\n"
 * lines with token names (a CR, LF or other control character inside a name or value splits the
 * answer); a JSON
 * content type with a body that is not JSON. */
void fuzz_check_answer(const struct req *req, const struct res *res);

/* Aborts when a scenario document (borrowed) that was accepted has a rule whose respond.headers
 * would split an answer: a name that is not a token, a CR, LF or NUL in a value. The answer check
 * cannot see it: "a\r\nX-Other: 1" makes well-formed lines. */
void fuzz_check_scenario_headers(const json_t *doc);

/* Copies len bytes of data into a new NUL-terminated string (caller frees). */
char *fuzz_strndup(const char *data, size_t len);

#endif
