/* field.h -- typed reads of the members of a request's JSON body, form or query.
 *
 * This is the one way a handler reads a field a client sent: a client can put any JSON type in
 * any member, so every read says which of four things it found -- nothing, null, a value of the
 * wrong type, or a usable value (then in *out) -- and no handler ever touches a value of a type
 * it did not ask for. Each vendor turns the first three into its own validation sentence.
 *
 * FIELD_LENIENT reads as Laravel's rules do (and as form and query values must be read, since
 * they are always strings): "12" is an integer; 1, 0, "1" and "0" are booleans. */
#ifndef EMU_FIELD_H
#define EMU_FIELD_H

#include <jansson.h>

enum field_state {
    FIELD_ABSENT = 0, /* no such member (or obj is not an object) */
    FIELD_NULL,       /* the member is JSON null */
    FIELD_WRONG_TYPE, /* present, not null, not of the asked type (or out of range) */
    FIELD_OK,         /* present and of the asked type: *out holds it */
};

enum field_flags {
    FIELD_LENIENT = 1 << 0, /* numeric strings are integers; 1, 0, "1", "0" booleans */
};

/* The state of a value already in hand (v may be NULL: absent), for the asked JSON type. */
enum field_state field_state_of(const json_t *v, json_type type);

/* A JSON string; *out borrowed from obj. */
enum field_state field_string(const json_t *obj, const char *key, const char **out);
/* A whole number that fits in 53 bits: a JSON integer, an integral JSON real, or with
 * FIELD_LENIENT an optionally signed string of at most 18 digits. Anything else, 1e400 and
 * 9.5 included, is FIELD_WRONG_TYPE. */
enum field_state field_integer(const json_t *obj, const char *key, unsigned flags, json_int_t *out);
/* The same rules for a value in hand (an array element, a query value as a JSON string). */
enum field_state field_integer_of(const json_t *v, unsigned flags, json_int_t *out);
/* A JSON true/false; with FIELD_LENIENT also 1/0 and "1"/"0" (Laravel's boolean rule: the
 * strings "true" and "false" are refused). */
enum field_state field_boolean(const json_t *obj, const char *key, unsigned flags, int *out);
/* A JSON number (integer or real), as a double; with FIELD_LENIENT a numeric string too. */
enum field_state field_number(const json_t *obj, const char *key, unsigned flags, double *out);
/* A JSON array / object; *out borrowed from obj. */
enum field_state field_array(const json_t *obj, const char *key, json_t **out);
enum field_state field_object(const json_t *obj, const char *key, json_t **out);

/* 1 when v is absent, null or the empty string: what Laravel's "required" refuses. */
int field_is_empty(const json_t *v);

#endif
