/*
 * common.c: what every subcommand shares: messages, usage, config loading.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "kt.h"
#include "kt/policy.h"

static void vmsg(const char *kind, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void vmsg(const char *kind, const char *fmt, va_list ap)
{
	fprintf(stderr, "kubetenant: %s: ", kind);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void kt_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("error", fmt, ap);
	va_end(ap);
}

void kt_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning", fmt, ap);
	va_end(ap);
}

int kt_usage(const char *usage, int help)
{
	fputs(usage, help ? stdout : stderr);
	return help ? KT_EXIT_OK : KT_EXIT_USAGE;
}

int kt_exit_for(enum kt_rc rc)
{
	switch (rc) {
	case KT_OK:
		return KT_EXIT_OK;
	case KT_E_INVALID:
		return KT_EXIT_USAGE;
	case KT_E_IO:
	case KT_E_PARSE:
	case KT_E_LIMIT:
		return KT_EXIT_INPUT;
	default:
		return KT_EXIT_INTERNAL;
	}
}

void kt_fput_safe(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			putc(ch, f);
	}
}

void kt_put_safe(const char *s)
{
	kt_fput_safe(stdout, s);
}

json_t *kt_findings_json(const struct kt_finding *f, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s?, s:s}", "rule", f[i].rule, "path",
						   f[i].path, "message", f[i].message));
	return a;
}

int kt_opt_format(const char *arg, bool *json)
{
	if (!strcmp(arg, "text") || !strcmp(arg, "json")) {
		*json = arg[0] == 'j';
		return KT_EXIT_OK;
	}
	kt_error("unknown format '%s' (want text or json)", arg);
	return KT_EXIT_USAGE;
}
