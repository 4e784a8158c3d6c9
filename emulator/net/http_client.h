/* http_client.h -- the outbound HTTP client: webhook deliveries, replay, and the health probe.
 *
 * Plain HTTP/1.1 (no TLS), one request per connection, over civetweb's client calls. It knows
 * nothing of the emulator's requests: URLs, header lines and bytes in, an answer out. */
#ifndef EMU_HTTP_CLIENT_H
#define EMU_HTTP_CLIENT_H

#include <stddef.h>

#include <jansson.h>

/* An HTTP answer read by http_client_request: status, body (malloc'd, NUL-terminated) and
 * headers (a new object, names as sent). */
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
int http_client_request(const char *url, const char *method, const char *const *headers,
                        int nheaders, const char *body, size_t body_len, int timeout_ms,
                        struct http_answer *out, char *err, size_t errlen);
void http_answer_clear(struct http_answer *a);

/* Sends GET path to base_url ("http://HOST:PORT") and stores the answer's status in *status.
 * EMU_INVALID for a malformed URL, EMU_IO when nothing answered. */
int http_client_probe(const char *base_url, const char *path, int *status);

#endif
