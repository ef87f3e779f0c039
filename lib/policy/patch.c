/*
 * patch.c: writing the JSON Patch the mutating webhook answers with
 * (straight into the decision: no tree on the decision path), and
 * applying a JSON Patch to a jansson document (RFC 6901 pointers, RFC 6902
 * operations) so `check` and the tests can re-judge the mutated object.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include "kt/jwrite.h"
#include "internal.h"

/*
 * The patch is written where the decision keeps it, one operation after
 * the other: "[" before the first, "," between them; finish() in engine.c
 * closes the array, or drops it when the request is denied.
 */
void kt_patch_add(struct kt_pctx *c, const char *path, const char *seg, kt_patch_value value)
{
	struct kt_buf *b = &c->d->patch;
	enum kt_rc rc;

	if (c->mode != KT_POLICY_MUTATE || c->rc)
		return;
	/* room for the usual patch at once: a pod's selector and toleration take ~250 bytes */
	rc = kt_buf_grow(b, 512);
	if (!rc)
		rc = b->len ? kt_jw_lit(b, ",{\"op\":\"add\",\"path\":\"")
			    : kt_jw_lit(b, "[{\"op\":\"add\",\"path\":\"");
	if (!rc)
		rc = kt_jw_raw(b, path, strlen(path));
	if (!rc && seg)
		rc = kt_jw_pointer_seg(b, seg);
	if (rc || (rc = kt_jw_lit(b, "\",\"value\":")) || (rc = value(b, c)) ||
	    (rc = kt_jw_lit(b, "}")))
		c->rc = KT_E_NOMEM;
}

/* ---- applying ---- */

struct ptr {
	char **seg;
	size_t n;
};

static void ptr_free(struct ptr *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->seg[i]);
	free(p->seg);
}

static enum kt_rc ptr_parse(const char *s, struct ptr *p, struct kt_err *err)
{
	const char *q;

	p->seg = NULL;
	p->n = 0;
	if (!*s)
		return KT_OK;
	if (*s != '/')
		return kt_err_set(err, KT_E_INVALID, "JSON pointer '%.64s' must start with '/'", s);
	while (*s == '/') {
		char *seg, *d, **nv;

		s++;
		q = strchr(s, '/');
		if (!q)
			q = s + strlen(s);
		seg = malloc((size_t)(q - s) + 1);
		nv = seg ? realloc(p->seg, (p->n + 1) * sizeof(*p->seg)) : NULL;
		if (!nv) {
			free(seg);
			ptr_free(p);
			return kt_err_set(err, KT_E_NOMEM, "out of memory");
		}
		p->seg = nv;
		p->seg[p->n++] = seg;
		for (d = seg; s < q; s++) {
			if (*s != '~') {
				*d++ = *s;
				continue;
			}
			if (s + 1 < q && (s[1] == '0' || s[1] == '1')) {
				*d++ = s[1] == '0' ? '~' : '/';
				s++;
				continue;
			}
			*d = '\0';
			ptr_free(p);
			return kt_err_set(err, KT_E_INVALID, "invalid '~' escape in JSON pointer");
		}
		*d = '\0';
	}
	return KT_OK;
}

/* Array index of a segment: digits without leading zeros; '-' is SIZE_MAX. */
static bool seg_index(const char *s, size_t size, bool allow_end, size_t *out)
{
	unsigned long long v;
	char *end;

	if (allow_end && !strcmp(s, "-")) {
		*out = size;
		return true;
	}
	if (!*s || (s[0] == '0' && s[1]) || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > (allow_end ? size : size - 1) || (!allow_end && !size))
		return false;
	*out = (size_t)v;
	return true;
}

/* Borrowed parent of the pointer's last segment, or NULL. */
static json_t *resolve(json_t *doc, const struct ptr *p, size_t upto)
{
	size_t i, idx;

	for (i = 0; doc && i < upto; i++) {
		if (json_is_object(doc))
			doc = json_object_get(doc, p->seg[i]);
		else if (json_is_array(doc) &&
			 seg_index(p->seg[i], json_array_size(doc), false, &idx))
			doc = json_array_get(doc, idx);
		else
			doc = NULL;
	}
	return doc;
}

/* Remove and return (new reference) the value at p, or NULL. */
static json_t *take(json_t *doc, const struct ptr *p)
{
	json_t *parent = resolve(doc, p, p->n - 1), *v = NULL;
	const char *last = p->seg[p->n - 1];
	size_t idx;

	if (json_is_object(parent)) {
		v = json_incref(json_object_get(parent, last));
		if (v)
			json_object_del(parent, last);
	} else if (json_is_array(parent) && seg_index(last, json_array_size(parent), false, &idx)) {
		v = json_incref(json_array_get(parent, idx));
		json_array_remove(parent, idx);
	}
	return v;
}

/* Put v (reference stolen) at p; replace requires an existing value. */
static bool put(json_t **doc, const struct ptr *p, json_t *v, bool replace)
{
	json_t *parent;
	const char *last;
	size_t idx;

	if (!p->n) {
		json_decref(*doc);
		*doc = v;
		return true;
	}
	parent = resolve(*doc, p, p->n - 1);
	last = p->seg[p->n - 1];
	if (json_is_object(parent)) {
		if (replace && !json_object_get(parent, last))
			goto fail;
		return !json_object_set_new(parent, last, v);
	}
	if (json_is_array(parent)) {
		size_t size = json_array_size(parent);

		if (replace) {
			if (!seg_index(last, size, false, &idx))
				goto fail;
			return !json_array_set_new(parent, idx, v);
		}
		if (!seg_index(last, size, true, &idx))
			goto fail;
		return !json_array_insert_new(parent, idx, v);
	}
fail:
	json_decref(v);
	return false;
}

static enum kt_rc apply_one(json_t **doc, json_t *op, size_t i, struct kt_err *err)
{
	const char *name = json_string_value(json_object_get(op, "op"));
	const char *path = json_string_value(json_object_get(op, "path"));
	const char *from = json_string_value(json_object_get(op, "from"));
	json_t *value = json_object_get(op, "value"), *v;
	struct ptr p, f = { 0 };
	enum kt_rc rc;
	bool ok = false;

	if (!name || !path)
		return kt_err_set(err, KT_E_PARSE, "patch operation %zu has no op or path", i);
	rc = ptr_parse(path, &p, err);
	if (rc)
		return rc;
	if (!strcmp(name, "add") || !strcmp(name, "replace")) {
		ok = value && put(doc, &p, json_deep_copy(value), name[0] == 'r');
	} else if (!strcmp(name, "remove")) {
		v = p.n ? take(*doc, &p) : NULL;
		ok = v != NULL;
		json_decref(v);
	} else if (!strcmp(name, "test")) {
		ok = value && json_equal(resolve(*doc, &p, p.n), value);
	} else if (!strcmp(name, "move") || !strcmp(name, "copy")) {
		if (from && !(rc = ptr_parse(from, &f, err))) {
			if (name[0] == 'm')
				v = f.n ? take(*doc, &f) : NULL;
			else
				v = json_deep_copy(resolve(*doc, &f, f.n));
			ok = v && put(doc, &p, v, false);
		}
	} else {
		ptr_free(&p);
		return kt_err_set(err, KT_E_PARSE, "patch operation %zu: unknown op '%.16s'", i,
				  name);
	}
	ptr_free(&p);
	ptr_free(&f);
	if (rc)
		return rc;
	if (!ok)
		return kt_err_set(err, KT_E_INVALID,
				  "patch operation %zu (%s %.128s) does not apply", i, name, path);
	return KT_OK;
}

enum kt_rc kt_policy_patch_apply(json_t **doc, const char *patch, size_t len, struct kt_err *err)
{
	json_error_t jerr;
	json_t *ops, *op;
	enum kt_rc rc = KT_OK;
	size_t i;

	ops = json_loadb(patch, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_array(ops)) {
		json_decref(ops);
		return kt_err_set(err, KT_E_PARSE, "a JSON Patch must be a JSON array");
	}
	json_array_foreach (ops, i, op) {
		if (!json_is_object(op)) {
			rc = kt_err_set(err, KT_E_PARSE, "patch operation %zu is not an object", i);
			break;
		}
		rc = apply_one(doc, op, i, err);
		if (rc)
			break;
	}
	json_decref(ops);
	return rc;
}
