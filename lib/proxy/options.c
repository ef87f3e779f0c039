/*
 * options.c: `kubetenant proxy` options, from flags or a config file.
 *
 * Both paths go through kt_proxy_opts_set() with the flag's long name, so a
 * config file key and a flag can never mean different things.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libfyaml.h>
#include "kt/proxy.h"

#define MAX_CONFIG_BYTES (1u << 20)

enum kind { STR, LIST, FLAG, NUM };

struct opt {
	const char *name;
	enum kind kind;
	size_t off; /* STR: offset of the char * */
};

#define S(n, f) { n, STR, offsetof(struct kt_proxy_opts, f) }
static const struct opt opts[] = {
	S("issuer-url", issuer_url), S("audience", audience), S("oidc-ca", oidc_ca),
	S("upstream", upstream), S("upstream-ca", upstream_ca), S("token-file", token_file),
	S("client-cert", client_cert), S("client-key", client_key), S("listen", listen),
	S("tls-cert", tls_cert), S("tls-key", tls_key), S("metrics-listen", metrics_listen),
	S("username-claim", username_claim), S("username-prefix", username_prefix),
	S("groups-claim", groups_claim), S("groups-prefix", groups_prefix), S("tenants", tenants),
	{ "required-claim", LIST, 0 }, { "extra", LIST, 0 }, { "allowed-alg", LIST, 0 },
	{ "extra-client-ip", FLAG, 0 }, { "clock-skew", NUM, 0 },
	{ "shutdown-grace", NUM, 0 }, { "max-body", NUM, 0 }, { "threads", NUM, 0 },
};
#undef S

static char **str_at(struct kt_proxy_opts *o, size_t off)
{
	return (char **)(void *)((char *)o + off);
}

static enum kt_rc set_str(char **slot, const char *v, struct kt_err *err)
{
	char *c = strdup(v);

	if (!c)
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	free(*slot);
	*slot = c;
	return KT_OK;
}

enum kt_rc kt_proxy_opts_init(struct kt_proxy_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->skew = KT_JWT_DEFAULT_SKEW;
	o->shutdown_grace = 25;
	o->max_body = 3 << 20; /* the API server's own request limit */
	if (set_str(&o->listen, "0.0.0.0:8443", NULL) ||
	    set_str(&o->metrics_listen, "0.0.0.0:9090", NULL) ||
	    set_str(&o->username_claim, "sub", NULL) ||
	    set_str(&o->username_prefix, "oidc:", NULL) ||
	    set_str(&o->groups_claim, "groups", NULL) || set_str(&o->groups_prefix, "oidc:", NULL))
		return KT_E_NOMEM;
	return KT_OK;
}

static void release_kv(struct kt_jwt_claim *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free((char *)v[i].name);
		free((char *)v[i].value);
	}
}

void kt_proxy_opts_release(struct kt_proxy_opts *o)
{
	size_t i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (opts[i].kind == STR)
			free(*str_at(o, opts[i].off));
	release_kv(o->required, o->n_required);
	release_kv(o->extra, o->n_extra);
	memset(o, 0, sizeof(*o));
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static enum kt_rc add_kv(const char *opt, struct kt_jwt_claim *v, size_t *n, const char *value,
			 struct kt_err *err)
{
	const char *eq = strchr(value, '=');
	char *k, *val;

	if (!eq || eq == value || !printable(value))
		return kt_err_set(err, KT_E_INVALID, "option '%s' wants KEY=VALUE, not '%s'", opt,
				  value);
	if (*n == KT_PROXY_MAX_EXTRAS)
		return kt_err_set(err, KT_E_INVALID, "option '%s' is given more than %d times", opt,
				  KT_PROXY_MAX_EXTRAS);
	k = strndup(value, (size_t)(eq - value));
	val = strdup(eq + 1);
	if (!k || !val) {
		free(k);
		free(val);
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	}
	v[*n].name = k;
	v[*n].value = val;
	(*n)++;
	return KT_OK;
}

static enum kt_rc set_num(const char *name, const char *value, long long *out,
			  struct kt_err *err)
{
	char *end;
	long long v = strtoll(value, &end, 10);

	if (end == value || *end || v < 0 || v > (1LL << 40))
		return kt_err_set(err, KT_E_INVALID, "option '%s' wants a number, not '%s'", name,
				  value);
	*out = v;
	return KT_OK;
}

enum kt_rc kt_proxy_opts_set(struct kt_proxy_opts *o, const char *name, const char *value,
			     struct kt_err *err)
{
	size_t i;
	unsigned alg;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (!strcmp(opts[i].name, name))
			break;
	if (i == sizeof(opts) / sizeof(opts[0]))
		return kt_err_set(err, KT_E_INVALID, "unknown option '%s'", name);
	if (!value)
		value = "";
	if (opts[i].kind == STR && !*value && !strstr(name, "prefix")) {
		/* "--token-file ''" unsets what a config file set; only prefixes may be empty */
		free(*str_at(o, opts[i].off));
		*str_at(o, opts[i].off) = NULL;
		return KT_OK;
	}
	if (opts[i].kind == STR)
		return set_str(str_at(o, opts[i].off), value, err);
	if (!strcmp(name, "required-claim"))
		return add_kv(name, o->required, &o->n_required, value, err);
	if (!strcmp(name, "extra"))
		return add_kv(name, o->extra, &o->n_extra, value, err);
	if (!strcmp(name, "allowed-alg")) {
		alg = kt_jwt_alg_parse(value);
		if (!alg)
			return kt_err_set(err, KT_E_INVALID,
					  "algorithm '%s' is not allowed (RS, PS or ES with 256, "
					  "384 or 512)", value);
		o->algs |= alg;
		return KT_OK;
	}
	if (!strcmp(name, "extra-client-ip")) {
		if (*value && strcmp(value, "true") && strcmp(value, "false"))
			return kt_err_set(err, KT_E_INVALID,
					  "option 'extra-client-ip' wants true or false");
		o->extra_client_ip = strcmp(value, "false") != 0;
		return KT_OK;
	}
	if (!strcmp(name, "clock-skew"))
		return set_num(name, value, &o->skew, err);
	if (!strcmp(name, "shutdown-grace"))
		return set_num(name, value, &o->shutdown_grace, err);
	if (!strcmp(name, "threads"))
		return set_num(name, value, &o->threads, err);
	return set_num(name, value, &o->max_body, err);
}

static enum kt_rc set_node(struct kt_proxy_opts *o, const char *key, struct fy_node *v,
			   struct kt_err *err)
{
	struct fy_node *item;
	void *it = NULL;
	enum kt_rc rc;

	if (fy_node_is_sequence(v)) {
		while ((item = fy_node_sequence_iterate(v, &it))) {
			if (!fy_node_is_scalar(item))
				return kt_err_set(err, KT_E_INVALID, "'%s' wants a list of strings",
						  key);
			if ((rc = kt_proxy_opts_set(o, key, fy_node_get_scalar0(item), err)))
				return rc;
		}
		return KT_OK;
	}
	if (!fy_node_is_scalar(v))
		return kt_err_set(err, KT_E_INVALID, "'%s' wants a string or a list", key);
	return kt_proxy_opts_set(o, key, fy_node_get_scalar0(v), err);
}

enum kt_rc kt_proxy_opts_load(struct kt_proxy_opts *o, const char *path, struct kt_err *err)
{
	static const struct fy_parse_cfg cfg = { .flags = FYPCF_QUIET };
	struct kt_buf text = KT_BUF_INIT;
	struct fy_document *doc = NULL;
	struct fy_node_pair *pair;
	struct fy_node *root, *k;
	void *it = NULL;
	enum kt_rc rc;

	rc = kt_buf_read_file(&text, path, MAX_CONFIG_BYTES, err);
	if (rc)
		return rc;
	doc = fy_document_build_from_string(&cfg, text.buf, text.len);
	root = doc ? fy_document_root(doc) : NULL;
	if (!root || !fy_node_is_mapping(root)) {
		rc = kt_err_at(err, KT_E_PARSE, path, "not a YAML mapping of option names");
		goto out;
	}
	while ((pair = fy_node_mapping_iterate(root, &it))) {
		k = fy_node_pair_key(pair);
		if (!fy_node_is_scalar(k)) {
			rc = kt_err_at(err, KT_E_INVALID, path, "keys must be option names");
			goto out;
		}
		rc = set_node(o, fy_node_get_scalar0(k), fy_node_pair_value(pair), err);
		if (rc) {
			if (err)
				snprintf(err->where, sizeof(err->where), "%s", path);
			goto out;
		}
	}
out:
	fy_document_destroy(doc);
	kt_buf_release(&text);
	return rc;
}

enum kt_rc kt_proxy_opts_check(const struct kt_proxy_opts *o, struct kt_err *err)
{
	static const char *const need[] = { "issuer-url", "audience", "upstream", "tls-cert",
					    "tls-key", "listen" };
	const char *vals[] = { o->issuer_url, o->audience, o->upstream,
			       o->tls_cert,   o->tls_key,  o->listen };
	size_t i;

	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!vals[i] || !*vals[i])
			return kt_err_set(err, KT_E_INVALID, "option '--%s' is required", need[i]);
	if (strncmp(o->issuer_url, "https://", 8))
		return kt_err_set(err, KT_E_INVALID, "'--issuer-url' must be an https:// URL");
	if (strncmp(o->upstream, "https://", 8))
		return kt_err_set(err, KT_E_INVALID, "'--upstream' must be an https:// URL");
	if (o->token_file && o->client_cert)
		return kt_err_set(err, KT_E_INVALID,
				  "give '--token-file' or '--client-cert', not both");
	if (!o->client_cert != !o->client_key)
		return kt_err_set(err, KT_E_INVALID,
				  "'--client-cert' and '--client-key' go together");
	if (!o->token_file && !o->client_cert)
		return kt_err_set(err, KT_E_INVALID,
				  "the proxy needs credentials: '--token-file' or '--client-cert'");
	if (!o->username_claim || !*o->username_claim || !o->groups_claim ||
	    !*o->groups_claim)
		return kt_err_set(err, KT_E_INVALID, "claim names must not be empty");
	if (!printable(o->username_prefix) || !printable(o->groups_prefix))
		return kt_err_set(err, KT_E_INVALID, "prefixes must be printable");
	if (!strncmp(o->username_prefix, "system:", 7) || !strncmp(o->groups_prefix, "system:", 7))
		return kt_err_set(err, KT_E_INVALID, "prefixes must not start with 'system:'");
	if (o->threads > 256)
		return kt_err_set(err, KT_E_INVALID, "'--threads' must be at most 256");
	return KT_OK;
}

void kt_proxy_opts_policy(const struct kt_proxy_opts *o, struct kt_jwt_policy *p)
{
	kt_jwt_policy_init(p);
	p->issuer = o->issuer_url;
	p->audience = o->audience;
	p->algs = o->algs ? o->algs : KT_JWT_RS256;
	p->skew = o->skew;
	p->username_claim = o->username_claim;
	p->username_prefix = o->username_prefix;
	p->groups_claim = o->groups_claim;
	p->groups_prefix = o->groups_prefix;
	p->required = o->required;
	p->n_required = o->n_required;
}
