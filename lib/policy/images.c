/*
 * images.c: canonical image references and the per-tenant registry list.
 *
 * A registry allow-list is only as good as its parser: "ghcr.io/acme" must
 * not admit "ghcr.io/acme-evil/x", "nginx" is "docker.io/library/nginx",
 * "registry.example.org:5000" is a different registry from
 * "registry.example.org", and "ghcr.io/acme@sha256:..." is fine.  The
 * grammar is the one of the distribution project's reference package
 * (domain, path components, tag, digest); anything else is denied.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "internal.h"

#define NAME_MAX_LEN 255

struct imgref {
	char domain[NAME_MAX_LEN + 1];
	char path[NAME_MAX_LEN + 16];
};

static bool alnum_lower(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

/* path-component := [a-z0-9]+ (([._]|__|-+) [a-z0-9]+)* */
static bool path_component(const char *s, size_t n)
{
	size_t i = 0, sep;

	if (!n || !alnum_lower(s[0]))
		return false;
	while (i < n) {
		while (i < n && alnum_lower(s[i]))
			i++;
		if (i == n)
			return true;
		sep = i;
		if (s[i] == '.')
			i++;
		else if (s[i] == '_')
			i += i + 1 < n && s[i + 1] == '_' ? 2 : 1;
		else
			while (i < n && s[i] == '-')
				i++;
		if (i == sep || i >= n || !alnum_lower(s[i]))
			return false;
	}
	return true;
}

/* host [":" port]; host is a DNS name, an IPv4 address or "[IPv6]" */
static bool domain_ok(const char *s, size_t n)
{
	size_t i = 0, label = 0;

	if (!n)
		return false;
	if (s[0] == '[') {
		for (i = 1; i < n && s[i] != ']'; i++)
			if (!isxdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.')
				return false;
		if (i >= n || i == 1)
			return false;
		i++;
	} else {
		for (; i < n && s[i] != ':'; i++) {
			char ch = s[i];

			if (ch == '.') {
				if (!label || s[i - 1] == '-')
					return false;
				label = 0;
				continue;
			}
			if (!isalnum((unsigned char)ch) && !(ch == '-' && label))
				return false;
			label++;
		}
		if (!label || s[i - 1] == '-')
			return false;
	}
	if (i == n)
		return true;
	if (s[i] != ':' || i + 1 == n)
		return false;
	for (i++; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool tag_ok(const char *s, size_t n)
{
	size_t i;

	if (!n || n > 128 || !(isalnum((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

static bool digest_ok(const char *s)
{
	const char *colon = strchr(s, ':'), *p;
	size_t hex = 0;

	if (!colon || colon == s || !isalpha((unsigned char)s[0]))
		return false;
	for (p = s; p < colon; p++)
		if (!isalnum((unsigned char)*p) && !strchr("+._-", *p))
			return false;
	for (p = colon + 1; *p; p++, hex++)
		if (!isxdigit((unsigned char)*p))
			return false;
	return hex >= 32;
}

/* Parse ref into its canonical registry and repository path; false if invalid. */
static bool parse_ref(const char *ref, struct imgref *out)
{
	size_t n = strlen(ref), name_len, i;
	const char *at = strchr(ref, '@'), *slash, *colon, *rest;
	char name[NAME_MAX_LEN + 1];

	name_len = at ? (size_t)(at - ref) : n;
	if (!name_len || name_len > NAME_MAX_LEN || (at && !digest_ok(at + 1)))
		return false;
	memcpy(name, ref, name_len);
	name[name_len] = '\0';
	/* a tag is a ':' after the last '/' */
	slash = strrchr(name, '/');
	colon = strrchr(slash ? slash : name, ':');
	if (colon) {
		if (!tag_ok(colon + 1, strlen(colon + 1)))
			return false;
		name[colon - name] = '\0';
		name_len = (size_t)(colon - name);
	}
	slash = strchr(name, '/');
	rest = name;
	out->domain[0] = '\0';
	if (slash) {
		size_t dl = (size_t)(slash - name);
		bool is_domain = memchr(name, '.', dl) || memchr(name, ':', dl) ||
				 (dl == 9 && !memcmp(name, "localhost", 9));

		for (i = 0; !is_domain && i < dl; i++)
			is_domain = isupper((unsigned char)name[i]);
		if (is_domain) {
			if (!domain_ok(name, dl))
				return false;
			for (i = 0; i < dl; i++)
				out->domain[i] = (char)tolower((unsigned char)name[i]);
			out->domain[dl] = '\0';
			rest = slash + 1;
		}
	}
	if (!out->domain[0] || !strcmp(out->domain, "index.docker.io"))
		snprintf(out->domain, sizeof(out->domain), "docker.io");
	/* every path component must be valid */
	for (const char *p = rest;;) {
		const char *e = strchr(p, '/');
		size_t cl = e ? (size_t)(e - p) : strlen(p);

		if (!path_component(p, cl))
			return false;
		if (!e)
			break;
		p = e + 1;
	}
	if (!strcmp(out->domain, "docker.io") && !strchr(rest, '/'))
		snprintf(out->path, sizeof(out->path), "library/%s", rest);
	else
		snprintf(out->path, sizeof(out->path), "%s", rest);
	return true;
}

/* Does "domain/path" fall under an allow-list entry "registry[:port][/prefix]"? */
static bool entry_matches(const struct imgref *r, const char *entry)
{
	const char *slash = strchr(entry, '/');
	size_t dl = slash ? (size_t)(slash - entry) : strlen(entry), pl;
	char dom[NAME_MAX_LEN + 1];

	if (dl > NAME_MAX_LEN)
		return false;
	for (size_t i = 0; i < dl; i++)
		dom[i] = (char)tolower((unsigned char)entry[i]);
	dom[dl] = '\0';
	if (!strcmp(dom, "index.docker.io"))
		snprintf(dom, sizeof(dom), "docker.io");
	if (strcmp(dom, r->domain))
		return false;
	if (!slash || !slash[1])
		return true;
	pl = strlen(slash + 1);
	return !strncmp(r->path, slash + 1, pl) && (r->path[pl] == '\0' || r->path[pl] == '/');
}

static bool old_has_image(const struct kt_podref *p, const char *image)
{
	static const char *const lists[] = { "containers", "initContainers",
					     "ephemeralContainers" };

	for (size_t l = 0; kt_jv_ok(p->old_spec) && l < 3; l++)
		kt_each (ct, kt_jv_get(p->old_spec, lists[l]))
			if (kt_jv_streq(kt_jv_get(ct.v, "image"), image))
				return true;
	return false;
}

/* Where the image of element idx of list (NULL: of volume idx) is, for a finding. */
static const char *image_path(char *buf, size_t size, const struct kt_podref *p, const char *list,
			      size_t idx)
{
	if (list)
		return kt_pctx_path(buf, size, "%s.%s[%zu].image", p->base, list, idx);
	return kt_pctx_path(buf, size, "%s.volumes[%zu].image.reference", p->base, idx);
}

static void judge_image(struct kt_pctx *c, const struct kt_podref *p, struct kt_jv img,
			const char *list, size_t idx)
{
	const struct kt_strv *regs = &c->t->image_registries;
	const char *image = kt_jv_str(img);
	struct imgref r;
	char q[128], path[KT_PCTX_PATH_MAX];
	size_t i;

	/* the path is written only for a finding: most images pass */
#define IPATH image_path(path, sizeof(path), p, list, idx)
	if (!image) {
		kt_pctx_deny(c, "images.invalid-reference", IPATH, "%s has no image", p->what);
		return;
	}
	if (old_has_image(p, image))
		return; /* UPDATE: admitted before */
	if (!parse_ref(image, &r)) {
		kt_pctx_deny(c, "images.invalid-reference", IPATH,
			     "image '%s' is not a valid image reference",
			     kt_pctx_q(q, sizeof(q), image));
		return;
	}
	for (i = 0; i < regs->n; i++)
		if (entry_matches(&r, regs->v[i]))
			return;
	kt_pctx_deny(c, "images.registry", IPATH,
		     "image '%s' (%s/%s) is not from a registry tenant '%s' may use; use one of "
		     "its imageRegistries",
		     kt_pctx_q(q, sizeof(q), image), r.domain, r.path, c->t->name);
#undef IPATH
}

void kt_images_judge(struct kt_pctx *c, const struct kt_podref *p)
{
	static const char *const lists[] = { "containers", "initContainers",
					     "ephemeralContainers" };

	/* the solver's image is cert-manager's flag, not the tenant's choice */
	if (!c->t->image_registries.n || p->solver)
		return;
	for (size_t l = 0; l < 3; l++) {
		kt_each (ct,
			 kt_as_list(c, kt_jv_get(p->spec, lists[l]), "%s.%s", p->base, lists[l]))
			judge_image(c, p, kt_jv_get(ct.v, "image"), lists[l], ct.i);
	}
	/* image volumes (Kubernetes 1.31+) pull images too */
	kt_each (vol, kt_as_list(c, kt_jv_get(p->spec, "volumes"), "%s.volumes", p->base)) {
		struct kt_jv iv = kt_jv_get(vol.v, "image");

		if (!kt_jv_absent(iv))
			judge_image(c, p, kt_jv_get(iv, "reference"), NULL, vol.i);
	}
}
