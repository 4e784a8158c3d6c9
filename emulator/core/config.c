/* config.c -- option table, flag and environment parsing, usage text. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

enum opt_kind {
    OPT_STRING,
    OPT_LISTEN,
    OPT_SIZE,
    OPT_COUNT,
    OPT_U64,
    OPT_UINT,
    OPT_MS,
    OPT_FLAG,
    OPT_ENUM,
    OPT_LIST
};

struct opt {
    const char *flag; /* without the leading dashes */
    enum opt_kind kind;
    size_t offset;       /* of the field in struct config */
    const char *choices; /* OPT_ENUM: the allowed values, '|'-separated */
    const char *help;
};

#define OFF(field) offsetof(struct config, field)

/* flag           kind        field              choices             help */
static const struct opt opts[] = {
    {"listen", OPT_LISTEN, OFF(listen), NULL,
     "HOST:PORT or [IPv6]:PORT to listen on (127.0.0.1:8080)"},
    {"data-dir", OPT_STRING, OFF(data_dir), NULL, "LMDB directory kept across restarts"},
    {"fixtures", OPT_STRING, OFF(fixtures_dir), NULL, "fixtures directory (built-in ones)"},
    {"scenarios", OPT_LIST, OFF(scenarios), NULL, "scenario file or directory, repeatable"},
    {"seed", OPT_U64, OFF(seed), NULL, "seed of every generated id (0)"},
    {"clock", OPT_STRING, OFF(clock), NULL, "real, or an RFC 3339 instant to freeze at"},
    {"admin-token", OPT_STRING, OFF(admin_token), NULL, "bearer token for /__admin"},
    {"log", OPT_ENUM, OFF(log), "text|json|off", "request log format (text)"},
    {"threads", OPT_UINT, OFF(threads), NULL, "worker threads = connections served at once (96)"},
    {"request-timeout-ms", OPT_MS, OFF(request_timeout_ms), NULL,
     "longest wait for a request's head, or within its body (10000)"},
    {"keep-alive-timeout-ms", OPT_MS, OFF(keep_alive_timeout_ms), NULL,
     "longest an idle keep-alive connection stays open (5000)"},
    {"max-body", OPT_SIZE, OFF(max_body), NULL, "largest request body in bytes (1048576)"},
    {"map-size", OPT_SIZE, OFF(map_size), NULL, "largest store in bytes (1073741824)"},
    {"reset", OPT_FLAG, OFF(reset), NULL, "reseed the store from the fixtures at start"},
    {"journal-max-entries", OPT_COUNT, OFF(journal_entries), NULL, "requests journaled (10000)"},
    {"journal-max-bytes", OPT_SIZE, OFF(journal_bytes), NULL, "journal bytes (67108864)"},
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

void config_usage(void)
{
    printf(
        "usage: understudy [options]\n"
        "       understudy check PATH...\n"
        "       understudy health [BASE_URL]\n"
        "       understudy replay FILE --target URL [--ignore-header NAME]... "
        "[--ignore-field PATH]...\n"
        "       understudy version\n\noptions (each also UNDERSTUDY_NAME in the environment):\n");
    for (size_t i = 0; i < NOPTS; i++)
        printf("  --%-22s %s\n", opts[i].flag, opts[i].help);
}

static int set_value(struct config *c, const struct opt *o, const char *val, char *err,
                     size_t errlen)
{
    char *base = (char *)c + o->offset, *end;
    unsigned long long n;

    switch (o->kind) {
    case OPT_STRING:
        if (*val == '\0')
            goto bad;
        *(const char **)base = val;
        return EMU_OK;
    case OPT_LISTEN:
        if (strlen(val) >= sizeof(c->listen))
            goto bad;
        strcpy(c->listen, val);
        if (config_listen_split(c, NULL, 0, NULL) != EMU_OK)
            goto bad;
        return EMU_OK;
    case OPT_LIST:
        if (c->nscenarios == CONFIG_MAX_SCENARIOS || *val == '\0')
            goto bad;
        c->scenarios[c->nscenarios++] = val;
        return EMU_OK;
    case OPT_ENUM: {
        size_t len = strlen(val);
        const char *p = o->choices;

        while (p != NULL) {
            const char *bar = strchr(p, '|');
            size_t n2 = bar ? (size_t)(bar - p) : strlen(p);

            if (n2 == len && strncmp(p, val, len) == 0) {
                *(const char **)base = val;
                return EMU_OK;
            }
            p = bar ? bar + 1 : NULL;
        }
        goto bad;
    }
    case OPT_FLAG:
        if (strcmp(val, "1") == 0 || strcmp(val, "true") == 0 || strcmp(val, "yes") == 0)
            *(int *)base = 1;
        else if (strcmp(val, "0") == 0 || strcmp(val, "false") == 0 || strcmp(val, "no") == 0)
            *(int *)base = 0;
        else
            goto bad;
        return EMU_OK;
    case OPT_U64:
    case OPT_UINT:
    case OPT_MS:
    case OPT_SIZE:
    case OPT_COUNT:
        if (!isdigit((unsigned char)*val))
            goto bad;
        errno = 0;
        n = strtoull(val, &end, 10);
        if (errno != 0 || *end != '\0')
            goto bad;
        if (o->kind == OPT_U64) {
            *(uint64_t *)base = n;
        } else if (o->kind == OPT_COUNT) { /* 0 is allowed: journal nothing */
            *(size_t *)base = (size_t)n;
        } else if (o->kind == OPT_SIZE) {
            if (n == 0)
                goto bad;
            *(size_t *)base = (size_t)n;
        } else if (o->kind == OPT_MS) { /* an hour at most */
            if (n == 0 || n > 3600000)
                goto bad;
            *(unsigned *)base = (unsigned)n;
        } else {
            if (n == 0 || n > 4096)
                goto bad;
            *(unsigned *)base = (unsigned)n;
        }
        return EMU_OK;
    }
bad:
    snprintf(err, errlen, "bad value for --%s: '%s'", o->flag, val);
    return EMU_INVALID;
}

/* UNDERSTUDY_WEBHOOK_RETRY_MS, for tests only (see config.h): "A,B", two pauses in
 * milliseconds, each at most an hour. Unset leaves the defaults. */
static int webhook_pauses_from_env(struct config *c, char *err, size_t errlen)
{
    const char *val = getenv("UNDERSTUDY_WEBHOOK_RETRY_MS"), *p = val;
    unsigned long long n[2] = {0, 0};

    for (int i = 0; val != NULL && i < 2; i++) {
        char *end;

        if (!isdigit((unsigned char)*p))
            goto bad;
        errno = 0;
        n[i] = strtoull(p, &end, 10);
        if (errno != 0 || n[i] > 3600000 || *end != (i == 0 ? ',' : '\0'))
            goto bad;
        p = end + 1;
    }
    if (val != NULL) {
        c->webhook_pauses_ms[0] = (unsigned)n[0];
        c->webhook_pauses_ms[1] = (unsigned)n[1];
    }
    return EMU_OK;
bad:
    snprintf(err, errlen, "bad value in UNDERSTUDY_WEBHOOK_RETRY_MS: '%s' (\"A,B\" in ms)", val);
    return EMU_INVALID;
}

static const struct opt *find_flag(const char *name, size_t len)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (strlen(opts[i].flag) == len && strncmp(opts[i].flag, name, len) == 0)
            return &opts[i];
    return NULL;
}

int config_parse(struct config *c, int argc, char **argv, char *err, size_t errlen)
{
    int rc, list_from_flags = 0;

    memset(c, 0, sizeof(*c));
    strcpy(c->listen, "127.0.0.1:8080");
    c->clock = "real";
    c->log = "text";
    c->threads = 96;
    c->request_timeout_ms = 10000;
    c->keep_alive_timeout_ms = 5000;
    c->max_body = 1048576;
    c->map_size = (size_t)1 << 30;
    c->journal_entries = 10000;
    c->journal_bytes = (size_t)64 << 20;
    c->webhook_pauses_ms[0] = 1000;
    c->webhook_pauses_ms[1] = 2000;

    /* The environment first, so that flags parsed after it win. */
    for (size_t i = 0; i < NOPTS; i++) {
        char name[64] = "UNDERSTUDY_";
        size_t n = strlen(name);
        const char *val;

        for (const char *p = opts[i].flag; *p != '\0' && n < sizeof(name) - 1; p++)
            name[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
        name[n] = '\0';
        val = getenv(name);
        if (val == NULL)
            continue;
        rc = set_value(c, &opts[i], val, err, errlen);
        if (rc != EMU_OK) {
            snprintf(err, errlen, "bad value in %s: '%s'", name, val);
            return rc;
        }
    }
    rc = webhook_pauses_from_env(c, err, errlen);
    if (rc != EMU_OK)
        return rc;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i], *eq, *val;
        const struct opt *o;

        if (strncmp(arg, "--", 2) != 0) {
            snprintf(err, errlen, "unexpected argument '%s'", arg);
            return EMU_INVALID;
        }
        arg += 2;
        eq = strchr(arg, '=');
        o = find_flag(arg, eq ? (size_t)(eq - arg) : strlen(arg));
        if (o == NULL) {
            snprintf(err, errlen, "unknown option '%s' (see understudy --help)", argv[i]);
            return EMU_INVALID;
        }
        if (eq != NULL)
            val = eq + 1;
        else if (o->kind == OPT_FLAG)
            val = "1";
        else if (i + 1 < argc)
            val = argv[++i];
        else {
            snprintf(err, errlen, "--%s needs a value", o->flag);
            return EMU_INVALID;
        }
        if (o->kind == OPT_LIST && !list_from_flags) { /* flags replace the variable's list */
            c->nscenarios = 0;
            list_from_flags = 1;
        }
        rc = set_value(c, o, val, err, errlen);
        if (rc != EMU_OK)
            return rc;
    }
    return EMU_OK;
}

int config_listen_split(const struct config *c, char *host, size_t hostlen, unsigned *port)
{
    const char *colon = strrchr(c->listen, ':');
    char *end;
    unsigned long p;

    if (colon == NULL || colon == c->listen || colon[1] == '\0')
        return EMU_INVALID;
    p = strtoul(colon + 1, &end, 10);
    if (*end != '\0' || p > 65535 || !isdigit((unsigned char)colon[1]))
        return EMU_INVALID;
    if (host != NULL) {
        size_t n = (size_t)(colon - c->listen);

        if (n >= hostlen)
            return EMU_INVALID;
        memcpy(host, c->listen, n);
        host[n] = '\0';
    }
    if (port != NULL)
        *port = (unsigned)p;
    return EMU_OK;
}
