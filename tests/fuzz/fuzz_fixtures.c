/* fuzz_fixtures.c -- libFuzzer target: the fixture loader and checker on arbitrary text.
 *
 * A temporary directory holds a copy of the built-in fixture set. The input's first byte picks
 * one of its files (tenants.json or a vendor table's file), the rest replaces that file's text;
 * then the set is loaded as --fixtures loads it, the file is checked alone as `understudy check`
 * checks it, and a set that loads is seeded into the store (in a transaction that is then
 * aborted, so every input starts from the same store). The file is put back afterwards. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "embedded.h"
#include "err.h"
#include "fixtures.h"
#include "fuzz_app.h"
#include "store.h"
#include "tenants.h"

static char dir[PATH_MAX];
static const struct embedded_file *files[64];
static int nfiles;

static void remove_dir(void)
{
    char path[PATH_MAX + 300], sub[PATH_MAX + 300];

    for (int i = 0; i < nfiles; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]->name);
        unlink(path);
        if (strchr(files[i]->name, '/') != NULL) {
            snprintf(sub, sizeof(sub), "%s/%.*s", dir,
                     (int)(strchr(files[i]->name, '/') - files[i]->name), files[i]->name);
            rmdir(sub);
        }
    }
    rmdir(dir);
}

static void write_file(const char *name, const void *data, size_t len)
{
    char path[PATH_MAX + 300];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "fuzz: cannot write %s\n", path);
        abort();
    }
}

static void copy_builtin_set(void)
{
    const char *tmp = getenv("TMPDIR");
    char sub[PATH_MAX + 300];

    snprintf(dir, sizeof(dir), "%s/understudy-fuzz-fixtures-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL)
        abort();
    atexit(remove_dir);
    for (const struct embedded_file *e = embedded_fixtures; e->name && nfiles < 64; e++) {
        const char *slash = strchr(e->name, '/');

        if (slash != NULL) {
            snprintf(sub, sizeof(sub), "%s/%.*s", dir, (int)(slash - e->name), e->name);
            mkdir(sub, 0700);
        }
        write_file(e->name, e->data, e->len);
        files[nfiles++] = e;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct app *app;
    const struct embedded_file *target;
    struct fixtures *fx = NULL;
    char err[1024], path[PATH_MAX + 300];

    if (app == NULL) {
        app = fuzz_app();
        copy_builtin_set();
    }
    if (size == 0)
        return 0;
    target = files[data[0] % nfiles];
    write_file(target->name, data + 1, size - 1);
    err[0] = '\0';

    if (fixtures_load(&fx, dir, err, sizeof(err)) == EMU_OK) {
        struct store_txn *txn;
        int rc;

        if (store_txn_begin(app->store, 1, &txn) != EMU_OK)
            abort();
        rc = tenants_seed(fx, txn, NULL);
        store_txn_abort(txn);
        if (rc != EMU_OK) { /* the server would refuse to start on a set its checker passed */
            fprintf(stderr, "fuzz: a set that loads fails to seed: %s\n", emu_strerror(rc));
            abort();
        }
        fixtures_free(fx);
    } else if (fx != NULL) {
        fprintf(stderr, "fuzz: fixtures_load failed but returned a set\n");
        abort();
    } else if (strlen(err) == 0) {
        fprintf(stderr, "fuzz: fixtures_load failed without a sentence\n");
        abort();
    }
    snprintf(path, sizeof(path), "%s/%s", dir, target->name);
    err[0] = '\0';
    if (fixtures_check_path(path, err, sizeof(err)) != EMU_OK && strlen(err) == 0) {
        fprintf(stderr, "fuzz: fixtures_check_path failed without a sentence\n");
        abort();
    }
    write_file(target->name, target->data, target->len);
    return 0;
}
