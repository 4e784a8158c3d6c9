/* journal.h -- every request and its answer, in memory, bounded by count and by bytes.
 *
 * Entries are kept oldest first and shown in the shape GET /__admin/requests gives (SPEC §8);
 * when a bound would be passed the oldest entries are dropped and counted, so memory
 * stays flat under any load and a reader can tell whether its window is complete. The admin
 * API itself is not journaled. */
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

/* Copies r into the journal, as raw bytes: the JSON is written only when someone reads it,
 * so keeping the journal costs a request little more than a copy. */
void journal_add(struct journal *j, const struct journal_record *r);

/* The matching entries, oldest first, at most limit (0: all) of the newest: *out is a new
 * array of entries. *total counts all matches; *dropped is the entries dropped since the last
 * clear. */
int journal_query(struct journal *j, const struct journal_filter *f, size_t limit, json_t **out,
                  size_t *total, uint64_t *dropped);
/* Writes the matching entries as NDJSON (one compact entry a line) into a new malloc'd text. */
int journal_ndjson(struct journal *j, const struct journal_filter *f, char **out, size_t *len);
/* How many entries match, and whether none was dropped since the last clear. */
void journal_count(struct journal *j, const struct journal_filter *f, size_t *count, int *complete);
void journal_clear(struct journal *j);
/* Entries held, bytes held, entries dropped since the last clear. */
void journal_stats(struct journal *j, size_t *entries, size_t *bytes, uint64_t *dropped);

#endif
