/*
 * pending.c: subcommands whose issue has not landed yet.  Each one moves to
 * its own cmd/<name>.c when it is built; this file goes away with the last.
 */
#include "kt.h"

static int pending(const char *name)
{
	kt_error("'%s' is not part of this build yet", name);
	return KT_EXIT_INTERNAL;
}

int cmd_proxy(int argc, char **argv) { (void)argc; (void)argv; return pending("proxy"); }
int cmd_kubeconfig(int argc, char **argv) { (void)argc; (void)argv; return pending("kubeconfig"); }
