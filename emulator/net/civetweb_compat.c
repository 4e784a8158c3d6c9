/* civetweb_compat.c -- the tricks that depend on civetweb's inner workings, in one place.
 *
 * Each function says what it relies on. All of it was checked against civetweb 1.15 (the
 * version Debian ships); the build stops on any other version until someone has checked
 * these again and widened the test below. */
#include "civetweb_compat.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <civetweb.h>

#if !defined(CIVETWEB_VERSION_MAJOR) || !defined(CIVETWEB_VERSION_MINOR) ||                        \
    CIVETWEB_VERSION_MAJOR != 1 || CIVETWEB_VERSION_MINOR != 15
#error "civetweb_compat.c was checked against civetweb 1.15 only: check each trick in it \
against this civetweb version, then widen this test"
#endif

/* What we remember of one connection, from the moment a worker takes it until it closes.
 * Every open connection is in one list (under table_lock), for compat_evict_idle. */
struct compat_conn {
    int fd;           /* -2: not looked up yet; -1: not found */
    int busy;         /* 1 while a request on it is being handled */
    int64_t since_ms; /* when it last began to wait for a request */
    int remote_port;  /* the peer, from the first request's info; -1 until then */
    int server_port;
    char remote_addr[48];
    struct compat_conn *prev, *next;
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct compat_conn *table;

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int compat_connection_opened(const struct mg_connection *conn, void **conn_data)
{
    struct compat_conn *c = calloc(1, sizeof(*c));

    (void)conn;
    *conn_data = c;
    if (c == NULL)
        return 0;
    c->fd = -2;
    c->remote_port = -1; /* known from its first request on (see compat_connection_busy) */
    c->since_ms = mono_ms();
    pthread_mutex_lock(&table_lock);
    c->next = table;
    if (table != NULL)
        table->prev = c;
    table = c;
    pthread_mutex_unlock(&table_lock);
    return 1;
}

int compat_connection_closed(const struct mg_connection *conn)
{
    struct compat_conn *c = mg_get_user_connection_data(conn);

    if (c == NULL)
        return 0;
    pthread_mutex_lock(&table_lock);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        table = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&table_lock);
    free(c);
    mg_set_user_connection_data(conn, NULL);
    return 1;
}

void compat_connection_busy(const struct mg_connection *conn, int busy)
{
    struct compat_conn *c = mg_get_user_connection_data(conn);

    if (c == NULL)
        return;
    pthread_mutex_lock(&table_lock);
    if (c->remote_port < 0) {
        /* civetweb hands out the request info only once a request is read (it is NULL in
         * the init_connection callback), so the peer is learnt here. */
        const struct mg_request_info *ri = mg_get_request_info(conn);

        if (ri != NULL) {
            c->remote_port = ri->remote_port;
            c->server_port = ri->server_port;
            snprintf(c->remote_addr, sizeof(c->remote_addr), "%s", ri->remote_addr);
        }
    }
    c->busy = busy;
    c->since_ms = mono_ms();
    pthread_mutex_unlock(&table_lock);
}

static unsigned port_of(const struct sockaddr_storage *sa)
{
    if (sa->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    if (sa->ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)sa)->sin_port);
    return 0;
}

/* The address as civetweb writes remote_addr (inet_ntop of the peer's address). */
static int addr_text(const struct sockaddr_storage *sa, char *buf, size_t len)
{
    const void *a = sa->ss_family == AF_INET6
                        ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                        : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;

    return inet_ntop(sa->ss_family, a, buf, (socklen_t)len) != NULL ? 0 : -1;
}

/* Trick: civetweb keeps the socket inside its private struct mg_connection. A TCP connection
 * is one socket in this process, and its peer address and port together with our local port
 * name it (the request info carries all three), so the socket is the one open descriptor
 * whose getpeername and getsockname give them. Only the descriptors open in this process are
 * looked at (/proc/self/fd); when two match (a client reaching us through two of our
 * addresses from the same port), none is returned rather than a guess. */
static int find_socket(const struct mg_request_info *ri)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int found = -1, matches = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        struct sockaddr_storage peer, self;
        socklen_t plen = sizeof(peer), slen = sizeof(self);
        char text[INET6_ADDRSTRLEN];
        char *end;
        long fd = strtol(e->d_name, &end, 10);

        if (*end != '\0' || end == e->d_name || fd < 0 || fd == dirfd(d))
            continue;
        if (getpeername((int)fd, (struct sockaddr *)&peer, &plen) != 0 ||
            getsockname((int)fd, (struct sockaddr *)&self, &slen) != 0)
            continue;
        if (port_of(&self) != (unsigned)ri->server_port)
            continue;
        /* An IPv6 peer (see compat_listen_ipv6) has neither address nor port in the request
         * info: its socket is only known when it is our one IPv6 connection. */
        if (ri->remote_addr[0] == '\0' ? peer.ss_family != AF_INET6
                                       : port_of(&peer) != (unsigned)ri->remote_port ||
                                             addr_text(&peer, text, sizeof(text)) != 0 ||
                                             strcmp(text, ri->remote_addr) != 0)
            continue;
        found = (int)fd;
        matches++;
    }
    closedir(d);
    return matches == 1 ? found : -1;
}

int compat_socket(const struct mg_connection *conn)
{
    struct compat_conn *c = mg_get_user_connection_data(conn);
    int fd;

    if (c != NULL && c->fd != -2)
        return c->fd;
    fd = find_socket(mg_get_request_info(conn));
    if (c != NULL)
        c->fd = fd;
    return fd;
}

/* Trick: civetweb decides whether to wait for another request on the connection after the
 * handler returns, from the request's Connection header (should_keep_alive). The header array
 * lives in the connection's own writable request info, so naming "close" there ends the
 * connection after this answer. When the array is full and holds no Connection header, the
 * socket's reading side is shut instead, so civetweb's next read sees the end. */
void compat_close_after(struct mg_connection *conn)
{
    struct mg_request_info *info = (struct mg_request_info *)mg_get_request_info(conn);
    int fd;

    for (int i = 0; i < info->num_headers; i++) {
        if (strcasecmp(info->http_headers[i].name, "Connection") == 0) {
            info->http_headers[i].value = "close";
            return;
        }
    }
    if (info->num_headers >= 0 && info->num_headers < MG_MAX_HEADERS) {
        info->http_headers[info->num_headers].name = "Connection";
        info->http_headers[info->num_headers].value = "close";
        info->num_headers++;
        return;
    }
    fd = compat_socket(conn);
    if (fd >= 0)
        shutdown(fd, SHUT_RD);
}

/* Trick: after a handler returns without reading the whole body, civetweb reads and drops the
 * rest of it (discard_unread_request_data) up to its Content-Length or the end of the chunks,
 * waiting up to request_timeout_ms for bytes that may never come. Shutting the socket's
 * reading side makes those reads end at once. Before that, our side is shut for writing (the
 * client sees the end of the answer) and what the client still sends is read and dropped for
 * a bounded time: closing a socket with unread data sends an RST, which can make the client
 * lose an answer it has not read yet. */
void compat_linger_close(struct mg_connection *conn, int linger_ms)
{
    int fd = compat_socket(conn);
    int64_t deadline = mono_ms() + linger_ms;
    char sink[4096];

    compat_close_after(conn);
    if (fd < 0)
        return;
    shutdown(fd, SHUT_WR);
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int64_t left = deadline - mono_ms();
        ssize_t n;

        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            break;
        n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            break;
    }
    shutdown(fd, SHUT_RD);
}

int compat_reset(struct mg_connection *conn)
{
    struct sockaddr unspec = {0};
    int fd = compat_socket(conn);

    compat_close_after(conn);
    if (fd < 0)
        return -1;
    /* connect() with AF_UNSPEC disconnects a TCP socket: the kernel aborts the connection and
     * the peer gets an RST now, while the descriptor stays valid for civetweb to close as
     * usual (closing it ourselves would let civetweb close a reused descriptor). */
    unspec.sa_family = AF_UNSPEC;
    return connect(fd, &unspec, sizeof(unspec)) == 0 ? 0 : -1;
}

/* Trick: civetweb reports three errors before it has parsed the request line (get_message:
 * "Message too large" 413, "Malformed message" 400, "Invalid message size" 500); then the
 * request info still holds pointers from the previous request on that worker. Every other
 * error it raises (bad request line 400, bad Content-Length 411, bad Transfer-Encoding 400,
 * bad version 505, bad URI 400) comes after parse_http_request, which resets the method and
 * URI first, so they are this request's or NULL. */
int compat_error_has_request(int status, const char *message)
{
    if (message == NULL)
        return 0;
    if (status == 413 && strcmp(message, "Message too large") == 0)
        return 0;
    if (status == 400 && strcmp(message, "Malformed message") == 0)
        return 0;
    if (status == 500 && strcmp(message, "Invalid message size") == 0)
        return 0;
    return 1;
}

/* Calls fn on every open descriptor of this process that is a TCP socket bound to our port,
 * with the socket's own address, its peer's (zeroed for a listener) and whether it listens. */
static void each_socket_on(unsigned port,
                           void (*fn)(int fd, int listening, const struct sockaddr_storage *self,
                                      void *arg),
                           void *arg)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        struct sockaddr_storage self;
        socklen_t slen = sizeof(self), olen;
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        int listening = 0;

        if (*end != '\0' || end == e->d_name || fd < 0 || fd == dirfd(d))
            continue;
        if (getsockname((int)fd, (struct sockaddr *)&self, &slen) != 0 || port_of(&self) != port)
            continue;
        olen = sizeof(listening);
        if (getsockopt((int)fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &olen) != 0)
            continue;
        fn((int)fd, listening, &self, arg);
    }
    closedir(d);
}

static void end_read(int fd, int listening, const struct sockaddr_storage *self, void *arg)
{
    (void)self;
    (void)arg;
    if (!listening)
        shutdown(fd, SHUT_RD);
}

/* Trick: a worker waiting for the next request on a keep-alive connection polls its socket
 * in two-second quanta (SOCKET_TIMEOUT_QUANTUM) and looks at the stop flag between them, so
 * mg_stop can take two seconds. Shutting the reading side of those sockets makes the wait
 * end at once with "no data", and civetweb closes them. Answers already written are not
 * touched: only reading ends. */
void compat_end_idle_reads(unsigned port)
{
    each_socket_on(port, end_read, NULL);
}

/* Trick: a connection waiting for a request holds a civetweb worker until its timeout (or
 * waits in civetweb's queue for one), and civetweb has no call to end it; shutting its socket
 * down makes the read end with "closed", and civetweb closes it as if the client had. A
 * connection is only ended while it waits: no request is being handled on it, no byte of a
 * next request is waiting in the socket, and it has waited min_idle_ms: since its last answer
 * when it had a request, else since the reaper first saw it (civetweb does not tell which
 * socket a connection has before its first request). */
struct seen {
    struct sockaddr_storage peer;
    int64_t first_ms;
    unsigned scan;
};

struct evict {
    int64_t now_ms;
    int min_idle_ms;
    int ended;
    unsigned scan;
};

/* Peers of connections with no request yet, and when a scan first saw them. Only the reaper
 * thread uses it, under table_lock. */
static struct seen *seen;
static size_t nseen, seen_cap;

static int same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return 0;
    if (a->ss_family == AF_INET)
        return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
                      &((const struct sockaddr_in *)b)->sin_addr, sizeof(struct in_addr)) == 0 &&
               port_of(a) == port_of(b);
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0 &&
           port_of(a) == port_of(b);
}

/* When the peer's connection was first seen without a request (now when it is new). */
static int64_t first_seen(const struct sockaddr_storage *peer, struct evict *ev)
{
    for (size_t i = 0; i < nseen; i++) {
        if (same_peer(&seen[i].peer, peer)) {
            seen[i].scan = ev->scan;
            return seen[i].first_ms;
        }
    }
    if (nseen == seen_cap) {
        size_t cap = seen_cap ? seen_cap * 2 : 256;
        struct seen *grown = realloc(seen, cap * sizeof(*seen));

        if (grown == NULL)
            return ev->now_ms;
        seen = grown;
        seen_cap = cap;
    }
    seen[nseen].peer = *peer;
    seen[nseen].first_ms = ev->now_ms;
    seen[nseen].scan = ev->scan;
    nseen++;
    return ev->now_ms;
}

static void evict_one(int fd, int listening, const struct sockaddr_storage *self, void *arg)
{
    struct evict *ev = arg;
    struct sockaddr_storage peer;
    socklen_t plen = sizeof(peer);
    char text[INET6_ADDRSTRLEN] = "", peek;
    int64_t since = -1;

    (void)self;
    /* IPv6 peers are left alone: civetweb records neither their address nor their port, so
     * whether one is busy cannot be told (see compat_listen_ipv6). */
    if (listening || getpeername(fd, (struct sockaddr *)&peer, &plen) != 0 ||
        peer.ss_family != AF_INET || addr_text(&peer, text, sizeof(text)) != 0)
        return;
    for (struct compat_conn *c = table; c != NULL; c = c->next) {
        if (c->remote_port == (int)port_of(&peer) && strcmp(c->remote_addr, text) == 0) {
            if (c->busy)
                return;
            since = c->since_ms;
            break;
        }
    }
    if (since < 0)
        since = first_seen(&peer, ev);
    if (ev->now_ms - since < ev->min_idle_ms)
        return;
    if (recv(fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
        return; /* a request is arriving */
    shutdown(fd, SHUT_RDWR);
    ev->ended++;
}

int compat_evict_idle(unsigned port, int min_idle_ms)
{
    static unsigned scans;
    struct evict ev = {mono_ms(), min_idle_ms, 0, 0};
    size_t kept = 0;

    pthread_mutex_lock(&table_lock);
    ev.scan = ++scans;
    each_socket_on(port, evict_one, &ev);
    for (size_t i = 0; i < nseen; i++) /* forget the peers that are gone */
        if (seen[i].scan == ev.scan)
            seen[kept++] = seen[i];
    nseen = kept;
    pthread_mutex_unlock(&table_lock);
    return ev.ended;
}

void compat_evict_end(void)
{
    pthread_mutex_lock(&table_lock);
    free(seen);
    seen = NULL;
    nseen = seen_cap = 0;
    pthread_mutex_unlock(&table_lock);
}

struct find_listener {
    int fd;
};

static void note_listener(int fd, int listening, const struct sockaddr_storage *self, void *arg)
{
    struct find_listener *f = arg;

    if (listening && self->ss_family == AF_INET &&
        ((const struct sockaddr_in *)self)->sin_addr.s_addr == htonl(INADDR_LOOPBACK))
        f->fd = fd;
}

/* Trick: Debian builds civetweb without IPv6, so it cannot bind [::1]. Its listener thread
 * only polls and accepts on the descriptor it bound, and treats what accept() returns as a
 * connected socket: an IPv6 listening socket put on that descriptor number with dup2() is
 * served like its own. civetweb records neither the address nor the port of such a peer
 * (remote_addr is empty, remote_port 0): find_socket finds an IPv6 connection's socket only
 * while it is the one IPv6 connection, and compat_evict_idle leaves IPv6 connections alone. */
int compat_listen_ipv6(unsigned v4_port, const char *host6, unsigned port6)
{
    struct find_listener f = {-1};
    struct sockaddr_in6 a = {0};
    socklen_t alen = sizeof(a);
    int fd, one = 1;

    each_socket_on(v4_port, note_listener, &f);
    if (f.fd < 0)
        return -1;
    a.sin6_family = AF_INET6;
    a.sin6_port = htons((uint16_t)port6);
    if (inet_pton(AF_INET6, host6, &a.sin6_addr) != 1)
        return -1;
    fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 1024) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0 || dup3(fd, f.fd, O_CLOEXEC) < 0) {
        close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin6_port);
}

/* Trick: civetweb's header parser (parse_http_headers) accepts two things RFC 9112 §5.1-5.2
 * requires a server to refuse, and tells us about neither. It drops spaces between a field
 * name and its colon, so "Content-Length : 5" counts as Content-Length, while a proxy in front
 * may ignore it. And it ends the header section at a line starting with a space (obsolete line
 * folding), or after MG_MAX_HEADERS fields, silently: the fields after it, Content-Length
 * included, are not seen, and the body would be read as another request. Both leave marks in
 * the request buffer, where the names and values point: the parser turns each space before a
 * colon and the colon itself into NULs (so the byte after a name's end is a NUL that is not
 * the start of its value), and ends each line by turning its CR and LF into NULs (so the last
 * field's value is followed by one or two NULs and then the next line, which is a space for a
 * folded line). A head whose LF-only last line is followed by a body starting with a space
 * reads as folded too: such a request is refused, which no client sending CRLF meets. */
const char *compat_head_error(const struct mg_request_info *ri)
{
    const struct mg_header *last;
    const char *end;

    if (ri->num_headers >= MG_MAX_HEADERS)
        return "Too many header fields";
    for (int i = 0; i < ri->num_headers; i++) {
        const char *name = ri->http_headers[i].name, *value = ri->http_headers[i].value;
        size_t n = strlen(name);

        if (name[n + 1] == '\0' && value != name + n + 1)
            return "Whitespace between a header field name and its colon";
    }
    if (ri->num_headers == 0)
        return NULL;
    last = &ri->http_headers[ri->num_headers - 1];
    end = last->value + strlen(last->value);
    if (end[1] == ' ' || (end[1] == '\0' && end[2] == ' '))
        return "Obsolete line folding in a header field";
    return NULL;
}

struct compat_waker {
    pthread_t thread;
    atomic_int done;
    struct sockaddr_storage addr;
    socklen_t addrlen;
};

/* Trick: civetweb's listener polls its sockets with a two-second quantum
 * (SOCKET_TIMEOUT_QUANTUM) and looks at the stop flag only when the poll returns; a
 * connection to our own port makes it return at once, so mg_stop takes milliseconds instead
 * of up to two seconds. The waker connects every 10 ms until mg_stop has returned. */
static void *waker_run(void *arg)
{
    struct compat_waker *w = arg;

    for (int i = 0; i < 300 && !atomic_load(&w->done); i++) {
        int fd = socket(w->addr.ss_family, SOCK_STREAM, 0);

        usleep(10000);
        if (fd < 0)
            break;
        connect(fd, (struct sockaddr *)&w->addr, w->addrlen);
        close(fd);
    }
    return NULL;
}

struct compat_waker *compat_wake_listener_start(const char *host, unsigned port)
{
    struct compat_waker *w = calloc(1, sizeof(*w));
    struct sockaddr_in *v4;
    struct sockaddr_in6 *v6;

    if (w == NULL)
        return NULL;
    v4 = (struct sockaddr_in *)&w->addr;
    v6 = (struct sockaddr_in6 *)&w->addr;
    /* A wildcard address is reached through the loopback of its family. */
    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "") == 0)
        host = "127.0.0.1";
    else if (strcmp(host, "::") == 0)
        host = "::1";
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        w->addrlen = sizeof(*v4);
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        w->addrlen = sizeof(*v6);
    } else {
        free(w);
        return NULL;
    }
    if (pthread_create(&w->thread, NULL, waker_run, w) != 0) {
        free(w);
        return NULL;
    }
    return w;
}

void compat_wake_listener_end(struct compat_waker *w)
{
    if (w == NULL)
        return;
    atomic_store(&w->done, 1);
    pthread_join(w->thread, NULL);
    free(w);
}
