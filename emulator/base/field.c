/* field.c -- typed reads of request members (see field.h). */
#include "field.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Integers beyond 2^53 lose precision as JSON reals and as PHP floats; no vendor field needs
 * them, so they are refused rather than silently rounded. */
#define FIELD_MAX_INTEGER 9007199254740992LL

enum field_state field_state_of(const json_t *v, json_type type)
{
    if (v == NULL)
        return FIELD_ABSENT;
    if (json_is_null(v))
        return FIELD_NULL;
    return json_typeof(v) == type ? FIELD_OK : FIELD_WRONG_TYPE;
}

enum field_state field_string(const json_t *obj, const char *key, const char **out)
{
    const json_t *v = json_object_get(obj, key);
    enum field_state s = field_state_of(v, JSON_STRING);

    if (s == FIELD_OK)
        *out = json_string_value(v);
    return s;
}

static int integer_text(const char *s, json_int_t *out)
{
    const char *digits = (*s == '-' || *s == '+') ? s + 1 : s;
    size_t n = strlen(digits);
    long long value;
    char *end;

    if (n == 0 || n > 18 || strspn(digits, "0123456789") != n)
        return 0;
    errno = 0;
    value = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || value > FIELD_MAX_INTEGER || value < -FIELD_MAX_INTEGER)
        return 0;
    *out = (json_int_t)value;
    return 1;
}

enum field_state field_integer_of(const json_t *v, unsigned flags, json_int_t *out)
{
    if (v == NULL)
        return FIELD_ABSENT;
    if (json_is_null(v))
        return FIELD_NULL;
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);

        if (n > FIELD_MAX_INTEGER || n < -FIELD_MAX_INTEGER)
            return FIELD_WRONG_TYPE;
        *out = n;
        return FIELD_OK;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);

        if (!isfinite(d) || d != floor(d) || fabs(d) > (double)FIELD_MAX_INTEGER)
            return FIELD_WRONG_TYPE;
        *out = (json_int_t)d;
        return FIELD_OK;
    }
    if ((flags & FIELD_LENIENT) && json_is_string(v) && integer_text(json_string_value(v), out))
        return FIELD_OK;
    return FIELD_WRONG_TYPE;
}

enum field_state field_integer(const json_t *obj, const char *key, unsigned flags, json_int_t *out)
{
    return field_integer_of(json_object_get(obj, key), flags, out);
}

enum field_state field_boolean(const json_t *obj, const char *key, unsigned flags, int *out)
{
    const json_t *v = json_object_get(obj, key);
    const char *s = json_string_value(v);

    if (v == NULL)
        return FIELD_ABSENT;
    if (json_is_null(v))
        return FIELD_NULL;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return FIELD_OK;
    }
    if (!(flags & FIELD_LENIENT))
        return FIELD_WRONG_TYPE;
    if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
        *out = json_integer_value(v) == 1;
        return FIELD_OK;
    }
    if (s != NULL && strcmp(s, "1") == 0) {
        *out = 1;
        return FIELD_OK;
    }
    if (s != NULL && strcmp(s, "0") == 0) {
        *out = 0;
        return FIELD_OK;
    }
    return FIELD_WRONG_TYPE;
}

enum field_state field_number(const json_t *obj, const char *key, unsigned flags, double *out)
{
    const json_t *v = json_object_get(obj, key);
    const char *s = json_string_value(v);
    char *end;

    if (v == NULL)
        return FIELD_ABSENT;
    if (json_is_null(v))
        return FIELD_NULL;
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return isfinite(*out) ? FIELD_OK : FIELD_WRONG_TYPE;
    }
    if ((flags & FIELD_LENIENT) && s != NULL && *s != '\0') {
        errno = 0;
        *out = strtod(s, &end);
        if (errno == 0 && *end == '\0' && isfinite(*out))
            return FIELD_OK;
    }
    return FIELD_WRONG_TYPE;
}

enum field_state field_array(const json_t *obj, const char *key, json_t **out)
{
    json_t *v = json_object_get(obj, key);
    enum field_state s = field_state_of(v, JSON_ARRAY);

    if (s == FIELD_OK)
        *out = v;
    return s;
}

enum field_state field_object(const json_t *obj, const char *key, json_t **out)
{
    json_t *v = json_object_get(obj, key);
    enum field_state s = field_state_of(v, JSON_OBJECT);

    if (s == FIELD_OK)
        *out = v;
    return s;
}

int field_is_empty(const json_t *v)
{
    return v == NULL || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0);
}
