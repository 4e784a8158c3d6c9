/* reqlog.c -- per-thread double buffers drained by one writer thread, merged in order.
 *
 * Each logging thread owns a struct tbuf: the buffer it fills and a spare. Its mutex is taken
 * by the owner for one memcpy and by the writer for one pointer swap, so a request waits for at
 * most a swap, never for a write(2). The tbufs hang on one list that only grows (a thread keeps
 * its tbuf for the life of the reqlog), so the writer walks it without a lock once it has read
 * the head. A thread finds its own tbuf through a thread-local pointer tagged with the reqlog's
 * serial number, so that a reqlog made later at the same address is not mistaken for the old
 * one.
 *
 * Every line is numbered from one counter while its thread holds its tbuf's lock. A round of
 * the writer reads the counter (the cut), takes every buffer and merges their lines by number:
 * a line numbered below the cut was copied before its buffer was taken, so all of them are in
 * hand and go out in order; a line numbered from the cut on raced the round and is carried
 * (already merged) into the next one, where it goes out in order with the rest. So the log is
 * in the order the lines were given, across threads too. */
#include "reqlog.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"

/* What precedes each line in a buffer (copied in and out with memcpy: it is not aligned). */
struct rec {
    uint64_t seq;
    size_t len;
};

/* The writer's output buffer: at least this, and at least one whole buffer. */
#define REQLOG_OUT_BYTES ((size_t)64 << 10)

struct tbuf {
    struct tbuf *next; /* set before the tbuf is published, never changed after */
    pthread_t owner;
    pthread_mutex_t lock; /* the owner's memcpy, the writer's swap */
    char *fill;           /* where the owner appends records */
    size_t used;
    char *spare; /* the writer's, between swaps */
};

/* Records being merged, oldest first. */
struct run {
    const char *at, *end;
};

struct reqlog {
    int fd;
    size_t cap; /* bytes in each of a tbuf's buffers */
    uint64_t serial;
    atomic_ullong seq; /* the next line's number */
    atomic_ullong dropped;
    atomic_int kicked; /* a buffer passed half full since the writer last looked */
    pthread_t writer;
    pthread_mutex_t lock; /* the fields up to stop */
    pthread_cond_t wake, flushed;
    struct tbuf *threads;
    size_t nthreads;
    uint64_t asked, done; /* flush rounds asked for by reqlog_flush, and finished */
    int stop;
    /* the writer's alone */
    struct run *runs;
    size_t runs_cap;
    char *carry, *carry_next; /* records of the next round, merged; and the one being filled */
    size_t carry_len, carry_cap, carry_next_cap;
    char *out;
    size_t out_used, out_cap;
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

static void out_put(struct reqlog *l, const char *text, size_t n)
{
    if (l->out_used + n > l->out_cap) {
        write_all(l, l->out, l->out_used);
        l->out_used = 0;
    }
    memcpy(l->out + l->out_used, text, n);
    l->out_used += n;
}

/* Index of the run whose next record has the lowest number, or -1 when all are spent. */
static int lowest(const struct run *runs, size_t n)
{
    uint64_t best_seq = 0;
    int best = -1;

    for (size_t i = 0; i < n; i++) {
        struct rec r;

        if (runs[i].at >= runs[i].end)
            continue;
        memcpy(&r, runs[i].at, sizeof(r));
        if (best < 0 || r.seq < best_seq) {
            best = (int)i;
            best_seq = r.seq;
        }
    }
    return best;
}

/* One round: takes the carried records and every tbuf's, writes those numbered below the cut in
 * order, and carries the rest to the next round (see the top of the file). */
static void drain(struct reqlog *l)
{
    uint64_t cut = atomic_load(&l->seq);
    struct tbuf *tb;
    size_t n, k = 0, total = l->carry_len, next_len = 0;
    char *swap;
    int can_carry;

    pthread_mutex_lock(&l->lock);
    tb = l->threads;
    n = l->nthreads;
    pthread_mutex_unlock(&l->lock);
    if (n + 1 > l->runs_cap) {
        struct run *grown = realloc(l->runs, sizeof(*grown) * (n + 1));

        if (grown != NULL) {
            l->runs = grown;
            l->runs_cap = n + 1;
        } else {
            n = l->runs_cap - 1; /* the other tbufs wait for a later round */
        }
    }
    if (l->carry_len > 0)
        l->runs[k++] = (struct run){l->carry, l->carry + l->carry_len};
    for (; tb != NULL && k < n + 1; tb = tb->next) {
        char *full;

        pthread_mutex_lock(&tb->lock);
        full = tb->fill;
        l->runs[k] = (struct run){full, full + tb->used};
        tb->fill = tb->spare;
        tb->used = 0;
        tb->spare = full;
        pthread_mutex_unlock(&tb->lock);
        total += (size_t)(l->runs[k].end - full);
        k += l->runs[k].end > full;
    }
    can_carry = total <= l->carry_next_cap;
    if (!can_carry && total > 0 && (swap = realloc(l->carry_next, total)) != NULL) {
        l->carry_next = swap;
        l->carry_next_cap = total;
        can_carry = 1;
    }
    for (int i; (i = lowest(l->runs, k)) >= 0;) {
        struct rec r;

        memcpy(&r, l->runs[i].at, sizeof(r));
        if (r.seq >= cut && can_carry) {
            memcpy(l->carry_next + next_len, l->runs[i].at, sizeof(r) + r.len);
            next_len += sizeof(r) + r.len;
        } else {
            out_put(l, l->runs[i].at + sizeof(r), r.len);
        }
        l->runs[i].at += sizeof(r) + r.len;
    }
    if (l->out_used > 0)
        write_all(l, l->out, l->out_used);
    l->out_used = 0;
    swap = l->carry;
    l->carry = l->carry_next;
    l->carry_next = swap;
    n = l->carry_cap;
    l->carry_cap = l->carry_next_cap;
    l->carry_next_cap = n;
    l->carry_len = next_len;
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
    l->out_cap = l->cap > REQLOG_OUT_BYTES ? l->cap : REQLOG_OUT_BYTES;
    l->out = malloc(l->out_cap);
    l->runs_cap = 16;
    l->runs = malloc(sizeof(*l->runs) * l->runs_cap);
    if (l->out == NULL || l->runs == NULL) {
        free(l->out);
        free(l->runs);
        free(l);
        return EMU_NOMEM;
    }
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
        free(l->out);
        free(l->runs);
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
    free(l->runs);
    free(l->carry);
    free(l->carry_next);
    free(l->out);
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
        l->nthreads++;
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
        if (tb->used + sizeof(struct rec) + len <= l->cap) {
            struct rec r = {atomic_fetch_add(&l->seq, 1), len};

            memcpy(tb->fill + tb->used, &r, sizeof(r));
            memcpy(tb->fill + tb->used + sizeof(r), line, len);
            tb->used += sizeof(r) + len;
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
