/* http.c -- civetweb glue: server start and stop, request in, response out, request log.
 *
 * Every request goes through on_request: the body is read up to --max-body (a larger one is
 * left unread and answered 413 by the dispatcher), the answer is built in one buffer and sent
 * with one mg_write. civetweb gives each keep-alive connection a worker thread for as long as
 * it stays open, so --threads is the number of clients served at once. */
#include "http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <civetweb.h>

#include "app.h"
#include "err.h"
#include "journal.h"
#include "metrics.h"
#include "req.h"
#include "router.h"
#include "vendors.h"

struct http {
    struct mg_context *ctx;
    struct app *app;
    unsigned port;
    char host[128];
    atomic_int stopped;   /* mg_stop has returned: the listener waker can rest */
    atomic_int stopping;  /* SIGTERM came: new requests are refused */
    atomic_int in_flight; /* requests between arrival and their answer being written */
};

static const char *reason_phrase(int status)
{
    const char *text = mg_get_response_code_text(NULL, status);

    return text != NULL ? text : "Unknown";
}

static int64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Reads the body into a new buffer (NUL-terminated). Sets *too_large instead of reading a
 * body over max. Returns NULL with *len 0 when there is no body. */
static char *read_body(struct mg_connection *conn, long long declared, size_t max, size_t *len,
                       int *too_large)
{
    size_t cap = declared >= 0 ? (size_t)declared + 1 : 4096, used = 0;
    char *buf;

    *len = 0;
    *too_large = 0;
    if (declared == 0)
        return NULL;
    if (declared > 0 && (size_t)declared > max) {
        *too_large = 1;
        return NULL;
    }
    buf = malloc(cap);
    if (buf == NULL)
        return NULL;
    for (;;) {
        int n;

        if (used + 1 == cap) {
            char *grown;

            if (declared >= 0)
                break; /* all declared bytes are in */
            if (used > max) {
                *too_large = 1;
                free(buf);
                return NULL;
            }
            grown = realloc(buf, cap * 2);
            if (grown == NULL) {
                free(buf);
                return NULL;
            }
            buf = grown;
            cap *= 2;
        }
        n = mg_read(conn, buf + used, cap - 1 - used);
        if (n <= 0)
            break;
        used += (size_t)n;
    }
    if (used > max) {
        *too_large = 1;
        free(buf);
        return NULL;
    }
    buf[used] = '\0';
    *len = used;
    return buf;
}

/* Whether civetweb will keep this connection open after the answer (its own rule). */
static int keeps_alive(const struct mg_request_info *ri, const struct req *req)
{
    const char *conn = req_header(req, "Connection");

    if (conn != NULL)
        return strcasestr(conn, "keep-alive") != NULL;
    return ri->http_version != NULL && strcmp(ri->http_version, "1.1") == 0;
}

/* The Date header changes once a second: each worker formats it at most that often. The
 * answer is the thread's own buffer, valid until its next call. */
static const char *http_date(int64_t now_ms)
{
    static _Thread_local int64_t cached_sec = INT64_MIN;
    static _Thread_local char cached[40];
    int64_t sec = now_ms / 1000;

    if (sec != cached_sec) {
        clock_format_http(now_ms, cached, sizeof(cached));
        cached_sec = sec;
    }
    return cached;
}

/* Makes civetweb close the connection once the handler returns: it keeps a connection open
 * only when the request's Connection header allows it, and the request's headers are its own
 * (writable) data. */
static void close_after(const struct mg_request_info *ri)
{
    struct mg_request_info *info = (struct mg_request_info *)ri;

    for (int i = 0; i < info->num_headers; i++) {
        if (strcasecmp(info->http_headers[i].name, "Connection") == 0) {
            info->http_headers[i].value = "close";
            return;
        }
    }
    if (info->num_headers < MG_MAX_HEADERS) {
        info->http_headers[info->num_headers].name = "Connection";
        info->http_headers[info->num_headers].value = "close";
        info->num_headers++;
    }
}

/* The socket of this request's connection, found by its peer's port: civetweb does not hand
 * it out, and a reset needs it. -1 when not found. */
static int socket_of(const struct mg_request_info *ri, unsigned local_port)
{
    for (int fd = 3; fd < 65536; fd++) {
        struct sockaddr_storage peer, self;
        socklen_t plen = sizeof(peer), slen = sizeof(self);
        int pport, sport;

        if (getpeername(fd, (struct sockaddr *)&peer, &plen) != 0 ||
            getsockname(fd, (struct sockaddr *)&self, &slen) != 0)
            continue;
        pport = peer.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&peer)->sin6_port)
                                           : ntohs(((struct sockaddr_in *)&peer)->sin_port);
        sport = self.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&self)->sin6_port)
                                           : ntohs(((struct sockaddr_in *)&self)->sin_port);
        if (pport == ri->remote_port && (unsigned)sport == local_port)
            return fd;
    }
    return -1;
}

/* What a scenario's fault does to the connection instead of a normal answer. */
static void send_fault(struct mg_connection *conn, const struct mg_request_info *ri,
                       const struct req *req, const struct res *res, unsigned local_port)
{
    close_after(ri);
    if (strcmp(res->fault, "reset") == 0) {
        struct sockaddr unspec = {0};
        int fd = socket_of(ri, local_port);

        /* Disconnecting a TCP socket aborts the connection: the peer gets an RST now, and the
         * descriptor stays valid for civetweb to close as usual. */
        unspec.sa_family = AF_UNSPEC;
        if (fd >= 0)
            connect(fd, &unspec, sizeof(unspec));
    } else if (strcmp(res->fault, "truncate") == 0) {
        char head[512];
        int n = snprintf(head, sizeof(head),
                         "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Type: %s\r\n"
                         "Content-Length: %zu\r\nConnection: close\r\n",
                         res->status, reason_phrase(res->status), http_date(req->now_ms),
                         res->content_type ? res->content_type : "application/json", res->body_len);

        mg_write(conn, head, (size_t)n);
        if (res->headers_len)
            mg_write(conn, res->headers, res->headers_len);
        mg_write(conn, "\r\n", 2);
        mg_write(conn, res->body, res->body_len / 2); /* half the body, then the end */
    }
    /* "empty": nothing at all is written before the connection closes. */
}

static void send_response(struct mg_connection *conn, const struct req *req, const struct res *res,
                          int keep_alive)
{
    char head[512], stack[16384];
    size_t head_len, total;
    char *out;

    head_len = (size_t)snprintf(head, sizeof(head),
                                "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Type: %s\r\n"
                                "Content-Length: %zu\r\nConnection: %s\r\n",
                                res->status, reason_phrase(res->status), http_date(req->now_ms),
                                res->content_type ? res->content_type : "application/json",
                                res->body_len, keep_alive && !res->close ? "keep-alive" : "close");
    total = head_len + res->headers_len + 2 + res->body_len;
    out = total <= sizeof(stack) ? stack : malloc(total); /* most answers fit on the stack */
    if (out == NULL) {
        mg_write(conn, head, head_len);
        mg_write(conn, "\r\n", 2);
        return;
    }
    memcpy(out, head, head_len);
    if (res->headers_len)
        memcpy(out + head_len, res->headers, res->headers_len);
    memcpy(out + head_len + res->headers_len, "\r\n", 2);
    if (res->body_len)
        memcpy(out + head_len + res->headers_len + 2, res->body, res->body_len);
    mg_write(conn, out, total);
    if (out != stack)
        free(out);
}

static void log_request(struct app *app, const struct req *req, const struct res *res,
                        int64_t took_us)
{
    char when[32];
    const char *tenant = req->tenant[0] ? req->tenant : "-";
    const char *vendor = req->vendor ? req->vendor->name : "-";
    const char *rule = res->scenario[0] ? res->scenario : "-";

    if (strcmp(app->cfg.log, "off") == 0)
        return;
    clock_format_iso_ms(req->now_ms, when, sizeof(when));
    if (strcmp(app->cfg.log, "json") == 0) {
        json_t *line =
            json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:I,s:s}", "time", when, "tenant", tenant, "vendor",
                      vendor, "method", req->method, "path", req->path, "status", res->status,
                      "duration_us", (json_int_t)took_us, "scenario", rule);
        char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;

        if (text != NULL)
            printf("%s\n", text);
        free(text);
        json_decref(line);
    } else {
        printf("%s %s %s %s %s %d %lldus %s\n", when, tenant, vendor, req->method, req->path,
               res->status, (long long)took_us, rule);
    }
}

/* Counts the answer, and journals it unless it was the admin API's. */
static void record(struct app *app, const struct req *req, const struct res *res, int64_t took_us,
                   int keep_alive)
{
    struct journal_record r;
    char head[256], request_headers[8192], response_stack[2048];
    size_t used = 0, head_len;
    char *response_headers;

    r.tenant = req->tenant[0] ? req->tenant : "-";
    r.vendor = req->vendor ? req->vendor->name : "-";
    metrics_count(app->metrics, r.vendor, req->method, req->route ? req->route->path : "-",
                  res->status, r.tenant);
    if (req->vendor == &vendor_admin)
        return;
    for (int i = 0; i < req->nheaders; i++) {
        size_t nl = strlen(req->headers[i].name), vl = strlen(req->headers[i].value);

        if (used + nl + vl + 4 > sizeof(request_headers))
            break; /* an outsized header set is journaled as far as it fits */
        memcpy(request_headers + used, req->headers[i].name, nl);
        memcpy(request_headers + used + nl, ": ", 2);
        memcpy(request_headers + used + nl + 2, req->headers[i].value, vl);
        memcpy(request_headers + used + nl + 2 + vl, "\r\n", 2);
        used += nl + vl + 4;
    }
    head_len = (size_t)snprintf(
        head, sizeof(head),
        "Date: %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: %s\r\n",
        http_date(req->now_ms), res->content_type ? res->content_type : "application/json",
        res->body_len, keep_alive && !res->close ? "keep-alive" : "close");
    response_headers = head_len + res->headers_len + 1 <= sizeof(response_stack)
                           ? response_stack
                           : malloc(head_len + res->headers_len + 1);
    if (response_headers == NULL)
        return;
    memcpy(response_headers, head, head_len);
    if (res->headers_len)
        memcpy(response_headers + head_len, res->headers, res->headers_len);
    r.time_ms = req->now_ms;
    r.duration_us = took_us;
    r.method = req->method;
    r.path = req->path;
    r.query = req->query;
    r.scenario = res->scenario[0] ? res->scenario : NULL;
    r.request_headers = request_headers;
    r.request_headers_len = used;
    r.request_body = req->body;
    r.request_body_len = req->body_len;
    r.response_headers = response_headers;
    r.response_headers_len = head_len + res->headers_len;
    r.response_body = res->body ? res->body : "";
    r.response_body_len = res->body_len;
    r.status = res->status;
    journal_add(app->journal, &r);
    if (response_headers != response_stack)
        free(response_headers);
}

static int on_request(struct mg_connection *conn, void *cbdata)
{
    struct http *h = cbdata;
    struct app *app = h->app;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    int64_t started = mono_us();
    struct req req = {0};
    struct res res = {0};
    char *body;
    int status, keep_alive;

    req.app = app;
    req.method = ri->request_method;
    req.path = ri->local_uri ? ri->local_uri : "/";
    req.query = ri->query_string;
    req.remote_addr = ri->remote_addr;
    req.now_ms = clock_now_ms(&app->clock);
    for (int i = 0; i < ri->num_headers && i < REQ_MAX_HEADERS; i++) {
        req.headers[i].name = ri->http_headers[i].name;
        req.headers[i].value = ri->http_headers[i].value;
        req.nheaders = i + 1;
    }
    body =
        read_body(conn, ri->content_length, app->cfg.max_body, &req.body_len, &req.body_too_large);
    req.body = body ? body : "";

    /* Counted before the stop flag is read, so http_stop never misses a request it must wait
     * for; one that sees the flag is refused, in the vendor's shape, and its connection closed. */
    atomic_fetch_add(&h->in_flight, 1);
    if (atomic_load(&h->stopping)) {
        router_refuse(&req, &res, EMU_UNAVAILABLE, "The server is shutting down");
        res.close = 1;
    } else {
        router_dispatch(app, &req, &res);
    }
    if (res.status == 0)
        res.status = 500;
    keep_alive = keeps_alive(ri, &req);
    /* Journaled before it is sent: a client that has the answer finds it in the journal, and
     * the journal's order is the order of the answers. */
    record(app, &req, &res, mono_us() - started, keep_alive);
    if (res.fault[0])
        send_fault(conn, ri, &req, &res, (unsigned)ri->server_port);
    else
        send_response(conn, &req, &res, keep_alive);
    log_request(app, &req, &res, mono_us() - started);

    atomic_fetch_sub(&h->in_flight, 1);

    status = res.status;
    req_clear(&req);
    res_clear(&res);
    free(body);
    return status;
}

/* Every request is answered here, before civetweb looks for files, handlers or password
 * files (which would cost a stat per request). */
static int on_begin_request(struct mg_connection *conn)
{
    return on_request(conn, mg_get_user_data(mg_get_context(conn)));
}

static int on_log_message(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    fprintf(stderr, "understudy: http: %s\n", message);
    return 1;
}

int http_start(struct app *app, struct http **out, char *err, size_t errlen)
{
    struct http *h = calloc(1, sizeof(*h));
    struct mg_callbacks callbacks = {0};
    struct mg_server_port ports[4];
    char threads[16], listen[160], host[128];
    unsigned port;
    const char *options[] = {
        "listening_ports",
        listen,
        "num_threads",
        threads,
        "enable_keep_alive",
        "yes",
        "tcp_nodelay",
        "1",
        "request_timeout_ms",
        "30000",
        "keep_alive_timeout_ms",
        "30000",
        "decode_url",
        "yes",
        NULL,
    };

    *out = NULL;
    if (h == NULL)
        return EMU_NOMEM;
    config_listen_split(&app->cfg, host, sizeof(host), &port);
    /* civetweb binds every interface unless the port carries an address. */
    snprintf(listen, sizeof(listen), "%s:%u", host, port);
    snprintf(h->host, sizeof(h->host), "%s", host);
    snprintf(threads, sizeof(threads), "%u", app->cfg.threads);
    callbacks.log_message = on_log_message;
    callbacks.begin_request = on_begin_request;
    mg_init_library(0);
    h->app = app;
    h->ctx = mg_start(&callbacks, h, options);
    if (h->ctx == NULL) {
        snprintf(err, errlen, "cannot listen on %s (address in use or not available)",
                 app->cfg.listen);
        free(h);
        mg_exit_library();
        return EMU_IO;
    }
    if (mg_get_server_ports(h->ctx, 4, ports) > 0)
        h->port = (unsigned)ports[0].port;
    *out = h;
    return EMU_OK;
}

/* civetweb's listener polls with a two-second quantum and notices mg_stop only when the poll
 * returns; a connection to our own port makes it return at once, so stopping takes
 * milliseconds instead of seconds. */
static void *wake_listener(void *arg)
{
    struct http *h = arg;
    struct sockaddr_in addr = {0};

    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)h->port);
    if (inet_pton(AF_INET, strcmp(h->host, "0.0.0.0") == 0 ? "127.0.0.1" : h->host,
                  &addr.sin_addr) != 1)
        return NULL;
    for (int i = 0; i < 200 && !atomic_load(&h->stopped); i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        usleep(10000);
        if (fd < 0)
            break;
        connect(fd, (struct sockaddr *)&addr, sizeof(addr));
        close(fd);
    }
    return NULL;
}

void http_stop(struct http *h)
{
    pthread_t waker;
    int have_waker;

    if (h == NULL)
        return;
    /* Requests in flight finish and their answers go out before mg_stop: once civetweb's stop
     * flag is up it no longer writes, and a committed write would lose its answer. */
    atomic_store(&h->stopping, 1);
    for (int waited_ms = 0; atomic_load(&h->in_flight) > 0 && waited_ms < 30000; waited_ms++)
        usleep(1000);
    have_waker = pthread_create(&waker, NULL, wake_listener, h) == 0;
    mg_stop(h->ctx);
    atomic_store(&h->stopped, 1);
    if (have_waker)
        pthread_join(waker, NULL);
    mg_exit_library();
    free(h);
}

unsigned http_port(const struct http *h)
{
    return h->port;
}

int http_form_get(const char *data, size_t len, const char *name, char *buf, size_t buflen)
{
    int n = mg_get_var(data, len, name, buf, buflen);

    if (n == -1)
        return EMU_NOT_FOUND;
    if (n < 0)
        return EMU_BAD_REQUEST;
    return EMU_OK;
}

int http_probe(const char *base_url, const char *path, int *status)
{
    char host[256], errbuf[256];
    const char *p = base_url, *colon, *end;
    struct mg_connection *conn;
    unsigned long port = 80;
    size_t hlen;

    if (strncmp(p, "http://", 7) != 0)
        return EMU_INVALID;
    p += 7;
    end = p + strcspn(p, "/");
    colon = memchr(p, ':', (size_t)(end - p));
    hlen = (size_t)((colon ? colon : end) - p);
    if (hlen == 0 || hlen >= sizeof(host))
        return EMU_INVALID;
    memcpy(host, p, hlen);
    host[hlen] = '\0';
    if (colon != NULL)
        port = strtoul(colon + 1, NULL, 10);
    if (port == 0 || port > 65535)
        return EMU_INVALID;
    mg_init_library(0);
    conn = mg_connect_client(host, (int)port, 0, errbuf, sizeof(errbuf));
    if (conn == NULL) {
        mg_exit_library();
        return EMU_IO;
    }
    mg_printf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, host);
    if (mg_get_response(conn, errbuf, sizeof(errbuf), 5000) < 0) {
        mg_close_connection(conn);
        mg_exit_library();
        return EMU_IO;
    }
    *status = mg_get_response_info(conn)->status_code;
    mg_close_connection(conn);
    mg_exit_library();
    return EMU_OK;
}

int http_url_decode(const char *src, size_t len, char *dst, size_t dstlen)
{
    int n = mg_url_decode(src, (int)len, dst, (int)dstlen, 1);

    if (n < 0 || (size_t)n >= dstlen || strlen(dst) != (size_t)n)
        return EMU_BAD_REQUEST; /* too long, or an encoded NUL */
    return EMU_OK;
}

/* Splits "http://host[:port]/rest" into its parts. */
static int split_url(const char *url, char *host, size_t hostlen, int *port, const char **rest)
{
    const char *p, *slash, *colon;
    size_t n;

    if (strncmp(url, "http://", 7) != 0)
        return EMU_INVALID;
    p = url + 7;
    slash = p + strcspn(p, "/?");
    colon = memchr(p, ':', (size_t)(slash - p));
    n = (size_t)((colon ? colon : slash) - p);
    if (n == 0 || n >= hostlen)
        return EMU_INVALID;
    memcpy(host, p, n);
    host[n] = '\0';
    *port = colon ? atoi(colon + 1) : 80;
    *rest = *slash ? slash : "/";
    return *port > 0 && *port < 65536 ? EMU_OK : EMU_INVALID;
}

int http_request(const char *url, const char *method, const char *const *headers, int nheaders,
                 const char *body, size_t body_len, int timeout_ms, struct http_answer *out,
                 char *err, size_t errlen)
{
    const struct mg_response_info *info;
    struct mg_connection *conn;
    char host[256], ebuf[256], chunk[4096];
    const char *rest;
    int port, n;

    memset(out, 0, sizeof(*out));
    if (split_url(url, host, sizeof(host), &port, &rest) != EMU_OK) {
        snprintf(err, errlen, "%s: only http://HOST[:PORT]/PATH URLs are taken", url);
        return EMU_INVALID;
    }
    mg_init_library(0); /* counted: harmless while the server runs, needed when it does not */
    conn = mg_connect_client(host, port, 0, ebuf, sizeof(ebuf));
    if (conn == NULL) {
        snprintf(err, errlen, "cannot connect to %s:%d: %s", host, port, ebuf);
        mg_exit_library();
        return EMU_IO;
    }
    mg_printf(conn,
              "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n"
              "Content-Length: %zu\r\n",
              method, rest, host, port, body_len);
    for (int i = 0; i < nheaders; i++)
        mg_printf(conn, "%s\r\n", headers[i]);
    mg_write(conn, "\r\n", 2);
    if (body_len)
        mg_write(conn, body, body_len);
    if (mg_get_response(conn, ebuf, sizeof(ebuf), timeout_ms) < 0) {
        snprintf(err, errlen, "no answer from %s:%d: %s", host, port, ebuf);
        mg_close_connection(conn);
        mg_exit_library();
        return EMU_IO;
    }
    info = mg_get_response_info(conn);
    out->status = info->status_code;
    out->headers = json_object();
    for (int i = 0; i < info->num_headers; i++) {
        json_t *v = json_string(info->http_headers[i].value);

        if (v != NULL)
            json_object_set_new(out->headers, info->http_headers[i].name, v);
    }
    out->body = malloc(1);
    while (out->body != NULL && (n = mg_read(conn, chunk, sizeof(chunk))) > 0) {
        char *grown = realloc(out->body, out->body_len + (size_t)n + 1);

        if (grown == NULL) {
            free(out->body);
            out->body = NULL;
            break;
        }
        out->body = grown;
        memcpy(out->body + out->body_len, chunk, (size_t)n);
        out->body_len += (size_t)n;
    }
    if (out->body != NULL)
        out->body[out->body_len] = '\0';
    mg_close_connection(conn);
    mg_exit_library();
    return EMU_OK;
}

void http_answer_clear(struct http_answer *a)
{
    free(a->body);
    json_decref(a->headers);
    memset(a, 0, sizeof(*a));
}
