/* clock.h -- the emulator's notion of "now", and the formats it is written in.
 *
 * The clock is real time plus an offset, or frozen at an instant; rate-limit windows,
 * timestamps and the Date header all read it, so tests freeze and advance it instead of
 * sleeping. */
#ifndef EMU_CLOCK_H
#define EMU_CLOCK_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct clock {
    pthread_mutex_t lock;
    int frozen;         /* 1: now is frozen_ms */
    int64_t frozen_ms;  /* the instant, in ms since the epoch, while frozen */
    int64_t offset_ms;  /* added to real time while not frozen */
    int64_t initial_ms; /* the --clock instant, or -1 for real time; reset returns here */
};

/* Sets the clock from a --clock value: "real" or an RFC 3339 instant. EMU_INVALID if neither. */
int clock_init(struct clock *c, const char *spec);
void clock_destroy(struct clock *c);

/* Milliseconds since the epoch, by the emulator clock. */
int64_t clock_now_ms(struct clock *c);

/* The last instant the clock can show, 9999-12-31T23:59:59.999Z: every formatter writes four
 * digits of year. The first is the epoch, 0. */
#define CLOCK_MAX_MS 253402300799999LL

void clock_freeze(struct clock *c, int64_t at_ms);
/* Moves the clock forward (frozen or not) by ms. EMU_INVALID, and the clock is unchanged, when
 * ms is negative or now + ms would pass CLOCK_MAX_MS. */
int clock_advance(struct clock *c, int64_t ms);
/* Back to real time, with no offset. */
void clock_real(struct clock *c);
/* Back to what --clock said at start. */
void clock_restore_initial(struct clock *c);
int clock_is_frozen(struct clock *c);

/* Parses an RFC 3339 instant ("2026-01-01T00:00:00Z", "...T10:30:00.250+02:00") into ms since
 * the epoch. EMU_INVALID when malformed. */
int clock_parse_rfc3339(const char *s, int64_t *out_ms);

/* Formats ms as "2026-01-15T10:30:00.000Z" into buf (at least 25 bytes). */
void clock_format_iso_ms(int64_t ms, char *buf, size_t len);
/* Formats ms as "2026-01-15T10:30:00+00:00" into buf (at least 26 bytes). */
void clock_format_iso_offset(int64_t ms, char *buf, size_t len);
/* Formats ms as an HTTP date, "Thu, 15 Jan 2026 10:30:00 GMT", into buf (at least 30 bytes). */
void clock_format_http(int64_t ms, char *buf, size_t len);

#endif
