/* http_client.c -- the outbound HTTP client: webhook deliveries, replay, and `understudy probe`.
 *
 * Plain HTTP/1.1 only, one request per connection, over civetweb's client calls. */
#include "http_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

#include "err.h"

int http_client_probe(const char *base_url, const char *path, int *status)
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

/* Reads the status, headers and body of conn's answer into out; out->body is NULL when memory
 * ran out. */
static void read_answer(struct mg_connection *conn, struct http_answer *out)
{
    const struct mg_response_info *info = mg_get_response_info(conn);
    char chunk[4096];
    int n;

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
}

int http_client_request(const char *url, const char *method, const char *const *headers,
                        int nheaders, const char *body, size_t body_len, int timeout_ms,
                        struct http_answer *out, char *err, size_t errlen)
{
    struct mg_connection *conn;
    char host[256], ebuf[256];
    const char *rest;
    int port;

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
    read_answer(conn, out);
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
