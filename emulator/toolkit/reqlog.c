/* reqlog.c -- per-thread double buffers drained by one writer thread.
 *
 * Each logging thread owns a struct tbuf: the buffer it fills and a spare. Its mutex is taken
 * by the owner for one memcpy and by the writer for one pointer swap, so a request waits for at
 * most a swap, never for a write(2). The tbufs hang on one list that only grows (a thread keeps
 * its tbuf for the life of the reqlog), so the writer walks it without a lock once it has read
 * the head. A thread finds its own tbuf through a thread-local pointer tagged with the reqlog's
 * serial number, so that a reqlog made later at the same address is not mistaken for the old
 * one. */
#include "reqlog.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"

struct tbuf {
    struct tbuf *next; /* set before the tbuf is published, never changed after */
    pthread_t owner;
    pthread_mutex_t lock; /* the owner's memcpy, the writer's swap */
    char *fill;           /* where the owner appends */
    size_t used;
    char *spare; /* the writer's, between swaps */
};

struct reqlog {
    int fd;
    size_t cap; /* bytes in each of a tbuf's buffers */
    uint64_t serial;
    atomic_ullong dropped;
    atomic_int kicked; /* a buffer passed half full since the writer last looked */
    pthread_t writer;
    pthread_mutex_t lock; /* the fields below */
    pthread_cond_t wake, flushed;
    struct tbuf *threads;
    uint64_t asked, done; /* flush rounds asked for by reqlog_flush, and finished */
    int stop;
};

static atomic_ullong serials;

/* The calling thread's tbuf, for the reqlog with this serial. */
static _Thread_local struct {
    uint64_t serial;
    struct tbuf *tb;
} mine;

/* Writes n bytes of text to fd, retrying short writes; what cannot be written is counted as
 * dropped lines. */
static void write_all(struct reqlog *l, const char *text, size_t n)
{
    while (n > 0) {
        ssize_t w = write(l->fd, text, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            uint64_t lines = 0;

            for (size_t i = 0; i < n; i++)
                lines += text[i] == '\n';
            atomic_fetch_add(&l->dropped, lines ? lines : 1);
            return;
        }
        text += w;
        n -= (size_t)w;
    }
}

/* Takes every tbuf's lines and writes them, one write per tbuf. */
static void drain(struct reqlog *l)
{
    struct tbuf *tb;

    pthread_mutex_lock(&l->lock);
    tb = l->threads;
    pthread_mutex_unlock(&l->lock);
    for (; tb != NULL; tb = tb->next) {
        char *full;
        size_t n;

        pthread_mutex_lock(&tb->lock);
        full = tb->fill;
        n = tb->used;
        tb->fill = tb->spare;
        tb->used = 0;
        tb->spare = full;
        pthread_mutex_unlock(&tb->lock);
        if (n > 0)
            write_all(l, full, n);
    }
}

static void *writer_run(void *arg)
{
    struct reqlog *l = arg;

    pthread_mutex_lock(&l->lock);
    for (;;) {
        uint64_t asked;
        int stop;

        if (!l->stop && l->asked == l->done && !atomic_load(&l->kicked)) {
            struct timespec until;

            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_nsec += (long)REQLOG_FLUSH_MS * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&l->wake, &l->lock, &until);
        }
        asked = l->asked;
        stop = l->stop;
        pthread_mutex_unlock(&l->lock);
        atomic_store(&l->kicked, 0);
        drain(l);
        pthread_mutex_lock(&l->lock);
        l->done = asked;
        pthread_cond_broadcast(&l->flushed);
        if (stop)
            break;
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

int reqlog_new(struct reqlog **out, int fd, size_t buffer_bytes)
{
    struct reqlog *l = calloc(1, sizeof(*l));
    pthread_condattr_t attr;

    *out = NULL;
    if (l == NULL)
        return EMU_NOMEM;
    l->fd = fd;
    l->cap = buffer_bytes ? buffer_bytes : REQLOG_BUFFER_BYTES;
    l->serial = atomic_fetch_add(&serials, 1) + 1;
    pthread_mutex_init(&l->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&l->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_cond_init(&l->flushed, NULL);
    if (pthread_create(&l->writer, NULL, writer_run, l) != 0) {
        pthread_cond_destroy(&l->wake);
        pthread_cond_destroy(&l->flushed);
        pthread_mutex_destroy(&l->lock);
        free(l);
        return EMU_IO;
    }
    *out = l;
    return EMU_OK;
}

void reqlog_free(struct reqlog *l)
{
    struct tbuf *tb, *next;

    if (l == NULL)
        return;
    pthread_mutex_lock(&l->lock);
    l->stop = 1;
    pthread_cond_signal(&l->wake);
    pthread_mutex_unlock(&l->lock);
    pthread_join(l->writer, NULL); /* its last round wrote every line given */
    for (tb = l->threads; tb != NULL; tb = next) {
        next = tb->next;
        pthread_mutex_destroy(&tb->lock);
        free(tb->fill);
        free(tb->spare);
        free(tb);
    }
    pthread_cond_destroy(&l->wake);
    pthread_cond_destroy(&l->flushed);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

/* The calling thread's tbuf in l, made on its first line; NULL when out of memory. */
static struct tbuf *thread_buffer(struct reqlog *l)
{
    pthread_t self = pthread_self();
    struct tbuf *tb;

    if (mine.serial == l->serial)
        return mine.tb;
    pthread_mutex_lock(&l->lock);
    for (tb = l->threads; tb != NULL; tb = tb->next)
        if (pthread_equal(tb->owner, self))
            break;
    pthread_mutex_unlock(&l->lock);
    if (tb == NULL) {
        tb = calloc(1, sizeof(*tb));
        if (tb == NULL)
            return NULL;
        tb->fill = malloc(l->cap);
        tb->spare = malloc(l->cap);
        if (tb->fill == NULL || tb->spare == NULL) {
            free(tb->fill);
            free(tb->spare);
            free(tb);
            return NULL;
        }
        tb->owner = self;
        pthread_mutex_init(&tb->lock, NULL);
        pthread_mutex_lock(&l->lock);
        tb->next = l->threads;
        l->threads = tb;
        pthread_mutex_unlock(&l->lock);
    }
    mine.serial = l->serial;
    mine.tb = tb;
    return tb;
}

int reqlog_line(struct reqlog *l, const char *line, size_t len)
{
    struct tbuf *tb = thread_buffer(l);
    int taken = 0, kick = 0;

    if (tb != NULL) {
        pthread_mutex_lock(&tb->lock);
        if (tb->used + len <= l->cap) {
            memcpy(tb->fill + tb->used, line, len);
            tb->used += len;
            taken = 1;
        }
        kick = tb->used > l->cap / 2;
        pthread_mutex_unlock(&tb->lock);
    }
    if (!taken)
        atomic_fetch_add(&l->dropped, 1);
    if (kick && !atomic_exchange(&l->kicked, 1)) {
        pthread_mutex_lock(&l->lock); /* rare: once a buffer is half full */
        pthread_cond_signal(&l->wake);
        pthread_mutex_unlock(&l->lock);
    }
    return taken;
}

void reqlog_flush(struct reqlog *l)
{
    uint64_t round;

    pthread_mutex_lock(&l->lock);
    round = ++l->asked;
    pthread_cond_signal(&l->wake);
    while (l->done < round)
        pthread_cond_wait(&l->flushed, &l->lock);
    pthread_mutex_unlock(&l->lock);
}

uint64_t reqlog_dropped(struct reqlog *l)
{
    return atomic_load(&l->dropped);
}
