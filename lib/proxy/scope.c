/*
 * scope.c: which namespaces, nodes and classes a member may list, and the
 * filter over the API server's answers (kt/scope.h, docs/proxy-scope.md).
 *
 * The view is a sorted list of names: the tenants' namespaces, the
 * classes they may use, or for nodes the pools whose label they may see;
 * plus "defaults" for the classes the tenants file says nothing about
 * (the cluster's default IngressClass and StorageClass).  The filter keeps
 * an object only when its metadata matches the view, so an object without
 * readable metadata is never returned.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "kt/json.h"
#include "kt/scope.h"

#define POOL_LABEL "/node-pool"

/* v is the JSON string s */
static bool str_is(const json_t *v, const char *s)
{
	const char *t = json_string_value(v);

	return t && !strcmp(t, s);
}

struct kt_scope {
	enum kt_scope_res res;
	char **names; /* sorted, unique */
	size_t n, alloc;
	size_t tenants;
	bool defaults;  /* the cluster's default class is visible too */
	char *pool_key; /* <labelDomain>/node-pool */
};

static const struct {
	const char *path;
	enum kt_scope_res res;
} paths[] = {
	{ "/api/v1/namespaces", KT_SCOPE_NAMESPACES },
	{ "/api/v1/nodes", KT_SCOPE_NODES },
	{ "/apis/networking.k8s.io/v1/ingressclasses", KT_SCOPE_INGRESSCLASSES },
	{ "/apis/scheduling.k8s.io/v1/priorityclasses", KT_SCOPE_PRIORITYCLASSES },
	{ "/apis/node.k8s.io/v1/runtimeclasses", KT_SCOPE_RUNTIMECLASSES },
	{ "/apis/storage.k8s.io/v1/storageclasses", KT_SCOPE_STORAGECLASSES },
};

/* Go's strconv.ParseBool, which the API server applies to watch: 1 true, 0 false, -1 neither. */
static int parse_bool(const char *v, size_t n)
{
	static const char *const t[] = { "1", "t", "T", "true", "TRUE", "True" };
	static const char *const f[] = { "0", "f", "F", "false", "FALSE", "False" };
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (strlen(t[i]) == n && !memcmp(v, t[i], n))
			return 1;
		if (strlen(f[i]) == n && !memcmp(v, f[i], n))
			return 0;
	}
	return -1;
}

enum kt_scope_res kt_scope_match(const char *method, const char *uri, bool *watch)
{
	const char *q = strchr(uri, '?'), *p, *amp, *eq;
	size_t plen = q ? (size_t)(q - uri) : strlen(uri), i;
	enum kt_scope_res res = KT_SCOPE_NONE;
	int seen = 0, b;

	*watch = false;
	if (strcmp(method, "GET"))
		return KT_SCOPE_NONE;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (strlen(paths[i].path) == plen && !memcmp(uri, paths[i].path, plen))
			res = paths[i].res;
	for (p = q ? q + 1 : NULL; res && p && *p; p = amp ? amp + 1 : NULL) {
		amp = strchr(p, '&');
		eq = memchr(p, '=', amp ? (size_t)(amp - p) : strlen(p));
		if (memchr(p, '%', (eq ? eq : amp ? amp : p + strlen(p)) - p))
			return KT_SCOPE_NONE; /* a name the API server decodes and we would not */
		if ((eq    ? (size_t)(eq - p)
		     : amp ? (size_t)(amp - p)
			   : strlen(p)) != 5 ||
		    memcmp(p, "watch", 5))
			continue;
		b = eq ? parse_bool(eq + 1, amp ? (size_t)(amp - eq - 1) : strlen(eq + 1)) : -1;
		if (b < 0 || seen++)
			return KT_SCOPE_NONE;
		*watch = b;
	}
	return res;
}

/* ---- the view ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static enum kt_rc add_name(struct kt_scope *s, const char *name)
{
	if (!name)
		return KT_OK;
	if (s->n == s->alloc) {
		size_t na = s->alloc ? 2 * s->alloc : 16;
		char **v = realloc(s->names, na * sizeof(*v));

		if (!v)
			return KT_E_NOMEM;
		s->names = v;
		s->alloc = na;
	}
	if (!(s->names[s->n] = strdup(name)))
		return KT_E_NOMEM;
	s->n++;
	return KT_OK;
}

static enum kt_rc add_strv(struct kt_scope *s, const struct kt_strv *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (add_name(s, v->v[i]))
			return KT_E_NOMEM;
	return KT_OK;
}

/* One of the member's groups is "<groupPrefix><g>" with g in the tenant's groups. */
static bool is_member(const struct kt_tenant *t, const char *prefix, char *const *groups, size_t n)
{
	size_t pl = strlen(prefix), i, j;
	const char *g;

	for (i = 0; i < n; i++) {
		if (!groups[i] || strncmp(groups[i], prefix, pl))
			continue;
		g = groups[i] + pl;
		if (t->operator_group && !strcmp(t->operator_group, g))
			return true;
		for (j = 0; j < t->read_groups.n; j++)
			if (!strcmp(t->read_groups.v[j], g))
				return true;
	}
	return false;
}

static enum kt_rc add_tenant(struct kt_scope *s, const struct kt_config *cfg,
			     const struct kt_tenant *t)
{
	switch (s->res) {
	case KT_SCOPE_NAMESPACES:
		return add_name(s, t->name);
	case KT_SCOPE_NODES:
		return add_name(s, t->node_pool);
	case KT_SCOPE_PRIORITYCLASSES:
		/* what admission lets its pods name (lib/policy/placement.c) */
		return add_strv(s, &t->priority_classes) ||
				       add_strv(s, &cfg->global.default_priority_classes)
			       ? KT_E_NOMEM
			       : KT_OK;
	case KT_SCOPE_RUNTIMECLASSES:
		return add_strv(s, &t->runtime_classes);
	case KT_SCOPE_INGRESSCLASSES:
		/* an empty list lets admission accept any class: only the default is shown */
		if (!t->ingress_classes.n)
			s->defaults = true;
		return add_strv(s, &t->ingress_classes);
	case KT_SCOPE_STORAGECLASSES:
		s->defaults = true; /* the tenants file names none: the default only */
		return KT_OK;
	case KT_SCOPE_NONE:
		break;
	}
	return KT_OK;
}

enum kt_rc kt_scope_new(const struct kt_config *cfg, enum kt_scope_res res, char *const *groups,
			size_t n_groups, struct kt_scope **out)
{
	struct kt_scope *s = calloc(1, sizeof(*s));
	const char *prefix = cfg && cfg->global.group_prefix ? cfg->global.group_prefix : "";
	const char *ld =
		cfg && cfg->global.label_domain ? cfg->global.label_domain : "kubetenant.io";
	size_t i, j;

	*out = NULL;
	if (!s)
		return KT_E_NOMEM;
	s->res = res;
	if (!(s->pool_key = malloc(strlen(ld) + sizeof(POOL_LABEL))))
		goto nomem;
	strcpy(s->pool_key, ld);
	strcat(s->pool_key, POOL_LABEL);
	for (i = 0; cfg && i < cfg->n_tenants; i++) {
		if (!is_member(&cfg->tenants[i], prefix, groups, n_groups))
			continue;
		s->tenants++;
		if (add_tenant(s, cfg, &cfg->tenants[i]))
			goto nomem;
	}
	if (s->n)
		qsort(s->names, s->n, sizeof(*s->names), cmp_str);
	for (i = j = 0; i < s->n; i++) { /* unique */
		if (j && !strcmp(s->names[j - 1], s->names[i]))
			free(s->names[i]);
		else
			s->names[j++] = s->names[i];
	}
	s->n = j;
	*out = s;
	return KT_OK;
nomem:
	kt_scope_free(s);
	return KT_E_NOMEM;
}

void kt_scope_free(struct kt_scope *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		free(s->names[i]);
	free(s->names);
	free(s->pool_key);
	free(s);
}

size_t kt_scope_tenants(const struct kt_scope *s)
{
	return s ? s->tenants : 0;
}

static bool has_name(const struct kt_scope *s, const char *name)
{
	return name && s->n && bsearch(&name, s->names, s->n, sizeof(*s->names), cmp_str) != NULL;
}

static bool annotated_default(const json_t *meta, const char *const *keys)
{
	const json_t *ann = json_object_get(meta, "annotations");

	for (; *keys; keys++)
		if (str_is(json_object_get(ann, *keys), "true"))
			return true;
	return false;
}

/* May the member see the object with this metadata? */
static bool visible(const struct kt_scope *s, const json_t *meta)
{
	static const char *const ingress_default[] = {
		"ingressclass.kubernetes.io/is-default-class", NULL
	};
	static const char *const storage_default[] = {
		"storageclass.kubernetes.io/is-default-class",
		"storageclass.beta.kubernetes.io/is-default-class", NULL
	};
	const char *name = json_string_value(json_object_get(meta, "name"));

	if (!json_is_object(meta) || !name || !s->tenants)
		return false;
	switch (s->res) {
	case KT_SCOPE_NODES:
		return has_name(s,
				json_string_value(json_object_get(json_object_get(meta, "labels"),
								  s->pool_key)));
	case KT_SCOPE_INGRESSCLASSES:
		return has_name(s, name) ||
		       (s->defaults && annotated_default(meta, ingress_default));
	case KT_SCOPE_STORAGECLASSES:
		return s->defaults && annotated_default(meta, storage_default);
	case KT_SCOPE_NAMESPACES:
	case KT_SCOPE_PRIORITYCLASSES:
	case KT_SCOPE_RUNTIMECLASSES:
		return has_name(s, name);
	case KT_SCOPE_NONE:
		break;
	}
	return false;
}

/* ---- lists ---- */

/* Keep the elements of arr whose metadata (at obj.metadata or obj.object.metadata) is visible. */
static enum kt_rc filter_array(const struct kt_scope *s, json_t *arr, bool rows)
{
	size_t i = 0;

	if (!json_is_array(arr))
		return KT_E_PARSE;
	while (i < json_array_size(arr)) {
		json_t *o = json_array_get(arr, i);

		if (rows)
			o = json_object_get(o, "object");
		if (visible(s, json_object_get(o, "metadata")))
			i++;
		else if (json_array_remove(arr, i))
			return KT_E_NOMEM;
	}
	return KT_OK;
}

/* Filter a list-shaped object in place: KT_E_PARSE when it is not one. */
static enum kt_rc filter_object(const struct kt_scope *s, json_t *v)
{
	const char *kind = json_string_value(json_object_get(v, "kind"));
	size_t kl = kind ? strlen(kind) : 0;
	json_t *meta = json_object_get(v, "metadata");
	enum kt_rc rc;

	if (!kind)
		return KT_E_PARSE;
	if (!strcmp(kind, "Table"))
		rc = filter_array(s, json_object_get(v, "rows"), true);
	else if (kl > 4 && !strcmp(kind + kl - 4, "List"))
		rc = filter_array(s, json_object_get(v, "items"), false);
	else
		return KT_E_PARSE;
	if (!rc && json_is_object(meta))
		json_object_del(meta, "remainingItemCount");
	return rc;
}

static json_t *parse(const char *in, size_t len)
{
	return json_loadb(in, len, JSON_REJECT_DUPLICATES, NULL);
}

enum kt_rc kt_scope_filter_list(const struct kt_scope *s, const char *in, size_t len,
				struct kt_buf *out)
{
	json_t *v = parse(in, len);
	enum kt_rc rc = KT_E_PARSE;

	if (!json_is_object(v))
		goto out;
	if (str_is(json_object_get(v, "kind"), "Status"))
		rc = KT_OK;
	else
		rc = filter_object(s, v);
	if (!rc)
		rc = kt_json_dump(v, out);
out:
	json_decref(v);
	return rc;
}

/* ---- watches ---- */

void kt_scope_watch_init(struct kt_scope_watch *w)
{
	memset(w, 0, sizeof(*w));
	w->part = (struct kt_buf)KT_BUF_INIT;
	w->part.max = KT_SCOPE_MAX_EVENT;
}

void kt_scope_watch_release(struct kt_scope_watch *w)
{
	kt_buf_release(&w->part);
	json_decref(w->cols);
	w->cols = NULL;
}

/* One whole event: append it to out when it passes. */
static enum kt_rc event(const struct kt_scope *s, struct kt_scope_watch *w, const char *ev,
			size_t len, struct kt_buf *out)
{
	json_t *v = parse(ev, len), *obj = json_object_get(v, "object");
	const char *type = json_string_value(json_object_get(v, "type"));
	enum kt_rc rc = KT_OK;
	bool pass = false;

	if (!json_is_object(v) || !type || !json_is_object(obj)) {
		rc = KT_E_PARSE;
		goto out;
	}
	if (!strcmp(type, "BOOKMARK") || !strcmp(type, "ERROR")) {
		pass = true;
	} else if (strcmp(type, "ADDED") && strcmp(type, "MODIFIED") && strcmp(type, "DELETED")) {
		pass = false; /* a type we do not know is not relayed */
	} else if (str_is(json_object_get(obj, "kind"), "Table")) {
		json_t *rows = json_object_get(obj, "rows"), *cols;

		if ((rc = filter_array(s, rows, true)))
			goto out;
		cols = json_object_get(obj, "columnDefinitions");
		pass = json_array_size(rows) > 0;
		if (!pass && json_array_size(cols)) { /* kubectl prints headers from these */
			json_decref(w->cols);
			w->cols = json_incref(cols);
		} else if (pass && w->cols && !json_array_size(cols)) {
			if (json_object_set(obj, "columnDefinitions", w->cols)) {
				rc = KT_E_NOMEM;
				goto out;
			}
		}
		if (pass) {
			json_decref(w->cols);
			w->cols = NULL;
		}
	} else {
		pass = visible(s, json_object_get(obj, "metadata"));
	}
	if (pass && !(rc = kt_json_dump(v, out)))
		rc = kt_buf_addch(out, '\n');
out:
	json_decref(v);
	return rc;
}

/*
 * Split the stream into top-level JSON objects with a small scanner (strings,
 * escapes, depth): whatever the framing, an event is handled once it is whole.
 */
enum kt_rc kt_scope_watch_feed(const struct kt_scope *s, struct kt_scope_watch *w, const char *data,
			       size_t len, struct kt_buf *out)
{
	size_t i;
	enum kt_rc rc;

	if ((rc = kt_buf_add(&w->part, data, len)))
		return rc;
	for (i = w->scanned; i < w->part.len; i++) {
		char c = w->part.buf[i];

		if (w->in_str) {
			if (w->esc)
				w->esc = false;
			else if (c == '\\')
				w->esc = true;
			else if (c == '"')
				w->in_str = false;
			continue;
		}
		if (!w->depth && (c == ' ' || c == '\t' || c == '\r' || c == '\n'))
			continue;
		if (!w->depth && c != '{')
			return KT_E_PARSE;
		if (c == '"')
			w->in_str = true;
		else if (c == '{' || c == '[')
			w->depth++;
		else if (c == '}' || c == ']')
			w->depth--;
		if (w->depth > 64)
			return KT_E_PARSE;
		if (w->depth)
			continue;
		if ((rc = event(s, w, w->part.buf, i + 1, out)))
			return rc;
		memmove(w->part.buf, w->part.buf + i + 1, w->part.len - i - 1);
		w->part.len -= i + 1;
		w->part.buf[w->part.len] = 0;
		i = (size_t)-1; /* the loop's i++ makes it 0 */
	}
	w->scanned = w->part.len;
	return KT_OK;
}

/* ---- the request upstream ---- */

enum kt_rc kt_scope_accept(const char *client, struct kt_buf *out)
{
	const char *p = client, *e, *t;
	size_t n, kept = 0;

	kt_buf_reset(out);
	while (p && *p) {
		e = strchr(p, ',');
		n = e ? (size_t)(e - p) : strlen(p);
		for (t = p; t < p + n && (*t == ' ' || *t == '\t'); t++)
			;
		if ((size_t)(p + n - t) >= 16 && !strncasecmp(t, "application/json", 16) &&
		    (t + 16 == p + n || t[16] == ';' || t[16] == ' ')) {
			if ((kept++ && kt_buf_addch(out, ',')) ||
			    kt_buf_add(out, t, (size_t)(p + n - t)))
				return KT_E_NOMEM;
		}
		p = e ? e + 1 : NULL;
	}
	if (!kept && kt_buf_adds(out, "application/json"))
		return KT_E_NOMEM;
	return KT_OK;
}
