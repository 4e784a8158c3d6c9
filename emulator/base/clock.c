/* clock.c -- a freezable clock, and RFC 3339 and HTTP date formatting.
 *
 * Time arithmetic is done on UTC civil dates with the days-from-civil algorithm, so nothing
 * here depends on the machine's time zone or locale. */
#include "clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err.h"

static int64_t real_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int clock_init(struct clock *c, const char *spec)
{
    int64_t at = -1;

    if (spec != NULL && strcmp(spec, "real") != 0 &&
        (clock_parse_rfc3339(spec, &at) != EMU_OK || at < 0 || at > CLOCK_MAX_MS))
        return EMU_INVALID; /* before 1970 would read as "real" below */
    pthread_mutex_init(&c->lock, NULL);
    c->initial_ms = at;
    c->offset_ms = 0;
    c->frozen = at >= 0;
    c->frozen_ms = at >= 0 ? at : 0;
    return EMU_OK;
}

void clock_destroy(struct clock *c)
{
    pthread_mutex_destroy(&c->lock);
}

int64_t clock_now_ms(struct clock *c)
{
    int64_t now;

    pthread_mutex_lock(&c->lock);
    now = c->frozen ? c->frozen_ms : real_ms() + c->offset_ms;
    pthread_mutex_unlock(&c->lock);
    return now;
}

void clock_freeze(struct clock *c, int64_t at_ms)
{
    pthread_mutex_lock(&c->lock);
    c->frozen = 1;
    c->frozen_ms = at_ms;
    pthread_mutex_unlock(&c->lock);
}

int clock_advance(struct clock *c, int64_t ms)
{
    int64_t now;
    int rc = EMU_INVALID;

    pthread_mutex_lock(&c->lock);
    now = c->frozen ? c->frozen_ms : real_ms() + c->offset_ms;
    if (ms >= 0 && now <= CLOCK_MAX_MS - ms) { /* written so the sum itself cannot overflow */
        if (c->frozen)
            c->frozen_ms += ms;
        else
            c->offset_ms += ms;
        rc = EMU_OK;
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

void clock_real(struct clock *c)
{
    pthread_mutex_lock(&c->lock);
    c->frozen = 0;
    c->offset_ms = 0;
    pthread_mutex_unlock(&c->lock);
}

void clock_restore_initial(struct clock *c)
{
    pthread_mutex_lock(&c->lock);
    c->offset_ms = 0;
    c->frozen = c->initial_ms >= 0;
    c->frozen_ms = c->initial_ms >= 0 ? c->initial_ms : 0;
    pthread_mutex_unlock(&c->lock);
}

int clock_is_frozen(struct clock *c)
{
    int frozen;

    pthread_mutex_lock(&c->lock);
    frozen = c->frozen;
    pthread_mutex_unlock(&c->lock);
    return frozen;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    int64_t era;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

int clock_parse_rfc3339(const char *s, int64_t *out_ms)
{
    int y, mo, d, h, mi, sec, ms = 0, oh = 0, om = 0, sign = 0;
    const char *p;

    if (s == NULL || strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
        !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
        !digits(s + 17, 2, &sec))
        return EMU_INVALID;
    p = s + 19;
    if (*p == '.') {
        int scale = 100;

        p++;
        if (*p < '0' || *p > '9')
            return EMU_INVALID;
        for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
            ms += (*p - '0') * scale;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '+' ? 1 : -1;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om))
            return EMU_INVALID;
        p += 6;
    } else {
        return EMU_INVALID;
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 ||
        oh > 23 || om > 59)
        return EMU_INVALID;
    *out_ms = (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
               sign * (oh * 3600 + om * 60)) *
                  1000 +
              ms;
    return EMU_OK;
}

static void split(int64_t ms, int *y, int *mo, int *d, int *h, int *mi, int *s, int *msr, int *wd)
{
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int64_t rem = secs - days * 86400;

    civil_from_days(days, y, mo, d);
    *h = (int)(rem / 3600);
    *mi = (int)(rem % 3600 / 60);
    *s = (int)(rem % 60);
    *msr = (int)(ms - secs * 1000);
    *wd = (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday (4) */
}

void clock_format_iso_ms(int64_t ms, char *buf, size_t len)
{
    int y, mo, d, h, mi, s, msr, wd;

    split(ms, &y, &mo, &d, &h, &mi, &s, &msr, &wd);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, mo, d, h, mi, s, msr);
}

void clock_format_iso_offset(int64_t ms, char *buf, size_t len)
{
    int y, mo, d, h, mi, s, msr, wd;

    split(ms, &y, &mo, &d, &h, &mi, &s, &msr, &wd);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d+00:00", y, mo, d, h, mi, s);
}

void clock_format_http(int64_t ms, char *buf, size_t len)
{
    static const char *const wdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int y, mo, d, h, mi, s, msr, wd;

    split(ms, &y, &mo, &d, &h, &mi, &s, &msr, &wd);
    snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d GMT", wdays[wd], d, months[mo - 1], y, h,
             mi, s);
}
