/* replay.h -- `understudy replay`: re-send a recorded journal and report what changed.
 *
 * The command is replay_main. Its parts are exported so they can be driven without a network:
 * replay_run reads the journal and hands each request to a send function (the HTTP client for
 * the command; anything that fills an answer for a test or a fuzz target). */
#ifndef EMU_REPLAY_H
#define EMU_REPLAY_H

#include <stdio.h>

#include <jansson.h>

struct http_answer;

#define REPLAY_MAX_IGNORED 32
#define REPLAY_MAX_HEADERS 64

struct replay_options {
    const char *file;                        /* the journal's path, for messages ("-": stdin) */
    const char *target;                      /* "http://HOST:PORT" */
    const char *headers[REPLAY_MAX_IGNORED]; /* response headers not compared */
    const char *fields[REPLAY_MAX_IGNORED];  /* dotted paths dropped from JSON bodies */
    int nheaders, nfields;
};

/* One recorded request, ready to send. Strings borrow from the entry it was built from. */
struct replay_request {
    char url[8192];
    const char *method;
    const char *lines[REPLAY_MAX_HEADERS]; /* "Name: value", pointing into buf */
    char buf[REPLAY_MAX_HEADERS][1024];
    int nlines;
    const char *body;
    size_t body_len;
};

/* Fills *out from a journal entry (borrowed; out borrows from it). EMU_INVALID when the entry
 * is not a request: no method or path as strings. */
int replay_build_request(const struct replay_options *o, const json_t *entry,
                         struct replay_request *out);

/* Prints to out every difference between the entry's recorded answer and a; returns how
 * many. */
int replay_compare(const struct replay_options *o, const json_t *entry, const struct http_answer *a,
                   FILE *out);

/* Sends one request and fills *a (freed by the caller with http_answer_clear). Returns 0, or
 * -1 when nothing answered (after writing why to errs). */
typedef int replay_send_fn(const struct replay_request *rq, struct http_answer *a, FILE *errs,
                           void *arg);

/* Reads the journal from in, one entry a line, sends each through send and prints differences
 * to out and unreadable lines to errs. Returns 0 when every answer matched, 1 otherwise. */
int replay_run(const struct replay_options *o, FILE *in, FILE *out, FILE *errs,
               replay_send_fn *send, void *arg);

/* Runs the command with its arguments (after "replay"). Returns the exit status: 0 when every
 * answer matched, 1 when any differed, 2 for bad arguments or an unreadable file. */
int replay_main(int argc, char **argv);

#endif
