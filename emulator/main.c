/* main.c -- the understudy command: the server, and its check, health and version commands.
 *
 * The server opens the store (a private temporary one without --data-dir), seeds it from the
 * fixtures when it is empty or --reset is given, starts HTTP, prints the ready line, and waits
 * for SIGTERM or SIGINT to stop: no new connections, requests in flight finish, LMDB is
 * flushed and closed, exit 0. Bad flags or fixtures: one sentence on stderr, exit 2. */
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "err.h"
#include "fixtures.h"
#include "http_client.h"
#include "http_server.h"
#include "journal.h"
#include "metrics.h"
#include "ratelimit.h"
#include "replay.h"
#include "scenario.h"
#include "store.h"
#include "tenants.h"
#include "vendor_list.h"
#include "vendors.h"
#include "webhooks.h"

#ifndef UNDERSTUDY_VERSION
#define UNDERSTUDY_VERSION "0.1.0"
#endif

#define EXIT_USAGE 2

static int make_temp_dir(struct app *app)
{
    const char *tmp = getenv("TMPDIR");

    snprintf(app->data_dir, sizeof(app->data_dir), "%s/understudy-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(app->data_dir) == NULL)
        return EMU_IO;
    app->data_dir_is_temp = 1;
    return EMU_OK;
}

static void remove_temp_dir(struct app *app)
{
    DIR *d;
    struct dirent *e;
    char path[PATH_MAX + 300];

    if (!app->data_dir_is_temp || (d = opendir(app->data_dir)) == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", app->data_dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(app->data_dir);
}

/* The built-in library, known; --scenarios files, known and active for every tenant. */
static int load_scenarios(struct app *app, char *err, size_t errlen)
{
    int rc = scenarios_new(&app->scenarios, app->cfg.seed);

    if (rc == EMU_OK)
        rc = scenarios_load_builtin(app->scenarios, err, errlen);
    for (int i = 0; rc == EMU_OK && i < app->cfg.nscenarios; i++)
        rc = scenarios_load_path(app->scenarios, app->cfg.scenarios[i], err, errlen);
    return rc == EMU_OK ? EMU_OK : EMU_IO; /* a bad file is a bad argument: exit 2 */
}

/* Opens the store and seeds it when it is new or --reset asks. */
static int open_store(struct app *app, char *err, size_t errlen)
{
    struct store_txn *txn;
    int rc;

    rc = store_open(&app->store, app->data_dir, app->cfg.map_size, vendors_store_tables(),
                    vendors_store_indexes());
    if (rc != EMU_OK) {
        snprintf(err, errlen, "cannot open the store in %s", app->data_dir);
        return rc;
    }
    rc = store_txn_begin(app->store, 1, &txn);
    if (rc == EMU_OK && tenants_need_rows(app->fixtures, txn) &&
        fixtures_complete(app->fixtures, err, errlen) != EMU_OK) {
        store_txn_abort(txn);
        return EMU_IO; /* bad fixtures are a bad argument: exit 2 */
    }
    if (rc == EMU_OK && (app->cfg.reset || !tenants_store_is_seeded(txn)))
        rc = tenants_seed(app->fixtures, txn, NULL);
    if (rc == EMU_OK)
        rc = store_txn_commit(txn);
    else
        store_txn_abort(txn);
    if (rc != EMU_OK)
        snprintf(err, errlen, "cannot seed the store: %s", emu_strerror(rc));
    return rc;
}

static void vendor_names(char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (int i = 0; vendor_list[i] != NULL; i++)
        if (vendor_list[i] != &vendor_admin && used < len)
            used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
                                     vendor_list[i]->name);
}

/* Every connection is a descriptor, and many clients (or a flood of idle ones) can hold more
 * than the usual soft limit of 1024: the soft limit is raised to the hard one. */
static void raise_open_files(void)
{
    struct rlimit lim;

    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
}

/* Reads the command line, the clock, the fixtures and the data directory: 0, or the exit code
 * after the reason is printed. */
static int configure(struct app *app, int argc, char **argv)
{
    char err[1024];

    if (config_parse(&app->cfg, argc, argv, err, sizeof(err)) != EMU_OK) {
        fprintf(stderr, "understudy: %s\n", err);
        return EXIT_USAGE;
    }
    if (clock_init(&app->clock, app->cfg.clock) != EMU_OK) {
        fprintf(stderr, "understudy: bad value for --clock: '%s' (real or RFC 3339)\n",
                app->cfg.clock);
        return EXIT_USAGE;
    }
    if (fixtures_open(&app->fixtures, app->cfg.fixtures_dir, err, sizeof(err)) != EMU_OK) {
        fprintf(stderr, "understudy: %s\n", err);
        return EXIT_USAGE;
    }
    if (app->cfg.data_dir != NULL) {
        snprintf(app->data_dir, sizeof(app->data_dir), "%s", app->cfg.data_dir);
    } else if (make_temp_dir(app) != EMU_OK) {
        fprintf(stderr, "understudy: cannot make a temporary data directory\n");
        return 1;
    }
    return 0;
}

/* Makes the rate limits, journal, metrics, scenarios, store and webhook worker, in that order;
 * err says which failed. */
static int open_parts(struct app *app, char *err, size_t errlen)
{
    int rc = ratelimit_new(&app->limits);

    if (rc == EMU_OK)
        rc = journal_new(&app->journal, app->cfg.journal_entries, app->cfg.journal_bytes);
    if (rc == EMU_OK && metrics_new(&app->metrics) != 0)
        rc = EMU_NOMEM;
    if (rc == EMU_OK)
        rc = load_scenarios(app, err, errlen);
    if (rc == EMU_OK)
        rc = open_store(app, err, errlen);
    if (rc == EMU_OK && webhooks_start(app, &app->webhooks) != EMU_OK) {
        snprintf(err, errlen, "cannot start the webhook worker");
        rc = EMU_INTERNAL;
    }
    return rc;
}

static void close_parts(struct app *app)
{
    webhooks_stop(app->webhooks);
    store_close(app->store);
    remove_temp_dir(app);
    ratelimit_free(app->limits);
    journal_free(app->journal);
    scenarios_free(app->scenarios);
    metrics_free(app->metrics);
    fixtures_free(app->fixtures);
    clock_destroy(&app->clock);
}

static int serve(int argc, char **argv)
{
    static struct app app; /* outlives every request thread */
    struct http_server *http = NULL;
    char err[1024], host[128], names[256];
    sigset_t stop_signals;
    int sig, rc;
    unsigned port;

    /* Every thread started from here on (webhooks, HTTP workers) inherits this mask, so only
     * the sigwait below sees the stop signals. */
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);
    raise_open_files();

    if ((rc = configure(&app, argc, argv)) != 0)
        return rc;
    if ((rc = open_parts(&app, err, sizeof(err))) != EMU_OK) {
        fprintf(stderr, "understudy: %s\n", err);
        remove_temp_dir(&app);
        return rc == EMU_IO ? EXIT_USAGE : 1;
    }
    atomic_store(&app.ready, 1);

    if (http_server_start(&app, &http, err, sizeof(err)) != EMU_OK) {
        fprintf(stderr, "understudy: %s\n", err);
        webhooks_stop(app.webhooks);
        store_close(app.store);
        remove_temp_dir(&app);
        return EXIT_USAGE;
    }
    config_listen_split(&app.cfg, host, sizeof(host), &port);
    vendor_names(names, sizeof(names));
    printf("understudy ready on http://%s:%u (%s)\n", host, http_server_port(http), names);

    sigwait(&stop_signals, &sig);
    http_server_stop(http);
    close_parts(&app);
    return 0;
}

/* understudy check --data-dir DIR: every index of the store in DIR agrees with its table. */
static int check_data_dir(const char *dir)
{
    static char report[8192];
    struct store *st;
    int rc;

    if (access(dir, R_OK | W_OK | X_OK) != 0) {
        fprintf(stderr, "understudy: check: %s is not a data directory\n", dir);
        return 1;
    }
    /* LMDB takes the larger of this and the file's own size. */
    rc = store_open(&st, dir, (size_t)1 << 30, vendors_store_tables(), vendors_store_indexes());
    if (rc != EMU_OK) {
        fprintf(stderr, "understudy: check: cannot open the store in %s: %s\n", dir,
                emu_strerror(rc));
        return 1;
    }
    rc = store_check(st, report, sizeof(report));
    store_close(st);
    if (rc == EMU_INVALID) {
        fprintf(stderr, "%s: the indexes disagree with their tables:\n%s", dir, report);
        return 1;
    }
    if (rc != EMU_OK) {
        fprintf(stderr, "understudy: check: %s: %s\n", dir, emu_strerror(rc));
        return 1;
    }
    printf("%s: ok\n", dir);
    return 0;
}

static int check(int argc, char **argv)
{
    char err[1024];
    int failed = 0;

    if (argc == 0) {
        fprintf(stderr, "usage: understudy check PATH... | understudy check --data-dir DIR\n");
        return EXIT_USAGE;
    }
    if (strcmp(argv[0], "--data-dir") == 0) {
        if (argc != 2) {
            fprintf(stderr, "usage: understudy check --data-dir DIR\n");
            return EXIT_USAGE;
        }
        return check_data_dir(argv[1]);
    }
    for (int i = 0; i < argc; i++) {
        int rc = scenario_is_scenario_file(argv[i])
                     ? scenario_check_path(argv[i], err, sizeof(err))
                     : fixtures_check_path(argv[i], err, sizeof(err));

        if (rc != EMU_OK) {
            fprintf(stderr, "%s\n", err);
            failed = 1;
        } else {
            printf("%s: ok\n", argv[i]);
        }
    }
    return failed;
}

static int health(int argc, char **argv)
{
    const char *base = argc > 0 ? argv[0] : "http://127.0.0.1:8080";
    int status = 0;
    int rc = http_client_probe(base, "/__admin/health", &status);

    if (rc == EMU_INVALID) {
        fprintf(stderr, "understudy: health: '%s' is not http://HOST:PORT\n", base);
        return EXIT_USAGE;
    }
    if (rc != EMU_OK || status != 200) {
        fprintf(stderr, "understudy: health: %s\n", rc != EMU_OK ? "no answer" : "not healthy");
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";

    setvbuf(stdout, NULL, _IOLBF, 0);
    vendor_list_register(); /* before anything reads fixtures, tables or routes */
    if (strcmp(cmd, "check") == 0)
        return check(argc - 2, argv + 2);
    if (strcmp(cmd, "health") == 0)
        return health(argc - 2, argv + 2);
    if (strcmp(cmd, "replay") == 0)
        return replay_main(argc - 2, argv + 2);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("understudy %s\n", UNDERSTUDY_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        config_usage();
        return 0;
    }
    return serve(argc - 1, argv + 1);
}
