/* test_reqlog.c -- the request log's writer: every line of every thread arrives, in its thread's
 * order, and lines given one after the other by different threads in the order given; lines are
 * written without an explicit flush and all of them at reqlog_free; a writer that falls behind
 * drops lines and counts them instead of growing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "reqlog.h"

#define THREADS 6
#define LINES   3000

/* A new empty file that is already unlinked: its descriptor is all that is left of it. */
static int temp_fd(void)
{
    char path[] = "/tmp/test_reqlog.XXXXXX";
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    unlink(path);
    return fd;
}

/* The file's whole text (new, NUL-terminated). */
static char *slurp(int fd, size_t *len)
{
    off_t size = lseek(fd, 0, SEEK_END);
    char *text = malloc((size_t)size + 1);

    assert_non_null(text);
    assert_int_equal(pread(fd, text, (size_t)size, 0), size);
    text[size] = '\0';
    *len = (size_t)size;
    return text;
}

struct writer_arg {
    struct reqlog *log;
    int id;
};

static void *write_lines(void *p)
{
    struct writer_arg *a = p;
    char line[64];

    for (int i = 0; i < LINES; i++) {
        int n = snprintf(line, sizeof(line), "t%d %d\n", a->id, i);

        assert_int_equal(reqlog_line(a->log, line, (size_t)n), 1);
    }
    return NULL;
}

/* Checks that text holds each thread's LINES lines, each thread's in order. */
static void check_complete_and_ordered(char *text)
{
    int next[THREADS] = {0};
    char *save = NULL;

    for (char *l = strtok_r(text, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        int id, i;

        assert_int_equal(sscanf(l, "t%d %d", &id, &i), 2);
        assert_true(id >= 0 && id < THREADS);
        assert_int_equal(i, next[id]);
        next[id]++;
    }
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(next[t], LINES);
}

static void test_every_line_in_thread_order(void **state)
{
    struct reqlog *log;
    pthread_t tids[THREADS];
    struct writer_arg args[THREADS];
    int fd = temp_fd();
    size_t len;
    char *text;

    (void)state;
    /* buffers that hold all of a thread's lines: none is dropped however late the writer is */
    assert_int_equal(reqlog_new(&log, fd, (size_t)256 << 10), EMU_OK);
    for (int t = 0; t < THREADS; t++) {
        args[t].log = log;
        args[t].id = t;
        assert_int_equal(pthread_create(&tids[t], NULL, write_lines, &args[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(tids[t], NULL);
    reqlog_flush(log);
    assert_int_equal(reqlog_dropped(log), 0);
    text = slurp(fd, &len);
    check_complete_and_ordered(text);
    free(text);
    reqlog_free(log);
    close(fd);
}

/* Two threads taking turns: line i is given by thread i % 2, after line i - 1 was given. */
struct turns {
    struct reqlog *log;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int next; /* the line to give next */
    atomic_int done;
};

static void *flush_often(void *p)
{
    struct turns *t = p;

    while (!atomic_load(&t->done))
        reqlog_flush(t->log);
    return NULL;
}

struct turn_arg {
    struct turns *t;
    int parity;
};

static void *take_turns(void *p)
{
    struct turn_arg *a = p;
    struct turns *t = a->t;
    char line[32];

    for (int i = a->parity; i < 2 * LINES; i += 2) {
        int n = snprintf(line, sizeof(line), "%d\n", i);

        pthread_mutex_lock(&t->lock);
        while (t->next != i)
            pthread_cond_wait(&t->changed, &t->lock);
        pthread_mutex_unlock(&t->lock);
        assert_int_equal(reqlog_line(t->log, line, (size_t)n), 1);
        pthread_mutex_lock(&t->lock);
        t->next++;
        pthread_cond_broadcast(&t->changed);
        pthread_mutex_unlock(&t->lock);
    }
    return NULL;
}

static void test_lines_across_threads_in_order(void **state)
{
    struct turns t = {.next = 0};
    struct turn_arg args[2] = {{&t, 0}, {&t, 1}};
    pthread_t tids[2], flusher;
    int fd = temp_fd(), expect = 0;
    size_t len;
    char *text, *save = NULL;

    (void)state;
    /* buffers that hold all of a thread's lines, and a thread that makes the writer take them
     * again and again while the lines are given */
    assert_int_equal(reqlog_new(&t.log, fd, (size_t)256 << 10), EMU_OK);
    pthread_mutex_init(&t.lock, NULL);
    pthread_cond_init(&t.changed, NULL);
    atomic_init(&t.done, 0);
    assert_int_equal(pthread_create(&flusher, NULL, flush_often, &t), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&tids[i], NULL, take_turns, &args[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(tids[i], NULL);
    atomic_store(&t.done, 1);
    pthread_join(flusher, NULL);
    reqlog_free(t.log);
    text = slurp(fd, &len);
    for (char *l = strtok_r(text, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save))
        assert_int_equal(atoi(l), expect++);
    assert_int_equal(expect, 2 * LINES);
    free(text);
    pthread_mutex_destroy(&t.lock);
    pthread_cond_destroy(&t.changed);
    close(fd);
}

static void test_written_without_flush_and_at_free(void **state)
{
    struct reqlog *log;
    int fd = temp_fd();
    size_t len = 0;
    char *text;

    (void)state;
    assert_int_equal(reqlog_new(&log, fd, 0), EMU_OK);
    assert_int_equal(reqlog_line(log, "first\n", 6), 1);
    /* the writer takes it on its own: waited for here up to 5 s, though it takes 100 ms */
    for (int waited = 0; waited < 500 && (len = (size_t)lseek(fd, 0, SEEK_END)) == 0; waited++)
        usleep(10000);
    assert_int_equal(len, 6);
    for (int i = 0; i < 100; i++)
        assert_int_equal(reqlog_line(log, "later\n", 6), 1);
    reqlog_free(log); /* no flush: freeing writes what is left */
    text = slurp(fd, &len);
    assert_int_equal(len, 6 + 100 * 6);
    assert_memory_equal(text, "first\nlater\n", 12);
    free(text);
    close(fd);
}

/* Reads the pipe to its end, counting lines. */
static void *count_lines(void *p)
{
    int fd = *(int *)p;
    char buf[4096];
    ssize_t n;
    size_t *lines = calloc(1, sizeof(*lines));

    while ((n = read(fd, buf, sizeof(buf))) > 0)
        for (ssize_t i = 0; i < n; i++)
            *lines += buf[i] == '\n';
    return lines;
}

static void test_full_buffer_drops_and_counts(void **state)
{
    struct reqlog *log;
    int pipefd[2];
    pthread_t reader;
    size_t *received, given = 20000, taken = 0;
    char big[2048];
    void *result;

    (void)state;
    assert_int_equal(pipe(pipefd), 0);
    fcntl(pipefd[1], F_SETPIPE_SZ, 4096); /* nobody reads yet: the writer soon blocks */
    assert_int_equal(reqlog_new(&log, pipefd[1], 1024), EMU_OK);
    memset(big, 'x', sizeof(big));
    big[sizeof(big) - 1] = '\n';
    assert_int_equal(reqlog_line(log, big, sizeof(big)), 0); /* larger than a buffer */
    for (size_t i = 0; i < given; i++)
        taken += (size_t)reqlog_line(log, "a line of thirty-two bytes ....\n", 32);
    assert_true(taken < given);
    assert_int_equal(reqlog_dropped(log), given - taken + 1);
    assert_int_equal(pthread_create(&reader, NULL, count_lines, &pipefd[0]), 0);
    reqlog_free(log);
    close(pipefd[1]);
    pthread_join(reader, &result);
    received = result;
    assert_int_equal(*received, taken); /* every line taken was written, no more */
    free(received);
    close(pipefd[0]);
}

static void test_two_logs_in_turn(void **state)
{
    struct reqlog *a, *b;
    int fa = temp_fd(), fb = temp_fd();
    size_t len;
    char *text;

    (void)state;
    /* one thread, two logs: each line goes to the log it was given to */
    assert_int_equal(reqlog_new(&a, fa, 0), EMU_OK);
    assert_int_equal(reqlog_new(&b, fb, 0), EMU_OK);
    for (int i = 0; i < 3; i++) {
        reqlog_line(a, "a\n", 2);
        reqlog_line(b, "b\n", 2);
    }
    reqlog_free(a);
    reqlog_free(b);
    text = slurp(fa, &len);
    assert_string_equal(text, "a\na\na\n");
    free(text);
    text = slurp(fb, &len);
    assert_string_equal(text, "b\nb\nb\n");
    free(text);
    close(fa);
    close(fb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_line_in_thread_order),
        cmocka_unit_test(test_lines_across_threads_in_order),
        cmocka_unit_test(test_written_without_flush_and_at_free),
        cmocka_unit_test(test_full_buffer_drops_and_counts),
        cmocka_unit_test(test_two_logs_in_turn),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
