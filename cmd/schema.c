/*
 * schema.c: `kubetenant schema`, the JSON Schema of the tenants file.
 */
#include <getopt.h>
#include <stdio.h>
#include "kt.h"

static const char usage[] =
	"usage: kubetenant schema\n"
	"\n"
	"Print the JSON Schema (draft 2020-12) of the tenants file on stdout, for\n"
	"editors (yaml-language-server) and developer portals.  'kubetenant validate'\n"
	"checks everything the schema says and more: node pool references, reserved\n"
	"namespaces, hostname ownership across tenants, LimitRange order.\n"
	"\n"
	"  -h, --help   show this help\n";

int cmd_schema(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *schema;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 'h')
			return kt_usage(usage, 1);
		kt_error("unknown option '%s'", argv[optind - 1]);
		return kt_usage(usage, 0);
	}
	if (optind < argc) {
		kt_error("unexpected argument '%s'", argv[optind]);
		return kt_usage(usage, 0);
	}
	schema = kt_config_schema();
	if (!schema) {
		kt_error("cannot build the schema: out of memory");
		return KT_EXIT_INTERNAL;
	}
	if (fputs(schema, stdout) == EOF || fflush(stdout)) {
		kt_error("cannot write the schema to stdout");
		return KT_EXIT_INTERNAL;
	}
	return KT_EXIT_OK;
}
