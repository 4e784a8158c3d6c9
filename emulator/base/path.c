/* path.c -- route patterns matched against request paths. */
#include "path.h"

#include <string.h>

int path_match_len(const char *pattern, const char *path, size_t len, path_capture_fn *capture,
                   void *arg)
{
    const char *p = pattern, *s = path, *end = path + len;

    while (*p != '\0') {
        if (*p == '*') /* the rest of the path, whatever it is */
            return 1;
        if (*p == '{') {
            const char *close = strchr(p, '}');
            const char *seg_end = memchr(s, '/', (size_t)(end - s));
            size_t seg_len = seg_end ? (size_t)(seg_end - s) : (size_t)(end - s);

            if (close == NULL || seg_len == 0)
                return 0;
            if (capture != NULL && !capture(s, seg_len, arg))
                return 0;
            p = close + 1;
            s += seg_len;
            continue;
        }
        if (s == end || *p != *s)
            return 0;
        p++;
        s++;
    }
    return s == end;
}

size_t path_routed_length(const char *path)
{
    size_t len = strlen(path);

    return len > 1 && path[len - 1] == '/' ? len - 1 : len;
}

int path_match(const char *pattern, const char *path)
{
    return path_match_len(pattern, path, path_routed_length(path), NULL, NULL);
}
