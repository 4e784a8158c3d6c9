/* reqlog.h -- the request log's writer: lines handed in by many threads, written by one.
 *
 * A thread that logs copies its line into a buffer of its own and goes on: it never waits for
 * the file descriptor, a slow terminal or a full pipe. A background thread swaps each buffer
 * for an empty one at least every REQLOG_FLUSH_MS (sooner when one fills up) and writes what
 * it took, merged so that the lines reach the descriptor in the order they were given, across
 * threads too. Memory is bounded: two buffers per logging thread, and the writer's own (at
 * most as much again). When a thread's buffer is full because the writer fell behind, the
 * line is dropped and counted (reqlog_dropped), never queued. */
#ifndef EMU_REQLOG_H
#define EMU_REQLOG_H

#include <stddef.h>
#include <stdint.h>

struct reqlog;

/* The longest a line waits in a buffer before the writer takes it. */
#define REQLOG_FLUSH_MS 100
/* The default size of each of a thread's two buffers. */
#define REQLOG_BUFFER_BYTES ((size_t)32 << 10)

/* Starts the writer thread for lines written to fd (which stays the caller's: it is not
 * closed). Each thread that logs gets two buffers of buffer_bytes (0: REQLOG_BUFFER_BYTES)
 * on its first line. EMU_NOMEM, or EMU_IO when the thread cannot start. */
int reqlog_new(struct reqlog **out, int fd, size_t buffer_bytes);

/* Writes every line given so far, stops the writer and frees l and every buffer. No thread
 * may call reqlog_line on l from now on. */
void reqlog_free(struct reqlog *l);

/* Copies the len bytes of line (which should end in '\n') into the calling thread's buffer;
 * the line is borrowed only for the call. Returns 1 when the line was taken, 0 when it was
 * dropped (the buffer is full, the line is larger than a buffer, or out of memory). */
int reqlog_line(struct reqlog *l, const char *line, size_t len);

/* Waits until every line given before the call (by any thread) has been written. */
void reqlog_flush(struct reqlog *l);

/* Lines dropped so far, including those a failed write lost. */
uint64_t reqlog_dropped(struct reqlog *l);

#endif
