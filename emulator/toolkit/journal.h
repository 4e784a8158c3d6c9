/* journal.h -- every request and its answer, in memory, bounded by count and by bytes.
 *
 * Entries are kept oldest first and shown in the shape GET /__admin/requests gives (see the
 * README); when a bound would be passed the oldest entries are dropped and counted, so memory stays
 * flat under any load and a reader can tell whether its window is complete. The admin API itself is
 * not journaled. */
#ifndef EMU_JOURNAL_H
#define EMU_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct journal;

struct journal_filter {
    const char *tenant, *vendor, *method; /* NULL: any */
    const char *path;                     /* a route pattern ({param}, *), or NULL */
    int status;                           /* 0: any */
};

/* One exchange as it happened. Nothing is borrowed after journal_add returns. Headers are
 * "Name: value\r\n" lines; query and scenario may be NULL. */
struct journal_record {
    int64_t time_ms, duration_us;
    const char *tenant, *vendor, *method, *path, *query, *scenario;
    const char *request_headers, *request_body, *response_headers, *response_body;
    size_t request_headers_len, request_body_len, response_headers_len, response_body_len;
    int status;
};

int journal_new(struct journal **out, size_t max_entries, size_t max_bytes);
void journal_free(struct journal *j);

/* Copies r into the journal, as raw bytes in one allocation made before the lock is taken:
 * the JSON is written only when someone reads it, and the lock is held only to link the copy,
 * so keeping the journal costs a request little more than a copy. */
void journal_add(struct journal *j, const struct journal_record *r);

/* A read renders at most journal_read_budget() bytes of entries: --journal-max-bytes, and
 * never less than this, so a small journal can still show a large entry. */
#define JOURNAL_READ_MIN_BUDGET ((size_t)1 << 20)

/* Renders the matching entries, oldest first, at most limit (0: all) of the newest, into a new
 * malloc'd text (*out, *len bytes): as GET /__admin/requests answers,
 * {"requests":[...],"total":N,"dropped":D}, or with ndjson one compact entry a
 * line. total counts every match, dropped the entries dropped since the last clear. When the
 * entries' text would pass the read budget the oldest are left out and "truncated":true is added
 * (in NDJSON the lines simply start later). A read holds the journal's lock only to take the
 * head and the tail, never while it picks or renders, so requests are never held up by a read;
 * reads render one at a time, so all of them together hold about two budgets of memory at
 * most. */
int journal_render(struct journal *j, const struct journal_filter *f, size_t limit, int ndjson,
                   char **out, size_t *len);
/* The bytes of entry text one read may render (see journal_render). */
size_t journal_read_budget(const struct journal *j);
/* How many entries match, and whether none was dropped since the last clear. */
void journal_count(struct journal *j, const struct journal_filter *f, size_t *count, int *complete);
void journal_clear(struct journal *j);
/* Entries held, bytes held, entries dropped since the last clear. */
void journal_stats(struct journal *j, size_t *entries, size_t *bytes, uint64_t *dropped);

#endif
