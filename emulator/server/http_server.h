/* http_server.h -- the HTTP server: the only module that serves with civetweb (with
 * civetweb_compat.c beside it in net/).
 *
 * It registers one catch-all handler, checks the request's framing and path, turns it into a
 * struct req, runs the dispatcher (dispatch.h), and sends the struct res in a single write
 * (status line, headers and body together, so keep-alive clients get one segment per answer).
 * Errors civetweb finds itself are answered in the owning vendor's shape too. It also counts
 * and journals every answer and writes the request log line (control characters escaped: one
 * request, one line). */
#ifndef EMU_HTTP_SERVER_H
#define EMU_HTTP_SERVER_H

#include <stddef.h>

struct app;
struct http_server;

/* Starts listening on app->cfg.listen (IPv4 or [IPv6]) with app->cfg.threads workers. On
 * failure returns EMU_IO with a sentence in err. */
int http_server_start(struct app *app, struct http_server **out, char *err, size_t errlen);
/* Refuses new requests (503), waits for every request in flight to be answered, ends the idle
 * connections, stops, and frees the server. NULL is fine. */
void http_server_stop(struct http_server *h);
/* The port actually bound (useful with port 0). */
unsigned http_server_port(const struct http_server *h);

#endif
