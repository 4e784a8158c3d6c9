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
        "       understudy check --data-dir DIR\n"
        "       understudy health [BASE_URL]\n"
        "       understudy replay FILE --target URL [--ignore-header NAME]... "
        "[--ignore-field PATH]...\n"
        "       understudy version\n\noptions (each also UNDERSTUDY_NAME in the environment):\n");
    for (size_t i = 0; i < NOPTS; i++)
        printf("  --%-22s %s\n", opts[i].flag, opts[i].help);
}

/* Whether val is one of choices ("a|b|c"). */
static int in_choices(const char *choices, const char *val)
{
    size_t len = strlen(val);
    const char *p = choices;

    while (p != NULL) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);

        if (n == len && strncmp(p, val, len) == 0)
            return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

static int set_flag(int *dst, const char *val)
{
    if (strcmp(val, "1") == 0 || strcmp(val, "true") == 0 || strcmp(val, "yes") == 0)
        *dst = 1;
    else if (strcmp(val, "0") == 0 || strcmp(val, "false") == 0 || strcmp(val, "no") == 0)
        *dst = 0;
    else
        return 0;
    return 1;
}

/* A decimal number into base, typed and bounded by o's kind; 0 when val is not one. */
static int set_number(const struct opt *o, char *base, const char *val)
{
    unsigned long long n;
    char *end;

    if (!isdigit((unsigned char)*val))
        return 0;
    errno = 0;
    n = strtoull(val, &end, 10);
    if (errno != 0 || *end != '\0')
        return 0;
    if (o->kind == OPT_U64) {
        *(uint64_t *)base = n;
    } else if (o->kind == OPT_COUNT) { /* 0 is allowed: journal nothing */
        *(size_t *)base = (size_t)n;
    } else if (o->kind == OPT_SIZE) {
        if (n == 0)
            return 0;
        *(size_t *)base = (size_t)n;
    } else if (o->kind == OPT_MS) { /* an hour at most */
        if (n == 0 || n > 3600000)
            return 0;
        *(unsigned *)base = (unsigned)n;
    } else {
        if (n == 0 || n > 4096)
            return 0;
        *(unsigned *)base = (unsigned)n;
    }
    return 1;
}

static int set_value(struct config *c, const struct opt *o, const char *val, char *err,
                     size_t errlen)
{
    char *base = (char *)c + o->offset;
    int ok = 0;

    switch (o->kind) {
    case OPT_STRING:
    case OPT_ENUM:
        ok = o->kind == OPT_STRING ? *val != '\0' : in_choices(o->choices, val);
        if (ok)
            *(const char **)base = val;
        break;
    case OPT_LISTEN:
        ok = strlen(val) < sizeof(c->listen);
        if (ok) {
            strcpy(c->listen, val);
            ok = config_listen_split(c, NULL, 0, NULL) == EMU_OK;
        }
        break;
    case OPT_LIST:
        ok = c->nscenarios < CONFIG_MAX_SCENARIOS && *val != '\0';
        if (ok)
            c->scenarios[c->nscenarios++] = val;
        break;
    case OPT_FLAG:
        ok = set_flag((int *)base, val);
        break;
    case OPT_U64:
    case OPT_UINT:
    case OPT_MS:
    case OPT_SIZE:
    case OPT_COUNT:
        ok = set_number(o, base, val);
        break;
    }
    if (ok)
        return EMU_OK;
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

static void set_defaults(struct config *c)
{
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
}

/* Each option from its UNDERSTUDY_<FLAG> variable, when set. */
static int from_environment(struct config *c, char *err, size_t errlen)
{
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
        if (set_value(c, &opts[i], val, err, errlen) != EMU_OK) {
            snprintf(err, errlen, "bad value in %s: '%s'", name, val);
            return EMU_INVALID;
        }
    }
    return webhook_pauses_from_env(c, err, errlen);
}

/* The --flag value, --flag=value and bare --flag arguments. */
static int from_flags(struct config *c, int argc, char **argv, char *err, size_t errlen)
{
    int list_from_flags = 0;

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
        if (set_value(c, o, val, err, errlen) != EMU_OK)
            return EMU_INVALID;
    }
    return EMU_OK;
}

int config_parse(struct config *c, int argc, char **argv, char *err, size_t errlen)
{
    int rc;

    set_defaults(c);
    /* The environment first, so that flags parsed after it win. */
    rc = from_environment(c, err, errlen);
    return rc == EMU_OK ? from_flags(c, argc, argv, err, errlen) : rc;
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
