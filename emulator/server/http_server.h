/* http.h -- the HTTP server: the only module that knows civetweb (with civetweb_compat.c).
 *
 * It registers one catch-all handler, checks the request's framing and path, turns it into a
 * struct req, runs the dispatcher, and sends the struct res in a single write (status line,
 * headers and body together, so keep-alive clients get one segment per answer). Errors
 * civetweb finds itself are answered in the owning vendor's shape too. It also writes the
 * request log line (control characters escaped: one request, one line). */
#ifndef EMU_HTTP_H
#define EMU_HTTP_H

#include <stddef.h>

#include <jansson.h>

struct app;
struct http;

/* Starts listening on app->cfg.listen (IPv4 or [IPv6]) with app->cfg.threads workers. On
 * failure returns EMU_IO with a sentence in err. */
int http_start(struct app *app, struct http **out, char *err, size_t errlen);
/* Refuses new requests (503), waits for every request in flight to be answered, ends the idle
 * connections, stops, and frees the server. NULL is fine. */
void http_stop(struct http *h);
/* The port actually bound (useful with port 0). */
unsigned http_port(const struct http *h);

/* Copies the URL-decoded value of name from a form-encoded buffer ("a=1&b=2") into buf.
 * EMU_NOT_FOUND when absent, EMU_BAD_REQUEST when it does not fit in buf. */
int http_form_get(const char *data, size_t len, const char *name, char *buf, size_t buflen);

/* URL-decodes len bytes of src (form style: '+' is a space) into dst, NUL-terminated.
 * EMU_BAD_REQUEST when it does not fit or is not valid text. */
int http_url_decode(const char *src, size_t len, char *dst, size_t dstlen);

/* An HTTP answer read by http_request: status, body (malloc'd, NUL-terminated) and headers
 * (a new object, names as sent). */
struct http_answer {
    int status;
    char *body;
    size_t body_len;
    json_t *headers;
};

/* Sends one plain-HTTP request (url "http://HOST[:PORT]/path?query") with header lines
 * ("Name: value") and a body, and reads the answer within timeout_ms. Returns EMU_OK and fills
 * *out (free it with http_answer_clear), or EMU_INVALID (a URL it cannot take, https
 * included) or EMU_IO (no answer) with a sentence in err. */
int http_request(const char *url, const char *method, const char *const *headers, int nheaders,
                 const char *body, size_t body_len, int timeout_ms, struct http_answer *out,
                 char *err, size_t errlen);
void http_answer_clear(struct http_answer *a);

/* Sends GET path to base_url ("http://HOST:PORT") and stores the answer's status in *status.
 * EMU_INVALID for a malformed URL, EMU_IO when nothing answered. */
int http_probe(const char *base_url, const char *path, int *status);
#endif
