#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "kt/err.h"

static enum kt_rc vset(struct kt_err *err, enum kt_rc rc, const char *where, const char *fmt,
		       va_list ap) __attribute__((format(printf, 4, 0)));

static enum kt_rc vset(struct kt_err *err, enum kt_rc rc, const char *where, const char *fmt,
		       va_list ap)
{
	if (!err)
		return rc;
	err->rc = rc;
	if (where)
		snprintf(err->where, sizeof(err->where), "%s", where);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return rc;
}

enum kt_rc kt_err_set(struct kt_err *err, enum kt_rc rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(err, rc, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

enum kt_rc kt_err_at(struct kt_err *err, enum kt_rc rc, const char *where, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(err, rc, where, fmt, ap);
	va_end(ap);
	return rc;
}

const char *kt_rc_str(enum kt_rc rc)
{
	switch (rc) {
	case KT_OK:
		return "ok";
	case KT_E_NOMEM:
		return "out of memory";
	case KT_E_IO:
		return "i/o error";
	case KT_E_PARSE:
		return "parse error";
	case KT_E_INVALID:
		return "invalid";
	case KT_E_AUTH:
		return "authentication failed";
	case KT_E_INTERNAL:
		return "internal error";
	case KT_E_LIMIT:
		return "over a size limit";
	}
	return "unknown error";
}
