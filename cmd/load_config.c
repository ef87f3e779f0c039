/*
 * load_config.c: how every subcommand loads the tenants file: all problems
 * printed as "file:line:col: message", then one exit code.
 */
#include <stdio.h>
#include "kt.h"
#include "kt/buf.h"

int kt_cmd_load_config(const char *path, struct kt_config **out)
{
	struct kt_buf text = KT_BUF_INIT;
	int rc = kt_cmd_load_config_text(path, out, &text);

	kt_buf_release(&text);
	return rc;
}

int kt_cmd_load_config_text(const char *path, struct kt_config **out, struct kt_buf *text)
{
	struct kt_diags diags = { 0 };
	struct kt_err err = { 0 };
	const char *name = path;
	enum kt_rc rc;
	size_t i, n;

	if (!path) {
		kt_error("no tenants file given (use -f FILE)");
		return KT_EXIT_USAGE;
	}
	if (path[0] == '-' && !path[1])
		name = "<stdin>";
	rc = kt_config_read(path, text, &err);
	if (rc == KT_OK)
		rc = kt_config_parse(text->buf, text->len, name, out, &diags, &err);
	n = diags.n;
	for (i = 0; i < n; i++)
		fprintf(stderr, "%s:%d:%d: %s\n", name, diags.v[i].line, diags.v[i].col,
			diags.v[i].msg);
	kt_diags_release(&diags);
	switch (rc) {
	case KT_OK:
		return KT_EXIT_OK;
	case KT_E_INVALID:
	case KT_E_PARSE:
		if (!n)
			kt_error("%s: %s", name, err.msg);
		return KT_EXIT_USAGE;
	case KT_E_IO:
		kt_error("%s", err.msg);
		return KT_EXIT_INPUT;
	default:
		kt_error("%s", err.msg[0] ? err.msg : kt_rc_str(rc));
		return KT_EXIT_INTERNAL;
	}
}
