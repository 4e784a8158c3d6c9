/* config.h -- the server's options, from flags and UNDERSTUDY_* environment variables.
 *
 * Every flag --some-name has the variable UNDERSTUDY_SOME_NAME; a flag wins over its variable.
 * The option list is one table in config.c, which also prints the usage text. One variable has
 * no flag and is not in the usage text because it is for tests only:
 * UNDERSTUDY_WEBHOOK_RETRY_MS="A,B" makes the webhook worker pause A then B milliseconds
 * between attempts instead of 1000 then 2000, so that a test of retries need not wait on real
 * time (each 0 to 3600000). */
#ifndef EMU_CONFIG_H
#define EMU_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_SCENARIOS 32

struct config {
    char listen[128];         /* "HOST:PORT", or "[IPv6]:PORT" */
    const char *data_dir;     /* NULL: a private temporary environment removed at exit */
    const char *fixtures_dir; /* NULL: the fixtures built into the binary */
    const char *scenarios[CONFIG_MAX_SCENARIOS]; /* files or directories activated at start */
    int nscenarios;
    uint64_t seed;
    const char *clock;              /* "real" or an RFC 3339 instant */
    const char *admin_token;        /* NULL: admin calls are open */
    const char *log;                /* "text", "json" or "off" */
    unsigned threads;               /* civetweb worker threads: one per open connection; past 7/8 of
                                     * them busy, answers close their connection and idle ones end */
    unsigned request_timeout_ms;    /* civetweb's: a request's head, or a pause in its body */
    unsigned keep_alive_timeout_ms; /* how long an idle keep-alive connection is kept */
    size_t max_body;                /* bytes; a larger body is answered 413 */
    size_t map_size;                /* bytes of LMDB map: the most the store can hold */
    int reset;                      /* 1: reseed the store from the fixtures at start */
    size_t journal_entries;         /* the most requests the journal holds */
    size_t journal_bytes;           /* the most bytes the journal holds */
    unsigned webhook_pauses_ms[2];  /* between webhook attempts: 1000, 2000 unless a test says */
};

/* Fills c from argv (argv[0] and any subcommand already skipped) and the environment. Strings
 * in c are borrowed from argv or the environment. On a bad flag or value returns EMU_INVALID
 * with one sentence in err. */
int config_parse(struct config *c, int argc, char **argv, char *err, size_t errlen);

/* Splits c->listen into host and port. EMU_INVALID when it is not HOST:PORT. */
int config_listen_split(const struct config *c, char *host, size_t hostlen, unsigned *port);

/* Prints the usage text to stdout. */
void config_usage(void);

#endif
