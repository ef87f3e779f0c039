/*
 * kt.c: main() and the table of subcommands (git's git.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kt.h"
#include "kt/version.h"

const char *kt_progname = "kubetenant";

struct kt_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct kt_cmd commands[] = {
	{ "render", cmd_render, "write every Kubernetes object for every tenant" },
	{ "validate", cmd_validate, "check a tenants file and report every problem" },
	{ "schema", cmd_schema, "print the JSON Schema of the tenants file" },
	{ "check", cmd_check, "judge tenant manifests offline, as the webhook would" },
	{ "audit", cmd_audit, "report live objects that today's rules would deny" },
	{ "serve", cmd_serve, "run the HTTPS admission webhook" },
	{ "proxy", cmd_proxy, "run the OIDC-to-impersonation proxy for kubectl" },
	{ "kubeconfig", cmd_kubeconfig, "print a kubeconfig for a tenant" },
	{ "login", cmd_login, "log in to the issuer for kubectl (exec credential plugin)" },
};

static int print_help(FILE *f)
{
	size_t i;

	fprintf(f,
		"usage: %s <command> [options]\n"
		"       %s help <command>\n"
		"       %s --version\n"
		"\n"
		"Make one Kubernetes cluster safely multi-tenant from one tenants file.\n"
		"\n"
		"commands:\n",
		kt_progname, kt_progname, kt_progname);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
		"\n"
		"exit codes: 0 ok, 1 findings, 2 usage or invalid tenants file,\n"
		"            3 unreadable input, 70 internal error\n"
		"\n"
		"See '%s help <command>' or 'man kubetenant' for details.\n",
		kt_progname);
	return f == stdout ? KT_EXIT_OK : KT_EXIT_USAGE;
}

static const struct kt_cmd *find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct kt_cmd *cmd;
	const char *base = argc > 0 ? strrchr(argv[0], '/') : NULL;

	/* installed as kubectl-tenant, kubectl runs us as a plugin */
	base = base ? base + 1 : (argc > 0 ? argv[0] : "");
	if (!strcmp(base, "kubectl-tenant"))
		kt_progname = "kubectl tenant";
	if (argc < 2)
		return print_help(stderr);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return print_help(stdout);
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("kubetenant %s\n", KT_VERSION);
		return KT_EXIT_OK;
	}
	if (!strcmp(argv[1], "help")) {
		char *help_argv[] = { argv[2], "--help", NULL };

		if (argc < 3)
			return print_help(stdout);
		cmd = find(argv[2]);
		if (!cmd) {
			kt_error("unknown command '%s'", argv[2]);
			return KT_EXIT_USAGE;
		}
		return cmd->fn(2, help_argv);
	}
	cmd = find(argv[1]);
	if (!cmd) {
		kt_error("unknown command '%s'; see '%s --help'", argv[1], kt_progname);
		return KT_EXIT_USAGE;
	}
	return cmd->fn(argc - 1, argv + 1);
}
