/*
 * kt.h: the subcommands of kubetenant (git's builtin.h).
 *
 * Adding a subcommand takes four steps:
 *  1. write cmd/<name>.c with `int cmd_<name>(int argc, char **argv)` and a
 *     `static const char usage[]` at the top; parse options with getopt_long;
 *     an unknown option prints usage to stderr and returns KT_EXIT_USAGE;
 *  2. declare it below and add a row to commands[] in cmd/kt.c;
 *  3. the Makefile picks up every cmd/NAME.c by itself;
 *  4. add test/e2e/tNNNN-<name>.bats and man/kubetenant-<name>.1 in the same
 *     commit, and a section in README.md.
 *
 * Only cmd/ chooses exit codes.  They are stable and documented:
 */
#ifndef KT_CMD_H
#define KT_CMD_H

#include <stdbool.h>
#include <stdio.h>
#include "kt/err.h"
#include "kt/config.h"

#define KT_EXIT_OK 0        /* success */
#define KT_EXIT_FINDINGS 1  /* check/validate/audit found problems */
#define KT_EXIT_USAGE 2     /* bad usage, or an invalid tenants file */
#define KT_EXIT_INPUT 3     /* input unreadable or unparsable */
#define KT_EXIT_INTERNAL 70 /* a bug, or out of memory */

extern const char *kt_progname; /* "kubetenant" or "kubectl-tenant" */

int cmd_render(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_schema(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_proxy(int argc, char **argv);
int cmd_kubeconfig(int argc, char **argv);
int cmd_login(int argc, char **argv);

/* "kubetenant: error: <msg>" on stderr. */
void kt_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kt_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print usage (to stdout for --help, else to stderr) and return the exit code. */
int kt_usage(const char *usage, int help);

/*
 * Load the tenants file for a subcommand: on any problem, prints every
 * diagnostic as "file:line:col: message" and returns the exit code to use
 * (KT_EXIT_USAGE for an invalid file, KT_EXIT_INPUT for an unreadable one);
 * returns KT_EXIT_OK with *out set otherwise.
 */
int kt_cmd_load_config(const char *path, struct kt_config **out);

/* The same, keeping the bytes that were validated in *text (render's ConfigMap carries them). */
struct kt_buf;
int kt_cmd_load_config_text(const char *path, struct kt_config **out, struct kt_buf *text);

/* Map a library return code to an exit status. */
int kt_exit_for(enum kt_rc rc);

/*
 * Print s on stdout with control characters as \xNN, so a hostile name in
 * a manifest cannot rewrite the terminal or fake an output line.
 */
void kt_put_safe(const char *s);
void kt_fput_safe(FILE *f, const char *s); /* the same on f */

/*
 * The value of --format: "text" or "json" (*json says which).  Anything else
 * is reported and returns KT_EXIT_USAGE; KT_EXIT_OK otherwise.
 */
int kt_opt_format(const char *arg, bool *json);

/* [{"rule", "path", "message"}] of policy findings; a new reference (NULL on OOM). */
struct kt_finding;
json_t *kt_findings_json(const struct kt_finding *f, size_t n);

#endif
