/*
 * load.c: files and directories of manifests into a kt_manifest_set, with
 * List kinds expanded into their items.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "kt/buf.h"
#include "internal.h"

static const char *str_field(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

const char *kt_manifest_kind(json_t *obj)
{
	return str_field(obj, "kind");
}

const char *kt_manifest_name(json_t *obj)
{
	return str_field(json_object_get(obj, "metadata"), "name");
}

struct parse_ctx {
	struct kt_manifest_set *set;
	const char *file; /* the set's copy */
	const char *name;
	struct kt_err *err;
};

static enum kt_rc push_obj(struct parse_ctx *c, json_t *obj, int line, int doc, int item)
{
	struct kt_manifest_set *set = c->set;
	struct kt_manifest_obj *o;

	if (set->n == set->alloc) {
		size_t na = set->alloc ? set->alloc * 2 : 16;
		struct kt_manifest_obj *nv = realloc(set->objs, na * sizeof(*nv));

		if (!nv)
			return kt_err_set(c->err, KT_E_NOMEM, "out of memory");
		set->objs = nv;
		set->alloc = na;
	}
	o = &set->objs[set->n++];
	o->obj = json_incref(obj);
	o->file = c->file;
	o->line = line;
	o->doc = doc;
	o->item = item;
	return KT_OK;
}

static enum kt_rc not_object(struct parse_ctx *c, int line, const char *fmt, const char *what,
			     int n)
{
	char where[256], msg[256];

	snprintf(where, sizeof(where), "%s:%d", c->name, line);
	snprintf(msg, sizeof(msg), fmt, what, n);
	return kt_err_at(c->err, KT_E_PARSE, where, "%s", msg);
}

/* A Kubernetes object needs a kind and an apiVersion, both non-empty strings. */
static enum kt_rc check_object(struct parse_ctx *c, json_t *v, int line, const char *what, int n)
{
	if (!json_is_object(v))
		return not_object(c, line, "%s %d is not a Kubernetes object (a mapping)", what, n);
	if (!*str_field(v, "kind"))
		return not_object(c, line, "%s %d has no 'kind'", what, n);
	if (!*str_field(v, "apiVersion"))
		return not_object(c, line, "%s %d has no 'apiVersion'", what, n);
	return KT_OK;
}

static bool is_list_kind(const char *kind)
{
	size_t n = strlen(kind);

	return n >= 4 && !strcmp(kind + n - 4, "List");
}

/* Lists in lists: kubectl expands them; deeper than this is no manifest anyone writes. */
#define LIST_MAX_DEPTH 8

/*
 * The items of a List object, each pushed, a List among them expanded in
 * turn: an object of kind List is never judged itself, so none may be left
 * (it would pass having judged nothing).  Items of the document's own list
 * have their lines in d; deeper ones take their list's line.
 */
static enum kt_rc expand_list(struct parse_ctx *c, struct yaml_doc *d, json_t *list, int line,
			      int item, int depth, const char *what, int n)
{
	const char *kind = kt_manifest_kind(list), *api = str_field(list, "apiVersion");
	json_t *items = json_object_get(list, "items"), *it;
	enum kt_rc rc;
	size_t i;

	if (depth > LIST_MAX_DEPTH)
		return not_object(c, line, "%s %d nests Lists more than 8 deep", what, n);
	if (!json_is_array(items) && !json_is_null(items))
		return not_object(c, line, "%s %d is a List whose 'items' is not a sequence", what,
				  n);
	json_array_foreach (items, i, it) {
		int l = line;

		if (!depth && d->n_item_lines == json_array_size(items))
			l = d->item_lines[i];
		/* PodList items may omit kind and apiVersion: they are Pods of the list's version */
		if (json_is_object(it) && strcmp(kind, "List")) {
			char typed[256];

			snprintf(typed, sizeof(typed), "%.*s", (int)(strlen(kind) - 4), kind);
			if ((!json_object_get(it, "kind") &&
			     json_object_set_new(it, "kind", json_string(typed))) ||
			    (!json_object_get(it, "apiVersion") &&
			     json_object_set_new(it, "apiVersion", json_string(api))))
				return kt_err_set(c->err, KT_E_NOMEM, "out of memory");
		}
		rc = check_object(c, it, l, "list item", (int)i + 1);
		if (rc)
			return rc;
		if (is_list_kind(kt_manifest_kind(it)) && json_object_get(it, "items"))
			rc = expand_list(c, d, it, l, depth ? item : (int)i, depth + 1, "list item",
					 (int)i + 1);
		else
			rc = push_obj(c, it, l, d->index, depth ? item : (int)i);
		if (rc)
			return rc;
	}
	return KT_OK;
}

static enum kt_rc on_doc(void *ctx, struct yaml_doc *d)
{
	struct parse_ctx *c = ctx;
	enum kt_rc rc;

	if (!d->root || json_is_null(d->root))
		return KT_OK; /* an empty document, as kubectl skips it */
	rc = check_object(c, d->root, d->line, "document", d->index + 1);
	if (rc)
		return rc;
	/* a kind ending in List without items may be a CRD's own kind: judged as an object */
	if (!is_list_kind(kt_manifest_kind(d->root)) || !json_object_get(d->root, "items"))
		return push_obj(c, d->root, d->line, d->index, -1);
	return expand_list(c, d, d->root, d->line, -1, 0, "document", d->index + 1);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static const char *add_file_name(struct kt_manifest_set *set, const char *name)
{
	if (set->n_files == set->alloc_files) {
		size_t na = set->alloc_files ? set->alloc_files * 2 : 8;
		char **nv = realloc(set->files, na * sizeof(*nv));

		if (!nv)
			return NULL;
		set->files = nv;
		set->alloc_files = na;
	}
	set->files[set->n_files] = strdup(name);
	return set->files[set->n_files] ? set->files[set->n_files++] : NULL;
}

enum kt_rc kt_manifest_parse(struct kt_manifest_set *set, const char *name, const char *buf,
			     size_t len, struct kt_err *err)
{
	struct parse_ctx c = { .set = set, .name = name, .err = err };
	size_t start = set->n;
	enum kt_rc rc;

	if (len > KT_MANIFEST_MAX_FILE_BYTES)
		return kt_err_at(err, KT_E_LIMIT, name, "'%s' is larger than %u bytes", name,
				 KT_MANIFEST_MAX_FILE_BYTES);
	c.file = add_file_name(set, name);
	if (!c.file)
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	rc = kt_yaml_parse_stream(name, buf, len, ends_with(name, ".json"), on_doc, &c, err);
	if (rc) {
		/* all or nothing: a set this call started is left with no storage at all */
		while (set->n > start)
			json_decref(set->objs[--set->n].obj);
		free(set->files[--set->n_files]);
		if (!set->n && !set->n_files)
			kt_manifest_set_release(set);
	}
	return rc;
}

enum kt_rc kt_manifest_load_file(struct kt_manifest_set *set, const char *path, struct kt_err *err)
{
	struct kt_buf text = KT_BUF_INIT;
	enum kt_rc rc;

	rc = kt_buf_read_file(&text, path, KT_MANIFEST_MAX_FILE_BYTES, err);
	if (!rc)
		rc = kt_manifest_parse(set, path, text.buf, text.len, err);
	kt_buf_release(&text);
	return rc;
}

void kt_manifest_set_release(struct kt_manifest_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		json_decref(set->objs[i].obj);
	for (i = 0; i < set->n_files; i++)
		free(set->files[i]);
	free(set->objs);
	free(set->files);
	memset(set, 0, sizeof(*set));
}

/* ---- finding files ---- */

struct file_list {
	char **v;
	size_t n, alloc;
};

static enum kt_rc fl_add(struct file_list *fl, char *path, struct kt_err *err)
{
	if (fl->n + 1 >= fl->alloc) {
		size_t na = fl->alloc ? fl->alloc * 2 : 16;
		char **nv = realloc(fl->v, na * sizeof(*nv));

		if (!nv) {
			free(path);
			return kt_err_set(err, KT_E_NOMEM, "out of memory");
		}
		fl->v = nv;
		fl->alloc = na;
	}
	fl->v[fl->n++] = path;
	fl->v[fl->n] = NULL;
	return KT_OK;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool manifest_name(const char *name)
{
	return ends_with(name, ".yaml") || ends_with(name, ".yml") || ends_with(name, ".json");
}

static enum kt_rc walk_dir(struct file_list *fl, const char *dir, int depth, struct kt_err *err)
{
	struct file_list names = { 0 };
	struct dirent *de;
	enum kt_rc rc = KT_OK;
	DIR *d;
	size_t i;

	if (depth > KT_MANIFEST_MAX_DIR_DEPTH)
		return kt_err_at(err, KT_E_IO, dir, "directories nested deeper than %d levels",
				 KT_MANIFEST_MAX_DIR_DEPTH);
	d = opendir(dir);
	if (!d)
		return kt_err_at(err, KT_E_IO, dir, "cannot open directory '%s': %s", dir,
				 strerror(errno));
	while (!rc && (de = readdir(d))) {
		char *copy;

		if (de->d_name[0] == '.')
			continue; /* ., .., and hidden entries such as .git */
		copy = strdup(de->d_name);
		rc = copy ? fl_add(&names, copy, err)
			  : kt_err_set(err, KT_E_NOMEM, "out of memory");
	}
	closedir(d);
	if (names.n)
		qsort(names.v, names.n, sizeof(*names.v), cmp_name);
	for (i = 0; !rc && i < names.n; i++) {
		struct stat st;
		char *path;
		size_t n = strlen(dir) + strlen(names.v[i]) + 2;

		path = malloc(n);
		if (!path) {
			rc = kt_err_set(err, KT_E_NOMEM, "out of memory");
			break;
		}
		snprintf(path, n, "%s%s%s", dir, ends_with(dir, "/") ? "" : "/", names.v[i]);
		if (stat(path, &st)) {
			rc = kt_err_at(err, KT_E_IO, path, "cannot stat '%s': %s", path,
				       strerror(errno));
			free(path);
		} else if (S_ISDIR(st.st_mode)) {
			rc = walk_dir(fl, path, depth + 1, err);
			free(path);
		} else if (S_ISREG(st.st_mode) && manifest_name(names.v[i])) {
			if (fl->n >= KT_MANIFEST_MAX_FILES) {
				rc = kt_err_at(err, KT_E_LIMIT, dir, "more than %d manifest files",
					       KT_MANIFEST_MAX_FILES);
				free(path);
			} else {
				rc = fl_add(fl, path, err);
			}
		} else {
			free(path);
		}
	}
	kt_manifest_files_free(names.v);
	return rc;
}

enum kt_rc kt_manifest_find_files(const char *path, char ***files, size_t *n, struct kt_err *err)
{
	struct file_list fl = { 0 };
	struct stat st;
	enum kt_rc rc;
	char *copy;

	*files = NULL;
	*n = 0;
	if (strcmp(path, "-") && !stat(path, &st) && S_ISDIR(st.st_mode)) {
		rc = walk_dir(&fl, path, 0, err);
	} else {
		/* "-", a file, or a path that does not exist: reading it reports why */
		copy = strdup(path);
		rc = copy ? fl_add(&fl, copy, err) : kt_err_set(err, KT_E_NOMEM, "out of memory");
	}
	if (!rc && !fl.v && !(fl.v = calloc(1, sizeof(*fl.v))))
		rc = kt_err_set(err, KT_E_NOMEM, "out of memory"); /* an empty directory */
	if (rc) {
		kt_manifest_files_free(fl.v);
		return rc;
	}
	*files = fl.v;
	*n = fl.n;
	return KT_OK;
}

void kt_manifest_files_free(char **files)
{
	char **p;

	for (p = files; p && *p; p++)
		free(*p);
	free(files);
}

enum kt_rc kt_manifest_load(struct kt_manifest_set *set, const char *path, struct kt_err *err)
{
	char **files;
	size_t n, i;
	enum kt_rc rc;

	rc = kt_manifest_find_files(path, &files, &n, err);
	for (i = 0; !rc && i < n; i++)
		rc = kt_manifest_load_file(set, files[i], err);
	kt_manifest_files_free(files);
	return rc;
}
