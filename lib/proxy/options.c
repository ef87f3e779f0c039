/*
 * options.c: `kubetenant proxy` options, from flags or a config file.
 *
 * Both paths go through kt_proxy_opts_set() with the flag's long name, so a
 * config file key and a flag can never mean different things.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kt/proxy.h"
#include "kt/yaml.h"

#define MAX_CONFIG_BYTES (1u << 20)

enum kind { STR, LIST, FLAG, NUM };

struct opt {
	const char *name;
	enum kind kind;
	size_t off; /* STR: offset of the char * */
};

/* clang-format off */
#define S(n, f) { n, STR, offsetof(struct kt_proxy_opts, f) }
/* clang-format on */
static const struct opt opts[] = {
	S("issuer-url", issuer_url),
	S("oidc-ca", oidc_ca),
	S("ui-client-id", ui_client_id),
	S("upstream", upstream),
	S("upstream-ca", upstream_ca),
	S("token-file", token_file),
	S("client-cert", client_cert),
	S("client-key", client_key),
	S("listen", listen),
	S("tls-cert", tls_cert),
	S("tls-key", tls_key),
	S("metrics-listen", metrics_listen),
	S("username-claim", username_claim),
	S("username-prefix", username_prefix),
	S("groups-claim", groups_claim),
	S("groups-prefix", groups_prefix),
	S("tenants", tenants),
	{ "audience", LIST, 0 },
	{ "ui", FLAG, 0 },
	{ "required-claim", LIST, 0 },
	{ "extra", LIST, 0 },
	{ "allowed-alg", LIST, 0 },
	{ "extra-client-ip", FLAG, 0 },
	{ "clock-skew", NUM, 0 },
	{ "shutdown-grace", NUM, 0 },
	{ "max-body", NUM, 0 },
	{ "threads", NUM, 0 },
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
	    set_str(&o->groups_claim, "groups", NULL) ||
	    set_str(&o->groups_prefix, "oidc:", NULL) ||
	    set_str(&o->ui_client_id, "kubetenant-dashboard", NULL))
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
	free(o->audience);
	for (i = 0; i < o->n_audiences; i++)
		free(o->audiences[i]);
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

/* The first --audience is o->audience (what single-audience callers read), the rest follow. */
static enum kt_rc add_audience(struct kt_proxy_opts *o, const char *v, struct kt_err *err)
{
	size_t i;

	if (!*v) {
		free(o->audience);
		o->audience = NULL;
		for (i = 0; i < o->n_audiences; i++)
			free(o->audiences[i]);
		o->n_audiences = 0;
		return KT_OK;
	}
	if (!printable(v))
		return kt_err_set(err, KT_E_INVALID, "option 'audience' must be printable");
	if (!o->audience)
		return set_str(&o->audience, v, err);
	if (!strcmp(o->audience, v))
		return KT_OK;
	for (i = 0; i < o->n_audiences; i++)
		if (!strcmp(o->audiences[i], v))
			return KT_OK;
	if (o->n_audiences == KT_PROXY_MAX_AUDIENCES)
		return kt_err_set(err, KT_E_INVALID,
				  "option 'audience' is given more than %d times",
				  KT_PROXY_MAX_AUDIENCES + 1);
	o->audiences[o->n_audiences] = NULL;
	if (set_str(&o->audiences[o->n_audiences], v, err))
		return KT_E_NOMEM;
	o->n_audiences++;
	return KT_OK;
}

static enum kt_rc set_bool(const char *name, const char *value, bool *out, struct kt_err *err)
{
	if (*value && strcmp(value, "true") && strcmp(value, "false"))
		return kt_err_set(err, KT_E_INVALID, "option '%s' wants true or false", name);
	*out = strcmp(value, "false") != 0;
	return KT_OK;
}

static enum kt_rc set_num(const char *name, const char *value, long long *out, struct kt_err *err)
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
					  "384 or 512)",
					  value);
		o->algs |= alg;
		return KT_OK;
	}
	if (!strcmp(name, "audience"))
		return add_audience(o, value, err);
	if (!strcmp(name, "extra-client-ip"))
		return set_bool(name, value, &o->extra_client_ip, err);
	if (!strcmp(name, "ui"))
		return set_bool(name, value, &o->ui, err);
	if (!strcmp(name, "clock-skew"))
		return set_num(name, value, &o->skew, err);
	if (!strcmp(name, "shutdown-grace"))
		return set_num(name, value, &o->shutdown_grace, err);
	if (!strcmp(name, "threads"))
		return set_num(name, value, &o->threads, err);
	return set_num(name, value, &o->max_body, err);
}

static enum kt_rc set_node(struct kt_proxy_opts *o, const char *key, const struct kt_ynode *v,
			   struct kt_err *err)
{
	size_t i;
	enum kt_rc rc;

	if (v->kind == KT_Y_SEQ) {
		for (i = 0; i < v->n; i++) {
			if (v->u.items[i]->kind != KT_Y_SCALAR)
				return kt_err_set(err, KT_E_INVALID, "'%s' wants a list of strings",
						  key);
			if ((rc = kt_proxy_opts_set(o, key, v->u.items[i]->u.s, err)))
				return rc;
		}
		return KT_OK;
	}
	/* "key:" with nothing after it is no value, as in a flag with none */
	if (v->kind != KT_Y_SCALAR || (v->plain && !v->n))
		return kt_err_set(err, KT_E_INVALID, "'%s' wants a string or a list", key);
	return kt_proxy_opts_set(o, key, v->u.s, err);
}

struct reading {
	const char *path;
	struct kt_ynode *root;
	struct kt_err *err;
};

static enum kt_rc where(struct reading *rd, enum kt_rc rc, int line, int col)
{
	if (rd->err)
		snprintf(rd->err->where, sizeof(rd->err->where), "%s:%d:%d", rd->path, line, col);
	return rc;
}

/* The first problem stops the reading: the proxy does not start on a doubtful file. */
static enum kt_rc problem(void *ctx, const struct kt_yproblem *p)
{
	struct reading *rd = ctx;
	int n = (int)(p->len > 64 ? 64 : p->len);

	switch (p->code) {
	case KT_YP_NOT_UTF8:
		kt_err_set(rd->err, KT_E_PARSE, "byte 0x%02x is not UTF-8 text",
			   (unsigned char)p->text[0]);
		break;
	case KT_YP_SYNTAX:
		kt_err_set(rd->err, KT_E_PARSE, "invalid YAML: %s",
			   p->text ? p->text : "syntax error");
		break;
	case KT_YP_DUP_KEY:
		kt_err_set(rd->err, KT_E_PARSE, "duplicate key '%.*s'", n, p->text);
		break;
	case KT_YP_NO_ANCHOR:
	case KT_YP_ALIAS_CYCLE:
		kt_err_set(rd->err, KT_E_PARSE, "undefined alias '*%.*s'", n, p->text);
		break;
	default:
		kt_err_set(rd->err, KT_E_PARSE, "not a YAML mapping of option names");
		break;
	}
	return where(rd, KT_E_PARSE, p->line, p->col);
}

static enum kt_rc document(void *ctx, struct kt_ynode *root, int index)
{
	struct reading *rd = ctx;

	(void)index;
	rd->root = root;
	return KT_OK;
}

enum kt_rc kt_proxy_opts_load(struct kt_proxy_opts *o, const char *path, struct kt_err *err)
{
	struct reading rd = { .path = path, .err = err };
	const struct kt_yaml_reader r = {
		.max_depth = 8,
		.max_scalar = 64u << 10,
		.max_weight = 1u << 16,
		.ctx = &rd,
		.problem = problem,
		.document = document,
	};
	struct kt_buf text = KT_BUF_INIT;
	struct kt_arena arena = { 0 };
	const struct kt_ynode *root;
	enum kt_rc rc;
	size_t i;

	rc = kt_buf_read_file(&text, path, MAX_CONFIG_BYTES, err);
	if (rc)
		return rc;
	rc = kt_yaml_read(&r, text.buf ? text.buf : "", text.len, &arena);
	if (rc == KT_E_NOMEM)
		kt_err_set(err, rc, "out of memory");
	root = rd.root;
	if (!rc && (!root || root->kind != KT_Y_MAP))
		rc = kt_err_at(err, KT_E_PARSE, path, "not a YAML mapping of option names");
	for (i = 0; !rc && i < root->n; i++) {
		const struct kt_ypair *p = &root->u.pairs[i];

		if (p->key->kind != KT_Y_SCALAR) {
			rc = kt_err_set(err, KT_E_INVALID, "keys must be option names");
			where(&rd, rc, p->key->line, p->key->col);
			break;
		}
		rc = set_node(o, p->key->u.s, p->value, err);
		if (rc)
			where(&rd, rc, p->key->line, p->key->col);
	}
	kt_arena_release(&arena);
	kt_buf_release(&text);
	return rc;
}

enum kt_rc kt_proxy_opts_check(const struct kt_proxy_opts *o, struct kt_err *err)
{
	static const char *const need[] = { "issuer-url", "audience", "upstream",
					    "tls-cert",   "tls-key",  "listen" };
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
	if (!o->username_claim || !*o->username_claim || !o->groups_claim || !*o->groups_claim)
		return kt_err_set(err, KT_E_INVALID, "claim names must not be empty");
	if (!printable(o->username_prefix) || !printable(o->groups_prefix))
		return kt_err_set(err, KT_E_INVALID, "prefixes must be printable");
	if (!strncmp(o->username_prefix, "system:", 7) || !strncmp(o->groups_prefix, "system:", 7))
		return kt_err_set(err, KT_E_INVALID, "prefixes must not start with 'system:'");
	if (o->ui && (!o->ui_client_id || !*o->ui_client_id || !printable(o->ui_client_id) ||
		      strlen(o->ui_client_id) > 256))
		return kt_err_set(err, KT_E_INVALID, "'--ui' needs a printable '--ui-client-id'");
	if (o->threads > 256)
		return kt_err_set(err, KT_E_INVALID, "'--threads' must be at most 256");
	return KT_OK;
}

void kt_proxy_opts_policy(const struct kt_proxy_opts *o, struct kt_jwt_policy *p)
{
	kt_jwt_policy_init(p);
	p->issuer = o->issuer_url;
	p->audience = o->audience;
	p->audiences = (const char *const *)o->audiences;
	p->n_audiences = o->n_audiences;
	p->algs = o->algs ? o->algs : KT_JWT_RS256;
	p->skew = o->skew;
	p->username_claim = o->username_claim;
	p->username_prefix = o->username_prefix;
	p->groups_claim = o->groups_claim;
	p->groups_prefix = o->groups_prefix;
	p->required = o->required;
	p->n_required = o->n_required;
}
