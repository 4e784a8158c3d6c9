/* http_server.c -- civetweb glue: server start and stop, request in, response out, request log.
 *
 * Every request goes through on_request, which checks what civetweb lets through before
 * anything runs: the framing (one Content-Length or chunks, never both), the path (decoded
 * here: an encoded NUL or text that is not UTF-8 names nothing), and the query. It answers
 * "100 Continue" when the client waits for it, reads the body up to --max-body (a larger one
 * is left unread and answered 413 by the dispatcher; a body cut short is never executed),
 * builds the answer in one buffer and sends it with one mg_write. Errors civetweb finds
 * itself come to on_http_error and are answered in the owning vendor's shape too.
 *
 * civetweb gives each connection a worker thread for as long as it stays open, so --threads
 * bounds the connections served at once; when nearly all workers hold one, answers close
 * their connection so that queued clients get a worker. The tricks that depend on civetweb's
 * inside are in civetweb_compat.c. Each answer's request log line is formatted here and handed
 * to reqlog.c's writer thread, which writes it to stdout: a worker never waits on stdout. */
#include "http_server.h"

#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <civetweb.h>

#include "app.h"
#include "civetweb_compat.h"
#include "dispatch.h"
#include "err.h"
#include "form.h"
#include "journal.h"
#include "jsonx.h"
#include "metrics.h"
#include "req.h"
#include "store.h"
#include "reqlog.h"
#include "router.h"
#include "vendors.h"

/* The longest query string taken, whatever --max-body says: each worker keeps a buffer of
 * this size for request heads. */
#define HTTP_MAX_QUERY ((size_t)8 << 20)

struct http_server {
    struct mg_context *ctx;
    struct app *app;
    unsigned port;
    char host[128];       /* the listening address, without brackets */
    atomic_int stopping;  /* SIGTERM came: new requests are refused */
    atomic_int in_flight; /* requests between arrival and their answer being written */
    atomic_int open;      /* connections a worker holds (waiting for a request or serving one) */
    int busy_at;          /* from this many open connections on, answers close theirs */
    size_t trimmed_at;    /* the heap's resident bytes after the last malloc_trim */
    pthread_t reaper;     /* ends idle connections while workers are scarce */
    struct reqlog *log;   /* the request log's writer, to stdout; NULL with --log off */
    int log_json;         /* --log json */
    int have_reaper;
    atomic_int reaper_stop;
};

static int64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* While workers are scarce, a connection that has waited this long for a request (idle,
 * slowloris) is ended; the reaper looks every HTTP_REAP_EVERY_MS. */
#define HTTP_IDLE_EVICT_MS 500
#define HTTP_REAP_EVERY_MS 100

/* Every HTTP_MEMORY_EVERY reaps, memory is looked at: past HTTP_MEMORY_KEEP bytes of mapped
 * store pages (a full scan maps the whole data file) the store lets them go, and past as much
 * heap the allocator gives back what it holds free (after an answer of every status, say). */
#define HTTP_MEMORY_EVERY 10
#define HTTP_MEMORY_KEEP  ((size_t)48 << 20)

/* The longest SIGTERM waits for requests in flight to be answered. */
#define HTTP_STOP_WAIT_MS 60000

/* How long a connection closed with part of its request unread keeps reading and dropping
 * what the client still sends, so that it reads the answer before the close. */
#define HTTP_LINGER_MS 1000

/* How read_body ended. */
enum body_end {
    BODY_WHOLE,     /* every byte the framing announced */
    BODY_TOO_LARGE, /* over --max-body: the rest is left unread */
    BODY_SHORT,     /* the client stopped (closed, timed out, broke the chunking) before the end */
    BODY_NOMEM,
};

/* Reads the body (Content-Length bytes, or chunks when declared is -1) into a new
 * NUL-terminated buffer in *out (NULL when empty; the caller frees it). */
static enum body_end read_body(struct mg_connection *conn, long long declared, size_t max,
                               char **out, size_t *len)
{
    size_t cap = declared >= 0 ? (size_t)declared + 1 : 4096, used = 0;
    char *buf;

    *out = NULL;
    *len = 0;
    if (declared == 0)
        return BODY_WHOLE;
    if (declared > 0 && (unsigned long long)declared > max)
        return BODY_TOO_LARGE;
    buf = malloc(cap);
    if (buf == NULL)
        return BODY_NOMEM;
    for (;;) {
        int n;

        if (declared >= 0 && used == (size_t)declared)
            break; /* all declared bytes are in */
        if (used + 1 == cap) {
            char *grown;

            if (used > max) {
                free(buf);
                return BODY_TOO_LARGE;
            }
            grown = realloc(buf, cap * 2);
            if (grown == NULL) {
                free(buf);
                return BODY_NOMEM;
            }
            buf = grown;
            cap *= 2;
        }
        n = mg_read(conn, buf + used, cap - 1 - used);
        if (n < 0 || (n == 0 && declared >= 0)) {
            free(buf); /* a broken chunk, or the connection ended early */
            return BODY_SHORT;
        }
        if (n == 0)
            break; /* the last chunk */
        used += (size_t)n;
    }
    if (used > max) {
        free(buf);
        return BODY_TOO_LARGE;
    }
    buf[used] = '\0';
    *out = buf;
    *len = used;
    return BODY_WHOLE;
}

/* Whether the client asked to keep the connection open (civetweb's own rule). */
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

/* 1xx, 204 and 304 answers carry neither a body nor Content-Length (RFC 9110 §8.6). */
static int bodiless_status(int status)
{
    return status < 200 || status == 204 || status == 304;
}

/* The status line of an answer, "HTTP/1.1 422 Unprocessable Entity\r\n", into buf; its length. */
static size_t status_line(char *buf, size_t len, int status)
{
    int n = snprintf(buf, len, "HTTP/1.1 %d %s\r\n", status, emu_reason_phrase(status));

    return n < 0 ? 0 : (size_t)n >= len ? len - 1 : (size_t)n;
}

/* The fixed head of an answer: Date, Content-Type, Content-Length and Connection lines (no
 * status line, no blank line). */
static size_t answer_head(char *buf, size_t len, const struct req *req, const struct res *res,
                          int keep_alive)
{
    int n;

    if (bodiless_status(res->status))
        n = snprintf(buf, len, "Date: %s\r\nConnection: %s\r\n", http_date(req->now_ms),
                     keep_alive ? "keep-alive" : "close");
    else
        n = snprintf(
            buf, len, "Date: %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: %s\r\n",
            http_date(req->now_ms), res->content_type ? res->content_type : "application/json",
            res->body_len, keep_alive ? "keep-alive" : "close");
    return n < 0 ? 0 : (size_t)n >= len ? len - 1 : (size_t)n;
}

/* What a scenario's fault does to the connection instead of a normal answer. */
static void send_fault(struct mg_connection *conn, const struct req *req, const struct res *res)
{
    compat_close_after(conn);
    if (strcmp(res->fault, "reset") == 0) {
        compat_reset(conn); /* when the socket is not found, the connection only closes */
    } else if (strcmp(res->fault, "truncate") == 0) {
        char status[64], head[512];

        mg_write(conn, status, status_line(status, sizeof(status), res->status));
        mg_write(conn, head, answer_head(head, sizeof(head), req, res, 0));
        if (res->headers_len)
            mg_write(conn, res->headers, res->headers_len);
        mg_write(conn, "\r\n", 2);
        mg_write(conn, res->body, res->body_len / 2); /* half the body, then the end */
    }
    /* "empty": nothing at all is written before the connection closes. */
}

/* Sends the whole answer in one write; a HEAD answer stops after the head. */
static void send_response(struct mg_connection *conn, const struct req *req, const struct res *res,
                          int keep_alive, int head_only)
{
    char status[64], head[512], stack[16384];
    size_t status_len, head_len, body_len, total;
    char *out;

    status_len = status_line(status, sizeof(status), res->status);
    head_len = answer_head(head, sizeof(head), req, res, keep_alive);
    body_len = head_only || bodiless_status(res->status) ? 0 : res->body_len;
    total = status_len + head_len + res->headers_len + 2 + body_len;
    out = total <= sizeof(stack) ? stack : malloc(total); /* most answers fit on the stack */
    if (out == NULL) {
        mg_write(conn, status, status_len);
        mg_write(conn, head, head_len);
        mg_write(conn, "\r\n", 2);
        return;
    }
    memcpy(out, status, status_len);
    memcpy(out + status_len, head, head_len);
    if (res->headers_len)
        memcpy(out + status_len + head_len, res->headers, res->headers_len);
    memcpy(out + status_len + head_len + res->headers_len, "\r\n", 2);
    if (body_len)
        memcpy(out + status_len + head_len + res->headers_len + 2, res->body, body_len);
    mg_write(conn, out, total);
    if (out != stack)
        free(out);
}

/* Copies text into buf (of len bytes, NUL-terminated) with every control character, DEL and
 * backslash written as an escape (\r, \n, \t, \\, \xHH), so one request stays one log line. */
static const char *log_escape(const char *text, char *buf, size_t len)
{
    size_t used = 0;

    for (const unsigned char *p = (const unsigned char *)text; *p != '\0' && used + 5 < len; p++) {
        if (*p == '\\' || *p == '\r' || *p == '\n' || *p == '\t') {
            buf[used++] = '\\';
            buf[used++] = *p == '\\' ? '\\' : *p == '\r' ? 'r' : *p == '\n' ? 'n' : 't';
        } else if (*p < 0x20 || *p == 0x7f || *p == ' ') {
            used += (size_t)snprintf(buf + used, len - used, "\\x%02x", *p);
        } else {
            buf[used++] = (char)*p;
        }
    }
    buf[used] = '\0';
    return buf;
}

/* Hands the answer's log line to the request log's writer: a copy into this thread's buffer,
 * never a write (see reqlog.h). */
static void log_request(struct http_server *h, const struct req *req, const struct res *res,
                        int64_t took_us)
{
    char when[32], method[64], path[2048], line[4096];
    const char *tenant = req->tenant[0] ? req->tenant : "-";
    const char *vendor = req->vendor ? req->vendor->name : "-";
    const char *rule = res->scenario[0] ? res->scenario : "-";
    int n;

    if (h->log == NULL)
        return;
    clock_format_iso_ms(req->now_ms, when, sizeof(when));
    if (h->log_json) {
        /* JSON escapes control characters itself; a method or path that is not UTF-8 (which
         * jansson refuses) is logged in its escaped text form instead. */
        json_t *doc =
            json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:I,s:s}", "time", when, "tenant", tenant, "vendor",
                      vendor, "method", req->method, "path", req->path, "status", res->status,
                      "duration_us", (json_int_t)took_us, "scenario", rule);
        char *text;
        size_t len;

        if (doc == NULL)
            doc = json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:I,s:s}", "time", when, "tenant", tenant,
                            "vendor", vendor, "method",
                            log_escape(req->method, method, sizeof(method)), "path",
                            log_escape(req->path, path, sizeof(path)), "status", res->status,
                            "duration_us", (json_int_t)took_us, "scenario", rule);
        text = doc ? jsonx_dump(doc, &len) : NULL;
        if (text != NULL) {
            text[len] = '\n'; /* over the NUL: the line is handed over by length */
            reqlog_line(h->log, text, len + 1);
        }
        free(text);
        json_decref(doc);
        return;
    }
    n = snprintf(line, sizeof(line), "%s %s %s %s %s %d %lldus %s\n", when, tenant, vendor,
                 log_escape(req->method, method, sizeof(method)),
                 log_escape(req->path, path, sizeof(path)), res->status, (long long)took_us, rule);
    if (n > 0 && (size_t)n < sizeof(line))
        reqlog_line(h->log, line, (size_t)n);
}

/* Counts the answer, and journals it unless it was the admin API's. */
static void record(struct app *app, const struct req *req, const struct res *res, int64_t took_us,
                   int keep_alive)
{
    struct journal_record r;
    char head[512], request_headers[8192], response_stack[2048];
    size_t used = 0, head_len;
    char *response_headers;

    r.tenant = req->tenant[0] ? req->tenant : "-";
    r.vendor = req->vendor ? req->vendor->name : "-";
    metrics_count(app->metrics, r.vendor, req->method, req->route ? req->route->path : "-",
                  res->status, r.tenant);
    if (req->vendor == vendors_own_api())
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
    head_len = answer_head(head, sizeof(head), req, res, keep_alive);
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
    /* what went out: a HEAD answer's head carries the GET body's length, not the body */
    r.response_body_len = strcmp(req->method, "HEAD") == 0 ? 0 : res->body_len;
    r.status = res->status;
    journal_add(app->journal, &r);
    if (response_headers != response_stack)
        free(response_headers);
}

/* Copies the request's headers into req, each value trimmed of the spaces and tabs around it
 * (RFC 9110 §5.5), into one new buffer returned through *store (the caller frees it). */
static int copy_headers(const struct mg_request_info *ri, struct req *req, char **store)
{
    size_t total = 0, used = 0;
    char *buf;

    *store = NULL;
    req->nheaders = 0;
    for (int i = 0; i < ri->num_headers && i < REQ_MAX_HEADERS; i++)
        total += strlen(ri->http_headers[i].value) + 1;
    buf = malloc(total + 1);
    if (buf == NULL)
        return EMU_NOMEM;
    for (int i = 0; i < ri->num_headers && i < REQ_MAX_HEADERS; i++) {
        const char *v = ri->http_headers[i].value;
        size_t n;

        v += strspn(v, " \t");
        n = strlen(v);
        while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
            n--;
        memcpy(buf + used, v, n);
        buf[used + n] = '\0';
        req->headers[i].name = ri->http_headers[i].name;
        req->headers[i].value = buf + used;
        req->nheaders = i + 1;
        used += n + 1;
    }
    *store = buf;
    return EMU_OK;
}

/* The request's framing, checked before anything is read (RFC 9112 §6.3): a body is framed
 * by one Content-Length or by chunks, never both and never ambiguously, or a front proxy and
 * understudy could split the stream into different requests. Returns the refusal's sentence,
 * or NULL when the framing is sound; *chunked says which framing it is. */
static const char *framing_error(const struct req *req, int *chunked)
{
    const char *length = NULL, *coding = NULL;
    int ncodings = 0;

    *chunked = 0;
    for (int i = 0; i < req->nheaders; i++) {
        const char *name = req->headers[i].name, *v = req->headers[i].value;

        if (strcasecmp(name, "Content-Length") == 0) {
            size_t digits = strspn(v, "0123456789");

            if (digits == 0 || v[digits] != '\0' || digits > 18)
                return "Content-Length is not a number of bytes";
            if (length != NULL && strcmp(length, v) != 0)
                return "Conflicting Content-Length values";
            length = v;
        } else if (strcasecmp(name, "Transfer-Encoding") == 0) {
            coding = v;
            ncodings++;
        }
    }
    if (coding == NULL)
        return NULL;
    if (length != NULL)
        return "Content-Length together with Transfer-Encoding";
    if (ncodings > 1 || strcasecmp(coding, "chunked") != 0)
        return "Unsupported Transfer-Encoding (only chunked is accepted)";
    *chunked = 1;
    return NULL;
}

/* Percent-decodes a path (a '+' stays a '+', unlike in forms) into a new string in *out.
 * EMU_NOT_FOUND when it holds an encoded NUL, a '%' not followed by two hex digits, or bytes
 * that are not UTF-8: such a path names no resource of any vendor. */
static int decode_path(const char *raw, char **out)
{
    size_t len = strlen(raw), used = 0;
    char *buf = malloc(len + 1);

    *out = NULL;
    if (buf == NULL)
        return EMU_NOMEM;
    for (size_t i = 0; i < len; i++) {
        if (raw[i] == '%') {
            int hi = i + 2 < len ? form_hex_value(raw[i + 1]) : -1;
            int lo = hi >= 0 ? form_hex_value(raw[i + 2]) : -1;

            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(buf);
                return EMU_NOT_FOUND;
            }
            buf[used++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            buf[used++] = raw[i];
        }
    }
    buf[used] = '\0';
    if (!jsonx_utf8_valid(buf, used)) {
        free(buf);
        return EMU_NOT_FOUND;
    }
    *out = buf;
    return EMU_OK;
}

/* Whether a query string holds an encoded NUL, which no vendor's framework lets through to
 * a value: it would cut the value short wherever it is read as text. */
static int query_has_nul(const char *query)
{
    for (const char *p = query; p != NULL && (p = strchr(p, '%')) != NULL; p++)
        if (p[1] == '0' && p[2] == '0')
            return 1;
    return 0;
}

/* Whether the request names a route that will read its body; otherwise its answer (404,
 * 405) is known before the body, which need not be read. */
static int route_wants_body(struct req *req)
{
    return router_match(vendors_all(), req) == EMU_OK;
}

/* Answers err in the vendor's shape with the HTTP status given (the vendor's own status for
 * err when status is 0), and closes the connection after it. */
static void refuse(struct req *req, struct res *res, int err, int status, const char *why)
{
    res_clear(res);
    memset(res, 0, sizeof(*res));
    res->status = status; /* the status to come, for vendors whose body names it */
    router_refuse(req, res, err, why);
    if (status != 0)
        res->status = status;
    res->close = 1;
}

/* Answers the request: keeps or closes the connection, journals, sends, logs. unread: part of
 * the request is still on the wire, so the connection closes with a linger. */
static void answer(struct http_server *h, struct mg_connection *conn,
                   const struct mg_request_info *ri, struct req *req, struct res *res,
                   int64_t started, int unread)
{
    struct app *app = h->app;
    int keep_alive, head_only = strcmp(ri->request_method ? ri->request_method : "", "HEAD") == 0;

    if (res->status == 0)
        res->status = 500;
    /* civetweb gives a connection a worker for as long as it stays open: when nearly every
     * worker holds one, answers close theirs, so that clients waiting in the queue get a
     * worker instead of waiting for a keep-alive connection to time out. */
    keep_alive = keeps_alive(ri, req) && !res->close && !unread && !res->fault[0] &&
                 atomic_load(&h->open) < h->busy_at;
    /* Journaled before it is sent: a client that has the answer finds it in the journal, and
     * the journal's order is the order of the answers. */
    record(app, req, res, mono_us() - started, keep_alive);
    if (res->fault[0]) {
        send_fault(conn, req, res);
    } else {
        send_response(conn, req, res, keep_alive, head_only);
        if (unread)
            compat_linger_close(conn, HTTP_LINGER_MS);
        else if (!keep_alive)
            compat_close_after(conn);
    }
    log_request(h, req, res, mono_us() - started);
}

/* Refuses a request whose head is wrong (or that came while stopping) and says whether its body
 * is left unread. *headers and *path are new on return (NULL when not reached). */
static int refuse_head(struct http_server *h, const struct mg_request_info *ri, struct req *req,
                       struct res *res, char **headers, char **path, int *chunked)
{
    long long declared = ri->content_length;
    const char *why;
    int rc;

    if (copy_headers(ri, req, headers) != EMU_OK) {
        refuse(req, res, EMU_NOMEM, 0, "Out of memory");
        return 1;
    }
    if (atomic_load(&h->stopping)) {
        refuse(req, res, EMU_UNAVAILABLE, 0, "The server is shutting down");
        return declared > 0 || req_header(req, "Transfer-Encoding") != NULL;
    }
    if ((why = compat_head_error(ri)) != NULL || (why = framing_error(req, chunked)) != NULL) {
        refuse(req, res, EMU_BAD_REQUEST, ri->num_headers >= MG_MAX_HEADERS ? 431 : 400, why);
        return 1;
    }
    if ((rc = decode_path(req->path, path)) != EMU_OK) {
        refuse(req, res, rc == EMU_NOMEM ? EMU_NOMEM : EMU_NO_ROUTE, 0,
               "The path is not valid percent-encoded UTF-8 text");
        return declared > 0 || *chunked;
    }
    if (query_has_nul(req->query)) {
        req->path = *path;
        refuse(req, res, EMU_BAD_REQUEST, 400, "The query string holds an encoded NUL (%00)");
        return declared > 0 || *chunked;
    }
    return 0;
}

/* Reads the body of a request whose head passed, as its Expect header and size allow, and says
 * whether it is left unread. *body is new on return (or NULL). */
static int take_body(struct mg_connection *conn, const struct app *app, struct req *req,
                     struct res *res, long long declared, int chunked, char **body)
{
    const char *expect = req_header(req, "Expect");
    int has_body = declared > 0 || chunked, unread = 0;
    enum body_end end;

    if (declared > 0 && (unsigned long long)declared > app->cfg.max_body) {
        req->body_too_large = 1; /* the dispatcher answers 413 without reading it */
        return 1;
    }
    if (expect != NULL && strcasecmp(expect, "100-continue") != 0) {
        refuse(req, res, EMU_BAD_REQUEST, 417, "Only the 100-continue expectation is met");
        return has_body;
    }
    if (expect != NULL && has_body && !route_wants_body(req))
        return 1; /* the answer is known (no such route): the body is not wanted */
    if (!has_body)
        return 0;
    if (expect != NULL) /* the client waits for this before it sends the body */
        mg_write(conn, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    end = read_body(conn, chunked ? -1 : declared, app->cfg.max_body, body, &req->body_len);
    if (end == BODY_TOO_LARGE) {
        req->body_too_large = 1;
        unread = 1;
    } else if (end == BODY_SHORT) {
        refuse(req, res, EMU_BAD_REQUEST, 400,
               "The request body ended before the length its framing announced");
        unread = 1;
    } else if (end == BODY_NOMEM) {
        refuse(req, res, EMU_NOMEM, 0, "Out of memory");
        unread = 1;
    }
    req->body = *body ? *body : "";
    return unread;
}

static int on_request(struct mg_connection *conn, void *cbdata)
{
    struct http_server *h = cbdata;
    struct app *app = h->app;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    int64_t started = mono_us();
    struct req req = {0};
    struct res res = {0};
    char *body = NULL, *headers = NULL, *path = NULL;
    int status, chunked = 0, unread;

    req.app = app;
    req.method = ri->request_method;
    req.path = ri->local_uri ? ri->local_uri : "/"; /* raw until decoded */
    req.query = ri->query_string;
    req.remote_addr = ri->remote_addr;
    req.now_ms = clock_now_ms(&app->clock);
    req.body = "";
    compat_connection_busy(conn, 1);

    /* Counted before the stop flag is read, so http_server_stop never misses a request it must wait
     * for; one that sees the flag is refused, in the vendor's shape, and its connection closed. */
    atomic_fetch_add(&h->in_flight, 1);
    unread = refuse_head(h, ri, &req, &res, &headers, &path, &chunked);
    if (res.status == 0) {
        req.path = path;
        unread = take_body(conn, app, &req, &res, ri->content_length, chunked, &body);
    }
    if (res.status == 0)
        dispatch_request(app, &req, &res);
    answer(h, conn, ri, &req, &res, started, unread);
    compat_connection_busy(conn, 0);
    atomic_fetch_sub(&h->in_flight, 1);

    status = res.status;
    req_clear(&req);
    res_clear(&res);
    free(body);
    free(path);
    free(headers);
    return status;
}

/* Every request is answered here, before civetweb looks for files, handlers or password
 * files (which would cost a stat per request). */
static int on_begin_request(struct mg_connection *conn)
{
    return on_request(conn, mg_get_user_data(mg_get_context(conn)));
}

/* Errors civetweb finds itself, before any handler runs (a malformed request line or header,
 * a bad Content-Length or Transfer-Encoding, an unknown HTTP version, a header block over
 * max_request_size): answered in the shape of the vendor whose path the request names, or
 * the admin API's when the request line could not be read. The connection then closes. */
static int on_http_error(struct mg_connection *conn, int status, const char *message)
{
    struct http_server *h = mg_get_user_data(mg_get_context(conn));
    const struct mg_request_info *ri = mg_get_request_info(conn);
    int64_t started = mono_us();
    struct req req = {0};
    struct res res = {0};
    char *path = NULL, *headers = NULL, *raw = NULL;
    int parsed = compat_error_has_request(status, message) && ri->request_method != NULL &&
                 ri->request_uri != NULL;
    int err = status == 413                    ? EMU_TOO_LARGE
              : status >= 500 && status != 505 ? EMU_INTERNAL
                                               : EMU_BAD_REQUEST;

    if (status < 400 || h == NULL)
        return 1; /* not an error answer: civetweb's own handling */
    if (status == 413)
        status = 431; /* civetweb says 413 only for a request head over its buffer */
    req.app = h->app;
    req.method = parsed ? ri->request_method : "-";
    req.path = "/";
    req.remote_addr = ri->remote_addr;
    req.now_ms = clock_now_ms(&h->app->clock);
    req.body = "";
    if (parsed) {
        const char *uri = ri->request_uri;
        size_t n;

        if (strncmp(uri, "http://", 7) == 0 && strchr(uri + 7, '/') != NULL)
            uri = strchr(uri + 7, '/'); /* absolute form: the path part */
        n = strcspn(uri, "?");
        raw = strndup(uri, n);
        if (raw != NULL && decode_path(raw, &path) == EMU_OK)
            req.path = path;
        else if (raw != NULL && raw[0] == '/')
            req.path = raw;
        if (copy_headers(ri, &req, &headers) != EMU_OK)
            req.nheaders = 0;
    }
    refuse(&req, &res, err, status, message && *message ? message : emu_reason_phrase(status));
    answer(h, conn, ri, &req, &res, started, 1);
    req_clear(&req);
    res_clear(&res);
    free(path);
    free(raw);
    free(headers);
    return 0;
}

static int on_log_message(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    fprintf(stderr, "understudy: http: %s\n", message);
    return 1;
}

static int on_init_connection(const struct mg_connection *conn, void **conn_data)
{
    struct http_server *h = mg_get_user_data(mg_get_context(conn));

    if (compat_connection_opened(conn, conn_data) && h != NULL)
        atomic_fetch_add(&h->open, 1);
    return 0;
}

static void on_connection_close(const struct mg_connection *conn)
{
    struct http_server *h = mg_get_user_data(mg_get_context(conn));

    if (compat_connection_closed(conn) && h != NULL)
        atomic_fetch_sub(&h->open, 1);
}

/* Releases mapped store pages and free heap past HTTP_MEMORY_KEEP (see there), as
 * /proc/self/statm counts them: resident pages, of which file-backed ("shared"). */
static void keep_memory_down(struct http_server *h)
{
    unsigned long size, resident, shared;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    FILE *f = fopen("/proc/self/statm", "r");
    int got = f != NULL && fscanf(f, "%lu %lu %lu", &size, &resident, &shared) == 3;

    if (f != NULL)
        fclose(f);
    if (!got)
        return;
    if (shared * page > HTTP_MEMORY_KEEP)
        store_release_mapped(h->app->store);
    /* Trimming walks the allocator's arenas under their locks: only after the heap grew. */
    if ((resident - shared) * page > HTTP_MEMORY_KEEP &&
        (resident - shared) * page > h->trimmed_at + HTTP_MEMORY_KEEP / 4) {
        malloc_trim(0);
        h->trimmed_at = (resident - shared) * page;
    } else if ((resident - shared) * page < h->trimmed_at) {
        h->trimmed_at = (resident - shared) * page;
    }
}

/* civetweb gives a connection a worker until it closes, and queues the rest: while nearly
 * every worker is held, connections that only wait (idle, slowloris) are ended so that the
 * queued clients get a worker. */
static void *reaper_run(void *arg)
{
    struct http_server *h = arg;

    for (unsigned n = 1; !atomic_load(&h->reaper_stop); n++) {
        usleep(HTTP_REAP_EVERY_MS * 1000);
        if (atomic_load(&h->open) >= h->busy_at)
            compat_evict_idle(h->port, HTTP_IDLE_EVICT_MS);
        if (n % HTTP_MEMORY_EVERY == 0)
            keep_memory_down(h);
    }
    return NULL;
}

/* Splits a listening address into host (brackets of an IPv6 address removed) and port. */
static int split_listen(const struct config *cfg, char *host, size_t hostlen, unsigned *port)
{
    char raw[128];
    size_t n;

    if (config_listen_split(cfg, raw, sizeof(raw), port) != EMU_OK)
        return EMU_INVALID;
    n = strlen(raw);
    if (n >= 2 && raw[0] == '[' && raw[n - 1] == ']') {
        snprintf(host, hostlen, "%.*s", (int)(n - 2), raw + 1);
        return strchr(host, ':') != NULL ? EMU_OK : EMU_INVALID;
    }
    snprintf(host, hostlen, "%s", raw);
    return EMU_OK;
}

/* The texts of civetweb's options that come from the configuration. */
struct civet_texts {
    char threads[16], queue[16], listen[160], request_ms[16], keep_alive_ms[16], head_max[24];
};

static void civet_texts(const struct config *cfg, const char *host, unsigned port, int ipv6,
                        struct civet_texts *t)
{
    /* civetweb binds every interface unless the port carries an address. An IPv6 address is
     * bound by us (Debian's civetweb is built without IPv6): civetweb starts on a loopback
     * port and the IPv6 socket takes its listener's place. */
    if (ipv6)
        snprintf(t->listen, sizeof(t->listen), "127.0.0.1:0");
    else
        snprintf(t->listen, sizeof(t->listen), "%s:%u", host, port);
    snprintf(t->threads, sizeof(t->threads), "%u", cfg->threads);
    /* A query string may be as long as a body (a filter naming thousands of ids), so the head
     * may hold --max-body (up to HTTP_MAX_QUERY) plus 16 KiB of headers. civetweb gives each
     * worker a buffer of this size; its pages are touched only by heads that long. */
    snprintf(t->head_max, sizeof(t->head_max), "%zu",
             (cfg->max_body < HTTP_MAX_QUERY ? cfg->max_body : HTTP_MAX_QUERY) + 16384);
    snprintf(t->request_ms, sizeof(t->request_ms), "%u", cfg->request_timeout_ms);
    snprintf(t->keep_alive_ms, sizeof(t->keep_alive_ms), "%u", cfg->keep_alive_timeout_ms);
    /* Accepted connections wait in civetweb's queue for a worker; a long queue lets the reaper
     * see (and end) idle ones there too instead of in the kernel's backlog. */
    snprintf(t->queue, sizeof(t->queue), "%u", cfg->threads > 1024 ? cfg->threads : 1024);
}

/* Keep-alive connections are answered "close" once fewer than an eighth of the workers (at
 * least two) are free. */
static int busy_threshold(unsigned threads)
{
    int at = (int)threads - (int)(threads / 8 > 2 ? threads / 8 : 2);

    return at < 1 ? 1 : at;
}

/* Starts civetweb on t's options; NULL when it cannot listen. */
static struct mg_context *civet_start(struct http_server *h, struct civet_texts *t)
{
    struct mg_callbacks callbacks = {0};
    const char *options[] = {
        "listening_ports",
        t->listen,
        "num_threads",
        t->threads,
        "connection_queue",
        t->queue,
        "listen_backlog",
        "1024",
        "enable_keep_alive",
        "yes",
        "tcp_nodelay",
        "1",
        /* The longest a client may take to send a request's head (slowloris), and to pause
         * within a body; and the longest an idle keep-alive connection holds its worker. */
        "request_timeout_ms",
        t->request_ms,
        "keep_alive_timeout_ms",
        t->keep_alive_ms,
        "decode_url",
        "no", /* decoded by us: an encoded NUL must refuse the path, not cut it */
        "max_request_size",
        t->head_max,
        NULL,
    };

    callbacks.log_message = on_log_message;
    callbacks.begin_request = on_begin_request;
    callbacks.http_error = on_http_error;
    callbacks.init_connection = on_init_connection;
    callbacks.connection_close = on_connection_close;
    return mg_start(&callbacks, h, options);
}

int http_server_start(struct app *app, struct http_server **out, char *err, size_t errlen)
{
    struct http_server *h = calloc(1, sizeof(*h));
    struct mg_server_port ports[4];
    struct civet_texts texts;
    char host[128];
    unsigned port;
    int ipv6;

    *out = NULL;
    if (h == NULL)
        return EMU_NOMEM;
    if (split_listen(&app->cfg, host, sizeof(host), &port) != EMU_OK) {
        snprintf(err, errlen, "cannot listen on %s (not HOST:PORT)", app->cfg.listen);
        free(h);
        return EMU_IO;
    }
    ipv6 = strchr(host, ':') != NULL;
    civet_texts(&app->cfg, host, port, ipv6, &texts);
    snprintf(h->host, sizeof(h->host), "%s", host);
    h->busy_at = busy_threshold(app->cfg.threads);
    h->log_json = strcmp(app->cfg.log, "json") == 0;
    if (strcmp(app->cfg.log, "off") != 0 && reqlog_new(&h->log, STDOUT_FILENO, 0) != EMU_OK) {
        snprintf(err, errlen, "cannot start the request log's writer");
        free(h);
        return EMU_NOMEM;
    }
    mg_init_library(0);
    h->app = app;
    app->reqlog = h->log;
    h->ctx = civet_start(h, &texts);
    if (h->ctx == NULL) {
        snprintf(err, errlen, "cannot listen on %s (address in use or not available)",
                 app->cfg.listen);
        app->reqlog = NULL;
        reqlog_free(h->log);
        free(h);
        mg_exit_library();
        return EMU_IO;
    }
    if (mg_get_server_ports(h->ctx, 4, ports) > 0)
        h->port = (unsigned)ports[0].port;
    if (ipv6) {
        int bound = compat_listen_ipv6(h->port, host, port);

        if (bound < 0) {
            snprintf(err, errlen, "cannot listen on %s (address in use or not available)",
                     app->cfg.listen);
            mg_stop(h->ctx);
            app->reqlog = NULL;
            reqlog_free(h->log);
            free(h);
            mg_exit_library();
            return EMU_IO;
        }
        h->port = (unsigned)bound;
    }
    h->have_reaper = pthread_create(&h->reaper, NULL, reaper_run, h) == 0;
    *out = h;
    return EMU_OK;
}

/* Writes the request log's last lines and stops its writer (every worker has ended). Lines
 * dropped because the writer fell behind are told in one last line of the log's format. */
static void log_close(struct http_server *h)
{
    unsigned long long dropped;
    char when[32], line[160];
    int n;

    if (h->log == NULL)
        return;
    dropped = reqlog_dropped(h->log);
    h->app->reqlog = NULL;
    reqlog_free(h->log);
    h->log = NULL;
    if (dropped == 0)
        return;
    clock_format_iso_ms(clock_now_ms(&h->app->clock), when, sizeof(when));
    n = h->log_json
            ? snprintf(line, sizeof(line), "{\"time\":\"%s\",\"log_lines_dropped\":%llu}\n", when,
                       dropped)
            : snprintf(line, sizeof(line), "%s request log: %llu lines dropped\n", when, dropped);
    if (n > 0 && write(STDOUT_FILENO, line, (size_t)n) < 0)
        return; /* nowhere left to say it */
}

void http_server_stop(struct http_server *h)
{
    struct compat_waker *waker;

    if (h == NULL)
        return;
    /* Requests in flight finish and their answers go out before mg_stop: once civetweb's stop
     * flag is up it no longer writes, and a committed write would lose its answer. */
    atomic_store(&h->stopping, 1);
    for (int waited_ms = 0; atomic_load(&h->in_flight) > 0 && waited_ms < HTTP_STOP_WAIT_MS;
         waited_ms++)
        usleep(1000);
    /* Workers waiting on idle connections notice the stop only every two seconds: ending
     * those reads now lets the process exit as soon as the last answer is out. */
    atomic_store(&h->reaper_stop, 1);
    if (h->have_reaper)
        pthread_join(h->reaper, NULL);
    compat_evict_end();
    compat_end_idle_reads(h->port);
    waker = compat_wake_listener_start(h->host, h->port);
    mg_stop(h->ctx);
    compat_wake_listener_end(waker);
    mg_exit_library();
    log_close(h);
    free(h);
}

unsigned http_server_port(const struct http_server *h)
{
    return h->port;
}
