/* path.h -- route patterns matched against request paths.
 *
 * A pattern is a path whose segments may be "{name}" (captures one non-empty segment) or, at
 * the end, "*" (the rest of the path, whatever it is). A trailing slash of the path routes like
 * the path without it, as Express (non-strict routing) and Laravel both route it. The router
 * matches route tables with it; the journal and scenarios filter requests with it. */
#ifndef EMU_PATH_H
#define EMU_PATH_H

#include <stddef.h>

/* Called for each "{name}" segment captured, in order: seg is the segment's len bytes (not
 * NUL-terminated). Return 1 to go on, 0 to fail the match (too many, too long). */
typedef int path_capture_fn(const char *seg, size_t len, void *arg);

/* The length of path that routes: the whole path, a trailing slash aside. */
size_t path_routed_length(const char *path);

/* 1 when the first len bytes of path match pattern; each capture goes to capture when it is
 * not NULL. */
int path_match_len(const char *pattern, const char *path, size_t len, path_capture_fn *capture,
                   void *arg);

/* 1 when path (a trailing slash aside) matches pattern. */
int path_match(const char *pattern, const char *path);

#endif
