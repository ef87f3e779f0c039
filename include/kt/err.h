/*
 * err.h: typed return codes plus an optional message.
 *
 * Every library function that can fail returns an enum kt_rc and, when the
 * caller passes a struct kt_err, fills it with where and what.  Only cmd/
 * turns codes into exit statuses; the library never prints or exits.
 */
#ifndef KT_ERR_H
#define KT_ERR_H

enum kt_rc {
	KT_OK = 0,
	KT_E_NOMEM,    /* allocation failed */
	KT_E_IO,       /* a file or socket could not be read or written */
	KT_E_PARSE,    /* malformed input (not YAML, not JSON, truncated) */
	KT_E_INVALID,  /* well-formed but wrong (unknown key, bad value) */
	KT_E_AUTH,     /* authentication failed */
	KT_E_INTERNAL, /* a bug: an invariant did not hold */
	KT_E_LIMIT,    /* input over a size limit (bytes, values, files): the input's fault */
};

struct kt_err {
	enum kt_rc rc;
	int sys_errno;
	char where[256]; /* "tenants.yaml:12:5" or "request.object.spec.nodeName" */
	char msg[512];   /* lowercase, no full stop, subject in '...' */
};

/* Fill *err (may be NULL) and return rc: "return kt_err_set(err, KT_E_INVALID, ...);" */
enum kt_rc kt_err_set(struct kt_err *err, enum kt_rc rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like kt_err_set, and also records a location ("file:line:col"). */
enum kt_rc kt_err_at(struct kt_err *err, enum kt_rc rc, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Static name of a code, for logs: "parse error", "invalid", ... */
const char *kt_rc_str(enum kt_rc rc);

#endif
