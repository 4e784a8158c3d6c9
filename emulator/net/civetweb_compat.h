/* civetweb_compat.h -- every place understudy relies on how civetweb 1.15 works inside.
 *
 * civetweb's public API does not hand out a connection's socket, has no call to close a
 * connection after the current answer, and its listener notices a stop only every two seconds.
 * The few tricks that work around this live here and only here, each with the reason it is
 * safe on the civetweb version the build checks for; the server (server/http_server.c) uses them
 * through these calls.
 * tests/http/test_civetweb_compat.py exercises each trick through the server. */
#ifndef EMU_CIVETWEB_COMPAT_H
#define EMU_CIVETWEB_COMPAT_H

#include <stddef.h>

struct mg_connection;
struct mg_request_info;

/* The socket of conn's connection, or -1 when it cannot be told apart from another one.
 * Found once per connection and remembered in the connection's user data (set up by
 * compat_connection_opened). The descriptor stays civetweb's: never close it. */
int compat_socket(const struct mg_connection *conn);

/* Per-connection bookkeeping: call from civetweb's init_connection and connection_close
 * callbacks (connection_close: civetweb drops the user data right after it). opened stores a
 * new slot through conn_data and returns 1 (0 when out of memory); closed frees it and
 * returns 1 when there was one, so that counting both results counts open connections. */
int compat_connection_opened(const struct mg_connection *conn, void **conn_data);
int compat_connection_closed(const struct mg_connection *conn);

/* Marks the connection as handling a request (busy 1) or waiting for the next (busy 0). */
void compat_connection_busy(const struct mg_connection *conn, int busy);

/* Ends every connection to our port that has waited at least min_idle_ms for a request (a
 * client that connected and sends nothing, sends too slowly, or keeps an idle keep-alive
 * connection), freeing its worker. Returns how many were ended. */
int compat_evict_idle(unsigned port, int min_idle_ms);
/* Frees what compat_evict_idle remembers between calls. */
void compat_evict_end(void);

/* Makes civetweb close the connection once the current request's handler returns, instead of
 * waiting for another request on it. */
void compat_close_after(struct mg_connection *conn);

/* For answers sent while part of the request (a body) is still unread: stops sending, reads
 * and drops what the client still sends for at most linger_ms (so closing does not reset the
 * connection before the client has read the answer), then ends reading, so that civetweb
 * stops at once instead of reading the rest of the body. Implies compat_close_after. */
void compat_linger_close(struct mg_connection *conn, int linger_ms);

/* Aborts the connection: the peer gets a TCP RST now. Returns 0, or -1 when the socket could
 * not be found (then the caller only closes). */
int compat_reset(struct mg_connection *conn);

/* What civetweb let through in the request's head that RFC 9112 has a server refuse
 * (whitespace before a field's colon, a folded field line, more fields than civetweb keeps),
 * as a sentence; NULL when the head is sound. */
const char *compat_head_error(const struct mg_request_info *ri);

/* Whether civetweb parsed the request line of the request it reports an error for (status and
 * message as given to the http_error callback): only then do the request info's method and
 * URI belong to this request. */
int compat_error_has_request(int status, const char *message);

/* Makes civetweb accept on an IPv6 address: listens on [host6]:port6 (port 0: any free port)
 * in place of civetweb's IPv4 listener on 127.0.0.1:v4_port, which is closed. Returns the
 * port bound, or -1. */
int compat_listen_ipv6(unsigned v4_port, const char *host6, unsigned port6);

/* Ends the reads of every connection to our port that waits for a request (call once no
 * request is in flight and new ones are refused): their workers then stop at once. */
void compat_end_idle_reads(unsigned port);

/* Makes civetweb's listener notice mg_stop at once. host and port are the listening address
 * ("127.0.0.1", "::1", "0.0.0.0", "::"). Returns a handle for compat_wake_listener_end, or
 * NULL. */
struct compat_waker;
struct compat_waker *compat_wake_listener_start(const char *host, unsigned port);
/* Call once mg_stop has returned: stops and frees the waker. NULL is fine. */
void compat_wake_listener_end(struct compat_waker *w);

#endif
