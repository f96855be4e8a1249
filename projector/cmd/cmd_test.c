/* `projector test CASES...`: mapping test cases, run set-based and one event per batch.
 *
 * Every case is read and checked before anything runs (a broken case is exit 2, not a failure).
 * Each case then runs twice in the scratch database (test_run.c): all events in one batch, and
 * one event per batch. Both states are compared with expected.json, and with each other: two
 * modes that disagree mean the read model depends on how events are batched. */
#include "cmd_test.h"

#include <dirent.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "errlist.h"
#include "mapping.h"
#include "service.h"
#include "strbuf.h"
#include "test_run.h"
#include "testcase.h"
#include "teststate.h"
#include "xalloc.h"

/* At most this many case directories on the command line. */
#define MAX_CASES 1024

/* The options of `projector test`. */
typedef struct test_opts {
    int update;        /* --update: write each case's actual state as its expected.json */
    const char *junit; /* --junit FILE: write JUnit XML there, or NULL */
    const char *cases[MAX_CASES]; /* case directories (a directory of cases stands for each) */
    size_t ncases;
} test_opts_t;

/* The two ways a case runs. */
static const struct {
    const char *name;
    int single;
} modes[] = {{"set-based", 0}, {"one event per batch", 1}};
#define NMODES (sizeof(modes) / sizeof(modes[0]))

static const teststate_labels_t mode_labels = {"only set-based has", "only one event per batch has",
                                               "set-based", "one event per batch"};

/* What one case gave. */
typedef struct outcome {
    json_t *state[NMODES];    /* NULL when the mode failed to run */
    char error[NMODES][1024]; /* why it failed to run */
    strbuf_t diff[NMODES];    /* against expected.json */
    size_t ndiff[NMODES];
    strbuf_t disagree; /* set-based against one event per batch */
    size_t ndisagree;
    double seconds[NMODES];
} outcome_t;

static int is_case(const char *dir)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof(path), "%s/events.ndjson", dir);
    return stat(path, &st) == 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Adds dir, or when it holds no events.ndjson each subdirectory that does (name order). */
static void expand(const char *dir, char ***out, size_t *n)
{
    struct dirent **names = NULL;
    int k = is_case(dir) ? -1 : scandir(dir, &names, NULL, by_name);
    for (int i = 0; i < k; i++) {
        char sub[4096];
        snprintf(sub, sizeof(sub), "%s/%s", dir, names[i]->d_name);
        if (names[i]->d_name[0] != '.' && is_case(sub)) {
            *out = xrealloc(*out, (*n + 1) * sizeof(**out));
            (*out)[(*n)++] = xstrdup(sub);
        }
        free(names[i]);
    }
    free(names);
    if (k < 0 || *n == 0) { /* a case, or nothing found: say so when it is loaded */
        *out = xrealloc(*out, (*n + 1) * sizeof(**out));
        (*out)[(*n)++] = xstrdup(dir);
    }
}

/* Loads the cases; returns how many, or 0 after printing every problem. */
static size_t load_cases(const test_opts_t *o, const char *topic, testcase_t ***cases)
{
    errlist_t *errs = errlist_new();
    char **dirs = NULL;
    size_t ndirs = 0, n = 0;
    for (size_t i = 0; i < o->ncases; i++)
        expand(o->cases[i], &dirs, &ndirs);
    *cases = xcalloc(ndirs + 1, sizeof(**cases));
    for (size_t i = 0; i < ndirs; i++) {
        testcase_t *c = testcase_load(dirs[i], topic, o->update, errs);
        if (c)
            (*cases)[n++] = c;
        free(dirs[i]);
    }
    free(dirs);
    if (errlist_count(errs)) {
        errlist_print(errs, stderr);
        for (size_t i = 0; i < n; i++)
            testcase_destroy((*cases)[i]);
        n = 0;
    }
    errlist_destroy(errs);
    return n;
}

/* Every topic an event names is consumed by a mapping; expected.json fits the mappings. */
static int check_cases(const test_run_t *r, const mapping_set_t *set, testcase_t **cases, size_t n)
{
    errlist_t *errs = errlist_new();
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        for (size_t e = 0; e < cases[i]->nevents; e++) {
            const testcase_event_t *ev = &cases[i]->events[e];
            int known = 0;
            for (size_t m = 0; m < mapping_set_count(set); m++)
                for (size_t t = 0; t < mapping_topic_count(mapping_set_get(set, m)); t++)
                    known |= strcmp(mapping_topic(mapping_set_get(set, m), t), ev->topic) == 0;
            snprintf(path, sizeof(path), "%s/events.ndjson", cases[i]->dir);
            if (!known)
                errlist_add(errs, path, NULL, "line %d: no mapping consumes topic %s", ev->line,
                            ev->topic);
        }
        snprintf(path, sizeof(path), "%s/expected.json", cases[i]->dir);
        if (cases[i]->expected)
            teststate_check(cases[i]->expected, test_run_keys(r), test_run_indices(r), path, errs);
    }
    int rc = errlist_count(errs) ? -1 : 0;
    errlist_print(errs, stderr);
    errlist_destroy(errs);
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs case c in both modes and compares. */
static void run_case(test_run_t *r, const testcase_t *c, int update, outcome_t *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t k = 0; k < NMODES; k++) {
        double t0 = now_s();
        out->state[k] = test_run_case(r, c, modes[k].single, out->error[k], sizeof(out->error[k]));
        out->seconds[k] = now_s() - t0;
        if (out->state[k] && !update)
            out->ndiff[k] = teststate_diff(c->expected, out->state[k], test_run_keys(r),
                                           &teststate_expected_labels, &out->diff[k]);
    }
    if (out->state[0] && out->state[1])
        out->ndisagree = teststate_diff(out->state[0], out->state[1], test_run_keys(r),
                                        &mode_labels, &out->disagree);
}

static void outcome_free(outcome_t *o)
{
    for (size_t k = 0; k < NMODES; k++) {
        json_decref(o->state[k]);
        strbuf_free(&o->diff[k]);
    }
    strbuf_free(&o->disagree);
}

/* Prints text's lines indented. */
static void print_lines(const char *title, const strbuf_t *text)
{
    printf("  %s:\n", title);
    for (const char *p = text->data; p && *p;) {
        size_t len = strcspn(p, "\n");
        printf("    %.*s\n", (int)len, p);
        p += len + (p[len] == '\n');
    }
}

static size_t count_rows(const json_t *state)
{
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(state, "tables"), k, v) n += json_array_size(v);
    return n;
}

static size_t count_docs(const json_t *state)
{
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(state, "documents"), k, v) n += json_object_size(v);
    return n;
}

/* Writes the set-based state as c's expected.json. Returns 0 or -1 after printing why. */
static int write_expected(const testcase_t *c, const outcome_t *o)
{
    char path[4096], err[1024];
    snprintf(path, sizeof(path), "%s/expected.json", c->dir);
    if (teststate_write(o->state[0], path, err, sizeof(err)) != 0) {
        printf("case %s: %s\n", c->name, err);
        return -1;
    }
    printf("case %s: %s written (%zu rows, %zu documents, %zu dead letters)\n", c->name, path,
           count_rows(o->state[0]), count_docs(o->state[0]),
           json_array_size(json_object_get(o->state[0], "dead_letters")));
    return 0;
}

/* Prints what case c gave. Returns 0 when it passed, 1 when not. */
static int report(const testcase_t *c, const outcome_t *o, int update)
{
    int errors = !o->state[0] || !o->state[1];
    int failed = errors || o->ndiff[0] || o->ndiff[1] || o->ndisagree;
    if (!failed) {
        if (!update)
            printf("case %s: ok (set-based and one event per batch)\n", c->name);
        return update ? write_expected(c, o) != 0 : 0;
    }
    if (update && o->state[0] && write_expected(c, o) != 0)
        errors = 1;
    printf("case %s: %s\n", c->name, errors ? "ERROR" : "FAILED");
    for (size_t k = 0; k < NMODES; k++)
        if (!o->state[k])
            printf("  %s: %s\n", modes[k].name, o->error[k]);
    if (!o->ndisagree && o->ndiff[0] && o->ndiff[1]) {
        print_lines("both modes (set-based and one event per batch)", &o->diff[0]);
    } else {
        for (size_t k = 0; k < NMODES; k++)
            if (o->ndiff[k])
                print_lines(modes[k].name, &o->diff[k]);
    }
    if (o->ndisagree)
        print_lines("set-based and one event per batch disagree (the read model depends on "
                    "how events are batched)",
                    &o->disagree);
    return 1;
}

/* Writes s escaped for XML text and attributes. */
static void xml_escaped(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '&')
            fputs("&amp;", f);
        else if (ch == '<')
            fputs("&lt;", f);
        else if (ch == '>')
            fputs("&gt;", f);
        else if (ch == '"')
            fputs("&quot;", f);
        else if (ch < 0x20 && ch != '\n' && ch != '\t')
            fputc('?', f);
        else
            fputc(ch, f);
    }
}

static void junit_case(FILE *f, const testcase_t *c, const outcome_t *o, size_t k)
{
    fprintf(f, "    <testcase classname=\"");
    xml_escaped(f, c->name);
    fprintf(f, "\" name=\"%s\" time=\"%.3f\"", modes[k].name, o->seconds[k]);
    if (!o->state[k]) {
        fprintf(f, ">\n      <error message=\"");
        xml_escaped(f, o->error[k]);
        fprintf(f, "\"/>\n    </testcase>\n");
        return;
    }
    if (!o->ndiff[k] && !o->ndisagree) {
        fprintf(f, "/>\n");
        return;
    }
    fprintf(f, ">\n      <failure message=\"%zu difference(s) from expected.json%s\">", o->ndiff[k],
            o->ndisagree ? "; the two modes disagree" : "");
    xml_escaped(f, o->diff[k].data);
    if (o->ndisagree) {
        fprintf(f, "set-based and one event per batch disagree:\n");
        xml_escaped(f, o->disagree.data);
    }
    fprintf(f, "</failure>\n    </testcase>\n");
}

/* Writes the JUnit XML report: one testcase per case and mode. Returns 0 or -1. */
static int write_junit(const char *path, testcase_t **cases, outcome_t *out, size_t n)
{
    size_t failures = 0, errors = 0;
    double total = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < NMODES; k++) {
            errors += !out[i].state[k];
            failures += out[i].state[k] && (out[i].ndiff[k] || out[i].ndisagree);
            total += out[i].seconds[k];
        }
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "projector test: --junit %s: cannot be written\n", path);
        return -1;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    fprintf(f,
            "  <testsuite name=\"projector test\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\""
            " time=\"%.3f\">\n",
            n * NMODES, failures, errors, total);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < NMODES; k++)
            junit_case(f, cases[i], &out[i], k);
    fprintf(f, "  </testsuite>\n</testsuites>\n");
    return fclose(f) == 0 ? 0 : -1;
}

/* Was SIGINT or SIGTERM received (blocked during the run, so the scratch database is dropped)? */
static int interrupted(void)
{
    sigset_t pending;
    sigpending(&pending);
    return sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM);
}

/* Runs the loaded cases; returns the exit code. */
static int run_all(test_run_t *r, testcase_t **cases, size_t n, const test_opts_t *o)
{
    outcome_t *out = xcalloc(n + 1, sizeof(*out));
    size_t failed = 0, ran = 0;
    for (; ran < n && !interrupted(); ran++) {
        run_case(r, cases[ran], o->update, &out[ran]);
        failed += (size_t)report(cases[ran], &out[ran], o->update);
        fflush(stdout); /* a case at a time, for whoever follows the output */
    }
    int rc = failed || ran < n ? EXIT_FAILURE_RUNTIME : EXIT_OK;
    if (ran < n)
        printf("interrupted: %zu of %zu case(s) not run\n", n - ran, n);
    printf("%zu case(s): %zu passed, %zu failed\n", ran, ran - failed, failed);
    if (o->junit && write_junit(o->junit, cases, out, ran) != 0)
        rc = EXIT_FAILURE_RUNTIME;
    for (size_t i = 0; i < n; i++)
        outcome_free(&out[i]);
    free(out);
    return rc;
}

/* cmd_args_spec_t.execute: runs the cases with the mappings and views of cfg in a database it
 * creates on cfg's server and drops afterwards (nothing is written to the database cfg names).
 * Returns 0 every case passed; 1 a case failed, or the database failed or may not be created; 2
 * invalid mappings, views or cases (each problem printed as "file: where: message"). */
static int execute(const config_t *cfg, const void *opts)
{
    const test_opts_t *o = opts;
    errlist_t *errs = errlist_new();
    mapping_set_t *set = mapping_set_load(config_str(cfg, CFG_MAPPINGS), errs);
    errlist_print(errs, stderr);
    errlist_destroy(errs);
    if (!set || !mapping_set_count(set)) {
        if (set)
            fprintf(stderr, "projector test: no mapping in %s\n", config_str(cfg, CFG_MAPPINGS));
        mapping_set_destroy(set);
        return EXIT_INVALID;
    }
    testcase_t **cases = NULL;
    size_t n = load_cases(o, mapping_topic(mapping_set_get(set, 0), 0), &cases);
    int rc = n ? EXIT_OK : EXIT_INVALID;
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigprocmask(SIG_BLOCK, &signals, NULL);
    test_run_t *r = n ? test_run_new(cfg, &rc) : NULL;
    if (r && check_cases(r, set, cases, n) != 0)
        rc = EXIT_INVALID;
    else if (r)
        rc = run_all(r, cases, n, o);
    if (r && test_run_destroy(r) != 0 && rc == EXIT_OK)
        rc = EXIT_FAILURE_RUNTIME;
    for (size_t i = 0; i < n; i++)
        testcase_destroy(cases[i]);
    free(cases);
    mapping_set_destroy(set);
    return rc;
}

/* cmd_args_spec_t.positional: every positional argument is a case directory. */
static int take_case(void *opts, const char *arg, char *errstr, size_t errstr_size)
{
    test_opts_t *o = opts;
    if (o->ncases == MAX_CASES) {
        snprintf(errstr, errstr_size, "at most %d case directories", MAX_CASES);
        return -1;
    }
    o->cases[o->ncases++] = arg;
    return 1;
}

/* cmd_args_spec_t.check: a case directory is named (unless for --help). */
static int check_cases_given(const void *opts, int help, char *errstr, size_t errstr_size)
{
    const test_opts_t *o = opts;
    if (o->ncases || help)
        return 0;
    snprintf(errstr, errstr_size,
             "name the case directories (projector test [--update] [--junit FILE] CASE_DIR...)");
    return -1;
}

/* The flags, each setting a field of test_opts_t. */
static const cmd_args_flag_t flags[] = {
    {"--update", NULL, offsetof(test_opts_t, update), NULL,
     "write each case's actual state (set-based) as its expected.json"},
    {"--junit", "FILE", offsetof(test_opts_t, junit), NULL,
     "write a JUnit XML report (one testcase per case and mode)"},
};

/* cmd_args_spec_t.usage: the usage line, the summary, the case directories and flags, how
 * the cases run. */
static void usage(FILE *out, const cmd_args_command_t *c)
{
    fprintf(out, "usage: projector test [--update] [--junit FILE] [options] CASE_DIR...\n\n%s.\n\n",
            c->summary);
    cmd_args_help_row(out, 14, "CASE_DIR",
                      "a directory with events.ndjson (one event a line: {\"value\": ...,\n"
                      "\"key\", \"headers\", \"topic\", \"partition\", \"timestamp\"}) and\n"
                      "expected.json ({\"tables\": {T: [rows]}, \"documents\": {I: {id:\n"
                      "doc}}, \"dead_letters\": [{\"line\": N, \"stage\": S}]}); a directory\n"
                      "without events.ndjson stands for each of its case directories");
    cmd_args_help_flags(out, 14, flags, sizeof(flags) / sizeof(flags[0]));
    fprintf(out,
            "\nEach case runs twice, all events in one batch and one event per batch, in a\n"
            "scratch database created on the --pg server and dropped afterwards (the role needs\n"
            "CREATEDB); both must give the expected state. Exit codes: 0 every case passed,\n"
            "1 a case failed (or the database failed), 2 invalid mappings, views or cases.\n\n");
}

static const cmd_args_spec_t spec = {
    .flags = flags,
    .nflags = sizeof(flags) / sizeof(flags[0]),
    .positional = take_case,
    .check = check_cases_given,
    .usage = usage,
    .execute = execute,
};

int cmd_test_main(const cmd_args_command_t *c, int argc, char **argv)
{
    test_opts_t o;
    memset(&o, 0, sizeof(o));
    return cmd_args_run(c, &spec, &o, argc, argv);
}
