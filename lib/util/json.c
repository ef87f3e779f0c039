/*
 * json.c: see kt/json.h.
 */
#include <string.h>
#include "kt/json.h"
#include "kt/jview.h"
#include "kt/policy.h"
#include "kt/utf8.h"

json_t *kt_json_text(const char *s, size_t len, size_t max)
{
	static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
	struct kt_buf b = KT_BUF_INIT;
	size_t n = len < max ? len : max, i, l;
	unsigned long cp;
	json_t *v;

	/* the usual case: valid as it is (jansson checks), one copy */
	if (n == len && (v = json_stringn(s, n)))
		return v;
	if (kt_buf_grow(&b, n + 3))
		return NULL;
	for (i = 0; i < n; i += l) {
		l = kt_utf8_decode((const unsigned char *)s + i, n - i, &cp);
		if (l ? kt_buf_add(&b, s + i, l) : kt_buf_add(&b, replacement, 3))
			break;
		if (!l)
			l = 1;
	}
	v = NULL;
	if (i >= n && (n == len || !kt_buf_add(&b, "...", 3)))
		v = json_stringn_nocheck(b.buf, b.len);
	kt_buf_release(&b);
	return v;
}

static int add_chunk(const char *chunk, size_t size, void *data)
{
	return kt_buf_add(data, chunk, size) ? -1 : 0;
}

enum kt_rc kt_json_dump(const json_t *v, struct kt_buf *out)
{
	if (json_dump_callback(v, add_chunk, out, JSON_COMPACT | JSON_ENCODE_ANY))
		return KT_E_NOMEM;
	return KT_OK;
}

enum kt_rc kt_json_view(json_t *j, struct kt_buf *text, struct kt_jview *v, struct kt_jv *out,
			struct kt_err *err)
{
	enum kt_rc rc;

	*out = (struct kt_jv){ 0 };
	if (!j)
		return KT_OK;
	/* in a list of one: a view's root is an object or a list, j may be any value */
	if (kt_buf_addch(text, '[') || kt_json_dump(j, text) || kt_buf_addch(text, ']'))
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	if ((rc = kt_jview_parse(v, text->buf, text->len, KT_POLICY_MAX_DEPTH + 1,
				 KT_POLICY_MAX_VALUES + 1, err)))
		return rc;
	*out = kt_jv_first(kt_jview_root(v));
	return KT_OK;
}
