/*
 * manifest.h: Kubernetes objects from YAML or JSON files, with the file and
 * line each object starts at.
 *
 * Used by `check` (offline judgement of a tenant's manifests) and `audit`.
 * Every input is hostile: files are capped in size, nesting in depth, alias
 * expansion in node count, and duplicate mapping keys are an error (stricter
 * than the API server, which keeps the last one silently).
 *
 * YAML scalars become JSON values the way Kubernetes' sigs.k8s.io/yaml turns
 * them (YAML 1.1 rules of go-yaml v2): plain null, ~ and the empty scalar are
 * null; true/false (and yes/no/on/off/y/n in their three spellings) are
 * booleans; integers (decimal, 0x, 0o, 0b, leading-0 octal, with _
 * separators) are integers; floats are numbers, whole ones written as
 * integers as Go's JSON encoder does; everything else, and every quoted or
 * block scalar, is a string.  Timestamps stay strings.  .inf and .nan, which
 * JSON cannot carry, are errors.  Anchors, aliases and << merge keys work.
 * Files named *.json are parsed in strict JSON mode.
 */
#ifndef KT_MANIFEST_H
#define KT_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "kt/err.h"

#define KT_MANIFEST_MAX_FILE_BYTES (64u << 20) /* per file (and for stdin) */
#define KT_MANIFEST_MAX_DEPTH 64               /* nesting of mappings and sequences */
#define KT_MANIFEST_MAX_NODES (4u << 20)       /* values per file, aliases expanded */
#define KT_MANIFEST_MAX_DIR_DEPTH 16           /* directory recursion */
#define KT_MANIFEST_MAX_FILES 100000           /* files found under one directory */

/* One Kubernetes object. */
struct kt_manifest_obj {
	json_t *obj;      /* a JSON object with string kind and apiVersion; owned by the set */
	const char *file; /* borrowed from the set: the path as given, "-" for stdin */
	int line;         /* 1-based line where the object starts */
	int doc;          /* 0-based index of its YAML document in the file */
	int item;         /* index in the enclosing List's items, -1 when not from a List */
};

/* Objects in load order.  Zero-initialise (KT_MANIFEST_SET_INIT). */
struct kt_manifest_set {
	struct kt_manifest_obj *objs;
	size_t n, alloc;
	char **files; /* owned copies of the file names the objects point to */
	size_t n_files, alloc_files;
};
/* clang-format off */
#define KT_MANIFEST_SET_INIT { 0 }
/* clang-format on */

/*
 * Parse the bytes of one file (name is used for messages and, ending in
 * ".json", selects JSON mode).  Appends every object to set, expanding
 * `kind: List` and `kind: <X>List` into their items (an item without kind or
 * apiVersion inherits them from a typed list: PodList items become Pods).
 * Empty and null documents are skipped.  All or nothing: on error nothing of
 * this file stays in set, and err says where ("file:line:col") and what.
 * Returns KT_E_PARSE (malformed, or a document that is not an object with
 * kind and apiVersion), KT_E_NOMEM (out of memory or a size cap).
 */
enum kt_rc kt_manifest_parse(struct kt_manifest_set *set, const char *name, const char *buf,
			     size_t len, struct kt_err *err);

/* Read one file, or stdin for "-", and parse it as above.  Adds KT_E_IO. */
enum kt_rc kt_manifest_load_file(struct kt_manifest_set *set, const char *path, struct kt_err *err);

/*
 * The files a path names: the path itself for a file or "-"; for a
 * directory, every *.yaml, *.yml and *.json below it, recursively, sorted
 * byte-wise per directory (hidden entries skipped).  *files is a new
 * NULL-terminated array; free it with kt_manifest_files_free().
 */
enum kt_rc kt_manifest_find_files(const char *path, char ***files, size_t *n, struct kt_err *err);
void kt_manifest_files_free(char **files);

/* find_files + load_file for each; stops at the first error. */
enum kt_rc kt_manifest_load(struct kt_manifest_set *set, const char *path, struct kt_err *err);

/* Free every object and file name; the set is empty and reusable after. */
void kt_manifest_set_release(struct kt_manifest_set *set);

/* Borrowed strings of an object: kind, metadata.name ("" when absent). */
const char *kt_manifest_kind(json_t *obj);
const char *kt_manifest_name(json_t *obj);

/* Where the pod of a workload lives. */
struct kt_manifest_pod {
	json_t *metadata; /* borrowed: pod (template) metadata, NULL when absent */
	json_t *spec;     /* borrowed: the PodSpec; NULL when the kind has no pod */
	const char *path; /* static: "spec", "spec.template.spec", ... */
};

/*
 * Find the pod an object would create, for the kinds of kt/podkinds.h (the
 * table the policy engine reads too): Pod (spec); Deployment, ReplicaSet,
 * StatefulSet, DaemonSet, Job, ReplicationController: spec.template;
 * CronJob: spec.jobTemplate.spec.template; PodTemplate: template.  Kinds of
 * other API groups (a CRD named "Job") carry no pod.  Returns KT_OK with
 * out->spec set, or NULL for a kind without a pod; KT_E_INVALID when a
 * workload kind lacks its pod spec (or it is not an object).
 */
enum kt_rc kt_manifest_pod_spec(json_t *obj, struct kt_manifest_pod *out, struct kt_err *err);

#endif
