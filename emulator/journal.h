/* journal.h -- every request and its answer, in memory, bounded by count and by bytes.
 *
 * Entries are kept oldest first as compact JSON in the shape GET /__admin/requests shows
 * (SPEC §8); when a bound would be passed the oldest entries are dropped and counted, so memory
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

int journal_new(struct journal **out, size_t max_entries, size_t max_bytes);
void journal_free(struct journal *j);

/* Adds entry (stolen) for a request of tenant/vendor/method/path answered status. */
void journal_add(struct journal *j, json_t *entry, const char *tenant, const char *vendor,
                 const char *method, const char *path, int status);

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
