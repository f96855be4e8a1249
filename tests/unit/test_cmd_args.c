/* Unit tests of the command-line walker (cmd_args_run()): a command's own flags and positional
 * arguments from its table, the values of the settings' flags skipped whole, and what is
 * refused (exit code 2) or only prints --help (exit code 0, nothing run). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmd_args.h"
#include "support.h"

/* The options of the command under test. */
typedef struct opts {
    int flag;         /* --flag */
    const char *name; /* --name VALUE */
    long num;         /* --num N, through a handler */
    const char *pos[2];
    size_t npos;
} opts_t;

static int set_num(void *o, const char *value, char *errstr, size_t errstr_size)
{
    char *end;
    ((opts_t *)o)->num = strtol(value, &end, 10);
    if (*end || !*value) {
        snprintf(errstr, errstr_size, "--num takes a number");
        return -1;
    }
    return 0;
}

/* At most two positional arguments; a third is left to the settings, which refuse it. */
static int take_pos(void *o, const char *arg, char *errstr, size_t errstr_size)
{
    opts_t *p = o;
    (void)errstr, (void)errstr_size;
    if (p->npos == 2)
        return 0;
    p->pos[p->npos++] = arg;
    return 1;
}

static int need_pos(const void *o, int help, char *errstr, size_t errstr_size)
{
    if (((const opts_t *)o)->npos || help)
        return 0;
    snprintf(errstr, errstr_size, "name a thing");
    return -1;
}

/* What the command ran with. */
static opts_t seen;
static char seen_pg[256];
static int ran;

static int record(const config_t *cfg, const void *o)
{
    const char *pg = config_str(cfg, CFG_PG);
    seen = *(const opts_t *)o;
    snprintf(seen_pg, sizeof(seen_pg), "%s", pg ? pg : "");
    ran = 1;
    return 0;
}

static const cmd_args_flag_t flags[] = {
    {"--flag", NULL, offsetof(opts_t, flag), NULL, "a flag"},
    {"--name", "VALUE", offsetof(opts_t, name), NULL, "a value"},
    {"--num", "N", 0, set_num, NULL},
};

static const cmd_args_spec_t spec = {
    .flags = flags,
    .nflags = sizeof(flags) / sizeof(flags[0]),
    .positional = take_pos,
    .check = need_pos,
    .execute = record,
};

static const cmd_args_command_t command = {"thing", NULL, "do a thing", NULL};

typedef struct args_row {
    const char *argv; /* the arguments, separated by spaces */
    int rc;           /* the exit code */
    int ran;          /* 1: the command ran, with the options below */
    int flag;
    const char *name; /* NULL: not set */
    long num;
    const char *pos0, *pos1; /* NULL: none */
    const char *pg;          /* the pg setting it ran with (when given) */
} args_row_t;

static const args_row_t args_rows[] = {
    {"a", 0, 1, 0, NULL, 0, "a", NULL, NULL},
    {"a b", 0, 1, 0, NULL, 0, "a", "b", NULL},
    /* a setting's value is never a positional argument */
    {"a --pg x b", 0, 1, 0, NULL, 0, "a", "b", "x"},
    {"--pg x a", 0, 1, 0, NULL, 0, "a", NULL, "x"},
    {"--pg=x a", 0, 1, 0, NULL, 0, "a", NULL, "x"},
    {"-X client.id=c a", 0, 1, 0, NULL, 0, "a", NULL, NULL},
    {"--mappings m --views v a", 0, 1, 0, NULL, 0, "a", NULL, NULL},
    /* the command's own flags, with and without values */
    {"--flag a", 0, 1, 1, NULL, 0, "a", NULL, NULL},
    {"a --flag", 0, 1, 1, NULL, 0, "a", NULL, NULL},
    {"--name v a", 0, 1, 0, "v", 0, "a", NULL, NULL},
    {"--name=v a", 0, 1, 0, "v", 0, "a", NULL, NULL},
    {"a --name -v", 0, 1, 0, "-v", 0, "a", NULL, NULL},
    {"a --name a b", 0, 1, 0, "a", 0, "a", "b", NULL},
    {"--num 5 a", 0, 1, 0, NULL, 5, "a", NULL, NULL},
    {"--num=7 a --flag --pg y", 0, 1, 1, NULL, 7, "a", NULL, "y"},
    /* refused */
    {"", 2, 0, 0, NULL, 0, NULL, NULL, NULL},
    {"--flag", 2, 0, 0, NULL, 0, NULL, NULL, NULL},
    {"--num x a", 2, 0, 0, NULL, 0, NULL, NULL, NULL},
    {"a --name", 2, 0, 0, NULL, 0, NULL, NULL, NULL},
    {"a --flag=1", 2, 0, 0, NULL, 0, NULL, NULL, NULL},
    {"a b c", 2, 0, 0, NULL, 0, NULL, NULL, NULL},
    {"--bogus a", 2, 0, 0, NULL, 0, NULL, NULL, NULL},
    {"a --pg", 2, 0, 0, NULL, 0, NULL, NULL, NULL},
    {"a -X", 2, 0, 0, NULL, 0, NULL, NULL, NULL},
    {"a -X novalue", 2, 0, 0, NULL, 0, NULL, NULL, NULL},
    {"a --config", 2, 0, 0, NULL, 0, NULL, NULL, NULL},
    {"--config /nonexistent/projector.json a", 2, 0, 0, NULL, 0, NULL, NULL, NULL},
    {"a --batch-max-events 0", 2, 0, 0, NULL, 0, NULL, NULL, NULL},
    /* --help wins over what is missing or unknown, and runs nothing */
    {"--help", 0, 0, 0, NULL, 0, NULL, NULL, NULL},
    {"-h a b c --bogus", 0, 0, 0, NULL, 0, NULL, NULL, NULL},
};

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Runs the row's command line; fails the test when it gave anything else. */
static void check_row(const args_row_t *r)
{
    char text[256], *argv[16];
    int argc = 0;
    snprintf(text, sizeof(text), "%s", r->argv);
    for (char *t = strtok(text, " "); t && argc < 16; t = strtok(NULL, " "))
        argv[argc++] = t;
    opts_t o;
    memset(&o, 0, sizeof(o));
    memset(&seen, 0, sizeof(seen));
    ran = 0;
    int rc = cmd_args_run(&command, &spec, &o, argc, argv);
    if (rc != r->rc || ran != r->ran)
        fail_msg("'%s': exit code %d, %s; expected %d, %s", r->argv, rc, ran ? "ran" : "not run",
                 r->rc, r->ran ? "ran" : "not run");
    if (!ran)
        return;
    if (seen.flag != r->flag || !same(seen.name, r->name) || seen.num != r->num)
        fail_msg("'%s': --flag %d --name %s --num %ld; expected %d %s %ld", r->argv, seen.flag,
                 seen.name ? seen.name : "(none)", seen.num, r->flag, r->name ? r->name : "(none)",
                 r->num);
    if (!same(seen.pos[0], r->pos0) || !same(seen.pos[1], r->pos1))
        fail_msg("'%s': positional %s %s; expected %s %s", r->argv, seen.pos[0] ? seen.pos[0] : "-",
                 seen.pos[1] ? seen.pos[1] : "-", r->pos0 ? r->pos0 : "-", r->pos1 ? r->pos1 : "-");
    if (r->pg && strcmp(seen_pg, r->pg) != 0)
        fail_msg("'%s': pg %s, expected %s", r->argv, seen_pg, r->pg);
}

static void test_args(void **state)
{
    (void)state;
    unsetenv("PROJECTOR_CONFIG");
    unsetenv("PROJECTOR_PG");
    for (size_t i = 0; i < N_ROWS(args_rows); i++)
        check_row(&args_rows[i]);
}

/* Help rows: the label padded to the column, every further line indented to it. */
static void test_help_rows(void **state)
{
    (void)state;
    support_capture_t *cap = support_capture_new();
    FILE *out = support_capture_stream(cap);
    cmd_args_help_row(out, 6, "(x)", "one\ntwo");
    cmd_args_help_flags(out, 14, flags, sizeof(flags) / sizeof(flags[0]));
    char *text = support_capture_text(cap);
    assert_string_equal(text, "  (x)   one\n"
                              "        two\n"
                              "  --flag        a flag\n"
                              "  --name VALUE  a value\n");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_args),
        cmocka_unit_test(test_help_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
