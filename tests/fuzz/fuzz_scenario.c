/* fuzz_scenario.c -- libFuzzer target: the scenario loader and checker on arbitrary text, and
 * what a scenario that loads does to requests.
 *
 * The input is a scenario file. It is checked as `understudy check` checks it and loaded as
 * --scenarios loads it (known and active for every tenant); when it loads, a fixed set of
 * requests, one or more per vendor, runs through the dispatcher naming it in
 * X-Understudy-Scenario, so its rules match, count, fire and override answers, and the admin
 * API describes it. Every answer passes fuzz_check_answer, and a scenario that loads must not
 * carry a respond header that would split an answer (a name that is not a token, a CR, LF or NUL
 * in a value). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "err.h"
#include "fuzz_app.h"
#include "jsonx.h"
#include "scenario.h"

static char file[PATH_MAX];

static void remove_file(void)
{
    unlink(file);
}

struct canned {
    const char *method, *path, *query, *auth_name, *auth_value, *body;
};

/* Requests the scenarios in the library and the tests match on. */
static const struct canned requests[] = {
    {"GET", "/api/v2/contacts", "page=1", "Authorization", "Bearer wm_demo_full", ""},
    {"POST", "/api/v2/messages/text", NULL, "Authorization", "Bearer wm_demo_unlimited",
     "{\"phone\":\"+15551001001\",\"message\":\"hi\"}"},
    {"POST", "/v1/status/search", "auth_token=cv_demo_token&status=A", NULL, NULL, ""},
    {"POST", "/contacts", NULL, "X-API-Key", "gua_demo0001_key",
     "{\"phoneNumber\":\"+15551234567\",\"name\":\"x\"}"},
    {"GET", "/contacts", "limit=2", "X-API-Key", "gua_demo0001_key", ""},
    {"GET", "/__admin/scenarios", NULL, NULL, NULL, ""},
    {"GET", "/__admin/metrics", NULL, NULL, NULL, ""},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct app *app;
    char err[1024], named[128];
    json_t *doc;
    FILE *f;

    if (app == NULL) {
        const char *tmp = getenv("TMPDIR");
        int fd;

        app = fuzz_app();
        snprintf(file, sizeof(file), "%s/understudy-fuzz-XXXXXX.json", tmp && *tmp ? tmp : "/tmp");
        fd = mkstemps(file, 5);
        if (fd < 0)
            abort();
        close(fd);
        atexit(remove_file);
    } else {
        fuzz_app_reset(app);
    }
    f = fopen(file, "w");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();

    err[0] = '\0';
    if (scenario_check_path(file, err, sizeof(err)) != EMU_OK && err[0] == '\0') {
        fprintf(stderr, "fuzz: scenario_check_path failed without a sentence\n");
        abort();
    }
    /* A store of scenarios of its own each time, so names do not pile up over a long run. */
    scenarios_free(app->scenarios);
    if (scenarios_new(&app->scenarios, app->cfg.seed) != EMU_OK)
        abort();
    err[0] = '\0';
    if (scenarios_load_path(app->scenarios, file, err, sizeof(err)) != EMU_OK) {
        if (err[0] == '\0') {
            fprintf(stderr, "fuzz: scenarios_load_path failed without a sentence\n");
            abort();
        }
        return 0;
    }
    /* It loaded: name it in every request, as a client would. */
    doc = json_loadb((const char *)data, size, 0, NULL);
    fuzz_check_scenario_headers(doc);
    snprintf(named, sizeof(named), "%s",
             jsonx_string(doc, "name") ? jsonx_string(doc, "name") : "");
    json_decref(doc);
    for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
        const struct canned *c = &requests[i];
        struct fuzz_request r = {.method = c->method,
                                 .path = c->path,
                                 .query = c->query,
                                 .body = c->body,
                                 .body_len = strlen(c->body)};

        if (c->auth_name != NULL) {
            r.header_names[r.nheaders] = c->auth_name;
            r.header_values[r.nheaders++] = c->auth_value;
        }
        r.header_names[r.nheaders] = "Content-Type";
        r.header_values[r.nheaders++] = "application/json";
        r.header_names[r.nheaders] = "X-Understudy-Scenario";
        r.header_values[r.nheaders++] = named;
        fuzz_dispatch(app, &r);
    }
    return 0;
}
