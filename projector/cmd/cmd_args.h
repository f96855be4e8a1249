/* A command's command line: its own flags and arguments from its tables, then the settings. */
#ifndef PROJECTOR_CMD_ARGS_H
#define PROJECTOR_CMD_ARGS_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

/* A command of `projector COMMAND` (a row of main.c's table). */
typedef struct cmd_args_command cmd_args_command_t;
struct cmd_args_command {
    const char *name;
    /* Runs the command with the arguments after its name (borrowed for the process's life).
     * Returns the process's exit code. */
    int (*run)(const cmd_args_command_t *c, int argc, char **argv);
    const char *summary; /* one line, for the command list and its --help */
    /* the settings it reads, as name prefixes (config_print_help()); NULL: every setting */
    const char *const *reads;
};

/* One of a command's own flags. A flag that takes a value is given as "--flag VALUE" or
 * "--flag=VALUE"; one that takes none only as "--flag". */
typedef struct cmd_args_flag {
    const char *flag;  /* "--id" */
    const char *value; /* its value's name for --help ("N"); NULL: the flag takes no value */
    /* With set NULL, the offset in the command's options of what the flag sets: an int set to 1
     * (a flag without a value) or a const char * pointed at the value (borrowed from argv). */
    size_t field;
    /* Or what reads the value into opts: returns 0, or -1 with errstr (a usage error) */
    int (*set)(void *opts, const char *value, char *errstr, size_t errstr_size);
    const char *help; /* its text in --help, lines separated by '\n'; NULL: told elsewhere */
} cmd_args_flag_t;

/* What a command does with its own arguments, and what it runs once they are read. */
typedef struct cmd_args_spec {
    const cmd_args_flag_t *flags;
    size_t nflags;
    /* Takes a positional argument into opts: returns 1 when taken, 0 when not (the settings then
     * refuse it as unexpected), -1 with errstr. NULL: the command takes none. */
    int (*positional)(void *opts, const char *arg, char *errstr, size_t errstr_size);
    /* Checks the options once every argument is read; help says --help was given (what is
     * missing is no error then). Returns 0 or -1 with errstr. NULL: nothing to check. */
    int (*check)(const void *opts, int help, char *errstr, size_t errstr_size);
    /* Prints the part of --help before the settings; NULL: "usage: projector NAME [--config
     * FILE] [options]" and the summary. */
    void (*usage)(FILE *out, const cmd_args_command_t *c);
    /* Runs the command with the settings read. Returns an exit code. */
    int (*execute)(const config_t *cfg, const void *opts);
} cmd_args_spec_t;

/* Reads argv: first the command's own flags (spec's table) and positional arguments into opts
 * (zeroed by the caller), keeping the rest, then the settings from the rest: defaults < config
 * file (--config FILE, or PROJECTOR_CONFIG) < environment < flags (the settings table's, and -X
 * property=value for librdkafka). Which arguments are values is known from the tables, so a
 * value is never taken for a positional argument. Then runs spec->execute. --help (-h) prints the
 * command's help instead; a problem is printed as "projector NAME: message". Returns the exit
 * code: execute's, 0 after --help, 2 for invalid arguments or settings. Blocks as execute does. */
int cmd_args_run(const cmd_args_command_t *c, const cmd_args_spec_t *spec, void *opts, int argc,
                 char **argv);

/* cmd_args_run() for a command that takes settings alone: runs run(cfg) once they are read. */
int cmd_args_run_plain(const cmd_args_command_t *c, int argc, char **argv,
                       int (*run)(const config_t *cfg));

/* Prints a row of a --help table to out: "  LABEL" padded to width columns, then text, each
 * further line of text (after a '\n') indented to the same column. */
void cmd_args_help_row(FILE *out, int width, const char *label, const char *text);
/* Prints a row, as above, for each flag of flags[0, n) that has help ("--flag VALUE" its
 * label). */
void cmd_args_help_flags(FILE *out, int width, const cmd_args_flag_t *flags, size_t n);

#endif
