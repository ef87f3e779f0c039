/*
 * fuzz_annotations.c: ingress-nginx annotations -> Ingress -> decision.
 *
 * The input is annotations separated by NUL bytes, each "key=value" (a key
 * without '/' gets the nginx.ingress.kubernetes.io/ prefix), or, without
 * '=', a value whose first byte picks one of the known keys.  Besides "no
 * crash, no leak, no undefined behaviour", the webhook's path (a review
 * decoded by the caller) and check's path (kt_policy_decide) must agree, and
 * an allowed Ingress must hold the promise of lib/policy/annotations.c: no
 * snippet, no character that ends or escapes an nginx directive in any
 * value, no other namespace in a reference.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kt/policy.h"
#include "../unit/policy_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PREFIX "nginx.ingress.kubernetes.io/"

static const char *const keys[] = {
	"auth-url",
	"auth-signin",
	"mirror-target",
	"mirror-host",
	"auth-tls-match-cn",
	"auth-secret",
	"auth-tls-secret",
	"proxy-ssl-secret",
	"auth-proxy-set-headers",
	"custom-headers",
	"fastcgi-params-configmap",
	"default-backend",
	"rewrite-target",
	"permanent-redirect",
	"upstream-hash-by",
	"auth-cache-key",
	"canary-by-header-pattern",
	"proxy-body-size",
	"proxy-read-timeout",
	"ssl-redirect",
	"proxy-buffering",
	"cors-allow-origin",
	"whitelist-source-range",
	"server-alias",
	"auth-realm",
	"configuration-snippet",
	"backend-protocol",
	"x-forwarded-prefix",
	"app-root",
	"some-future-option",
};

static const char *const refs[] = { "auth-secret",      "auth-tls-secret",
				    "proxy-ssl-secret", "auth-proxy-set-headers",
				    "custom-headers",   "fastcgi-params-configmap",
				    "default-backend" };

static bool in(const char *name, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(name, v[i]))
			return true;
	return false;
}

/* What an allowed Ingress may never carry. */
static void check_promise(json_t *ann)
{
	const char *key, *name, *v;
	json_t *a;

	json_object_foreach (ann, key, a) {
		size_t kl = strlen(key);
		bool regex;

		if (!strncmp(key, "nginx.org/", 10) && strstr(key, "snippets"))
			abort();
		if (strncmp(key, PREFIX, sizeof(PREFIX) - 1))
			continue;
		name = key + sizeof(PREFIX) - 1;
		v = json_string_value(a);
		if (kl >= 8 && !strcmp(key + kl - 8, "-snippet"))
			abort();
		regex = !strcmp(name, "auth-tls-match-cn") ||
			!strcmp(name, "canary-by-header-pattern");
		for (const char *p = v; *p; p++) {
			unsigned char ch = (unsigned char)*p;

			if (ch < 0x20 || ch == 0x7f || strchr(";{}\"'`#", ch) ||
			    (ch == '\\' && !regex) || (ch == '$' && p[1] == '{'))
				abort();
		}
		if (in(name, refs, sizeof(refs) / sizeof(refs[0])) && strchr(v, '/') &&
		    strncmp(v, "team-a/", 7))
			abort();
	}
}

static json_t *ingress(const uint8_t *data, size_t size, bool old_group)
{
	json_t *ann = json_object();
	json_t *obj = json_pack("{s:s, s:s, s:{s:s, s:o}, s:{s:s, s:[{s:s}]}}", "apiVersion",
				old_group ? "extensions/v1beta1" : "networking.k8s.io/v1", "kind",
				"Ingress", "metadata", "name", "web", "annotations", ann, "spec",
				"ingressClassName", "nginx", "rules", "host", "app.example.org");
	size_t i = 0;

	if (!obj)
		abort();
	while (i < size) {
		const uint8_t *end = memchr(data + i, 0, size - i);
		size_t n = end ? (size_t)(end - (data + i)) : size - i;
		const char *s = (const char *)data + i, *eq = memchr(s, '=', n);
		char key[256];
		json_t *val;

		if (eq && (size_t)(eq - s) < 200) {
			snprintf(key, sizeof(key), "%s%.*s",
				 memchr(s, '/', (size_t)(eq - s)) ? "" : PREFIX, (int)(eq - s), s);
			val = json_stringn(eq + 1, n - (size_t)(eq - s) - 1);
		} else if (n) {
			snprintf(key, sizeof(key), PREFIX "%s",
				 keys[(unsigned char)s[0] % (sizeof(keys) / sizeof(keys[0]))]);
			val = json_stringn(s + 1, n - 1);
		} else {
			val = NULL;
		}
		/* NULL for invalid UTF-8: the API server never sends it (decode refuses it) */
		if (val)
			json_object_set_new(ann, key, val);
		i += n + 1;
	}
	return obj;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct kt_config *cfg = kt_policy_fixture();
	json_t *obj = ingress(data, size, size % 2), *review;
	struct kt_policy_request req = {
		.operation = "CREATE", .ns = "team-a", .user = "dev@team.example.org", .object = obj
	};
	struct kt_decision d, w;
	struct kt_err err;
	enum kt_rc rc;

	rc = kt_policy_decide(cfg, &req, KT_POLICY_VALIDATE, &d, &err);
	review = json_pack("{s:s, s:s, s:{s:s, s:{s:s, s:s, s:s}, s:s, s:s, s:{s:s}, s:O}}",
			   "apiVersion", "admission.k8s.io/v1", "kind", "AdmissionReview",
			   "request", "uid", "u", "kind", "group",
			   size % 2 ? "extensions" : "networking.k8s.io", "version", "v1", "kind",
			   "Ingress", "namespace", "team-a", "operation", "CREATE", "userInfo",
			   "username", "dev@team.example.org", "object", obj);
	if (!review || kt_policy_review_json(cfg, review, KT_POLICY_VALIDATE, &w, &err) != rc)
		abort();
	if (rc == KT_OK) {
		if (d.allowed != w.allowed || d.n_denials != w.n_denials)
			abort();
		for (size_t i = 0; i < d.n_denials; i++)
			if (strcmp(d.denials[i].rule, w.denials[i].rule))
				abort();
		if (d.allowed)
			check_promise(
				json_object_get(json_object_get(obj, "metadata"), "annotations"));
	}
	kt_decision_release(&d);
	kt_decision_release(&w);
	json_decref(review);
	json_decref(obj);
	return 0;
}
