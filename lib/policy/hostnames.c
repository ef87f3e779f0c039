/*
 * hostnames.c: a tenant may only claim hostnames it owns.
 *
 * Authorized names are the tenant's domains plus <tenant>.<tenantHostPrefix>
 * and every name under it.  A name is compared after lowercasing and
 * removing one trailing dot, on whole labels ("evilapp.example.org" is not
 * under "app.example.org"), and only in ASCII LDH form (punycode), so
 * look-alike Unicode cannot slip past.  A wildcard name "*.x" is allowed only
 * where a wildcard domain "*.d" covers it, and never above d.  Every place
 * that can make a proxy, a DNS controller or a CA act on a name is covered:
 * Ingress rules and TLS, ingress-nginx aliases (its other annotations are
 * annotations.c's), external-dns annotations and DNSEndpoints, Gateway API
 * routes, cert-manager Certificates and CertificateRequests (the names
 * inside the CSR, csr.c), and the ACME Orders and Challenges only
 * cert-manager may write.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "internal.h"

#define HOST_MAX 253

/*
 * Normalize a hostname into buf (lowercase, one trailing dot removed) and
 * check it is ASCII LDH with an optional whole leftmost "*" label.  Returns
 * NULL when valid, else why not.
 */
static const char *host_norm(const char *h, char *buf, bool allow_wild)
{
	size_t n = strlen(h), i, label = 0;

	if (n && h[n - 1] == '.')
		n--;
	if (!n)
		return "is empty";
	if (n > HOST_MAX)
		return "is longer than 253 characters";
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)h[i];

		if (ch >= 0x80)
			return "is not ASCII; use its punycode (xn--) form";
		buf[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
	}
	buf[n] = '\0';
	for (i = 0; i <= n; i++) {
		char ch = buf[i];

		if (ch == '.' || ch == '\0') {
			if (!label)
				return "has an empty label";
			if (label > 63)
				return "has a label longer than 63 characters";
			if (buf[i - 1] == '-')
				return "has a label ending with '-'";
			label = 0;
			continue;
		}
		if (ch == '*') {
			if (i != 0 || (buf[1] != '.'))
				return "has '*' other than as the whole leftmost label";
			if (!allow_wild)
				return "is a wildcard, which is not allowed here";
			if (!buf[1] || !buf[2])
				return "is a bare wildcard";
			label++;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
			return "has a character other than letters, digits, '-' and '.'";
		if (ch == '-' && !label)
			return "has a label starting with '-'";
		label++;
	}
	return NULL;
}

/* Is name equal to base or under it, on a label boundary? */
static bool at_or_under(const char *name, const char *base, bool strictly_under)
{
	size_t n = strlen(name), b = strlen(base);

	if (n == b)
		return !strictly_under && !strcmp(name, base);
	return n > b && name[n - b - 1] == '.' && !strcmp(name + n - b, base);
}

/* One authorized domain d ("x" or "*.x", lowercase) against a normalized name. */
static bool domain_allows(const char *d, const char *name)
{
	bool dwild = d[0] == '*' && d[1] == '.', nwild = name[0] == '*' && name[1] == '.';

	if (nwild)
		return dwild && at_or_under(name + 2, d + 2, false);
	if (dwild)
		return at_or_under(name, d + 2, true);
	return !strcmp(name, d);
}

static bool authorized(const struct kt_pctx *c, const char *name)
{
	const char *prefix = c->cfg->global.tenant_host_prefix;
	char own[HOST_MAX + 2];
	size_t i;

	for (i = 0; i < c->t->domains.n; i++) {
		char d[HOST_MAX + 1];

		if (!host_norm(c->t->domains.v[i], d, true) && domain_allows(d, name))
			return true;
	}
	if (prefix && *prefix && strlen(c->t->name) + strlen(prefix) + 1 <= HOST_MAX) {
		/* <tenant>.<prefix> and everything under it */
		size_t tl = strlen(c->t->name);

		memcpy(own, c->t->name, tl);
		own[tl] = '.';
		memcpy(own + tl + 1, prefix, strlen(prefix) + 1);
		for (i = 0; own[i]; i++)
			own[i] = (char)(own[i] >= 'A' && own[i] <= 'Z' ? own[i] + 32 : own[i]);
		if (own[i - 1] == '.')
			own[i - 1] = '\0';
		if (name[0] == '*' && name[1] == '.')
			return at_or_under(name + 2, own, false);
		return at_or_under(name, own, false);
	}
	return false;
}

/* "a, *.b, c" within size */
static const char *authorized_list(const struct kt_pctx *c, char *buf, size_t size)
{
	const char *prefix = c->cfg->global.tenant_host_prefix;
	size_t n = 0, i;

	buf[0] = '\0';
	if (prefix && *prefix)
		n = (size_t)snprintf(buf, size, "%s.%s, *.%s.%s", c->t->name, prefix, c->t->name,
				     prefix);
	for (i = 0; i < c->t->domains.n && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", c->t->domains.v[i]);
	return buf;
}

/* Judge one hostname; `where` says what carries it, for the message. */
static void judge_host(struct kt_pctx *c, const char *host, bool allow_wild, const char *path,
		       const char *where)
{
	char norm[HOST_MAX + 2], q[96], list[320];
	const char *why;

	if (strlen(host) > HOST_MAX + 1) {
		kt_pctx_deny(c, "hostnames.invalid", path, "%s '%s' is longer than 253 characters",
			     where, kt_pctx_q(q, sizeof(q), host));
		return;
	}
	why = host_norm(host, norm, allow_wild);
	if (why) {
		kt_pctx_deny(c, "hostnames.invalid", path, "%s '%s' %s", where,
			     kt_pctx_q(q, sizeof(q), host), why);
		return;
	}
	if (!authorized(c, norm))
		kt_pctx_deny(c, "hostnames.unauthorized", path,
			     "%s '%s' is not authorized for tenant '%s'; use a name under: %s",
			     where, kt_pctx_q(q, sizeof(q), host), c->t->name,
			     authorized_list(c, list, sizeof(list)));
}

static void judge_host_value(struct kt_pctx *c, struct kt_jv v, bool allow_wild, const char *path,
			     const char *where)
{
	if (!kt_jv_is(v, KT_J_STRING))
		kt_pctx_deny(c, "request.malformed", path, "%s must be a string", where);
	else
		judge_host(c, kt_jv_str(v), allow_wild, path, where);
}

/* A comma- or space-separated list of names in an annotation. */
static void judge_host_list(struct kt_pctx *c, const char *list, bool allow_wild, const char *path,
			    const char *where)
{
	char name[HOST_MAX + 2];
	const char *p = list;
	unsigned count = 0;

	while (*p) {
		size_t n = strcspn(p, ", \t\n");

		if (n) {
			if (++count > 256) {
				kt_pctx_deny(c, "hostnames.invalid", path,
					     "%s lists more than 256 "
					     "names",
					     where);
				return;
			}
			if (n > HOST_MAX + 1) {
				kt_pctx_deny(c, "hostnames.invalid", path,
					     "%s has a name longer than 253 characters", where);
			} else {
				memcpy(name, p, n);
				name[n] = '\0';
				judge_host(c, name, allow_wild, path, where);
			}
		}
		p += n;
		p += strspn(p, ", \t\n");
	}
}

void kt_hostnames_annotations(struct kt_pctx *c)
{
	static const char *const keys[] = { "external-dns.alpha.kubernetes.io/hostname",
					    "external-dns.alpha.kubernetes.io/internal-hostname" };
	char path[KT_PCTX_PATH_MAX];

	for (size_t i = 0; i < 2; i++) {
		const char *v = kt_meta_annotation(c, keys[i]);

		if (v)
			judge_host_list(c, v, true,
					kt_pctx_path(path, sizeof(path), "metadata.annotations[%s]",
						     keys[i]),
					"external-dns hostname");
	}
}

/* ---- issuers ---- */

/*
 * "Kind/name" as the tenants file lists them; an issuer of another API
 * group than cert-manager.io is "Kind.group/name", so a look-alike kind in
 * another group never matches a cert-manager entry.
 */
static void judge_issuer(struct kt_pctx *c, const char *kind, const char *group, const char *name,
			 const char *path)
{
	char key[320], q[128];
	const struct kt_strv *list = &c->t->cert_issuers;

	if (!list->n || !name)
		return;
	if (!kind || !*kind)
		kind = "Issuer";
	if (group && *group && strcmp(group, "cert-manager.io"))
		snprintf(key, sizeof(key), "%s.%s/%s", kind, group, name);
	else
		snprintf(key, sizeof(key), "%s/%s", kind, name);
	if (!kt_strv_has(list, key))
		kt_pctx_deny(c, "hostnames.certificate-issuer", path,
			     "issuer '%s' is not one tenant '%s' may use; use one of its "
			     "certIssuers",
			     kt_pctx_q(q, sizeof(q), key), c->t->name);
}

static void judge_issuer_ref(struct kt_pctx *c, struct kt_jv spec)
{
	struct kt_jv ref = kt_jv_get(spec, "issuerRef");

	if (kt_jv_absent(ref))
		return;
	if (!kt_jv_is(ref, KT_J_OBJECT) || !kt_gets(ref, "name")) {
		kt_pctx_deny(c, "request.malformed", "spec.issuerRef", "issuerRef needs a name");
		return;
	}
	judge_issuer(c, kt_as_string(c, kt_jv_get(ref, "kind"), "spec.issuerRef.kind"),
		     kt_as_string(c, kt_jv_get(ref, "group"), "spec.issuerRef.group"),
		     kt_gets(ref, "name"), "spec.issuerRef");
}

/* ingress-shim and gateway-shim annotations create Certificates from these */
static void judge_issuer_annotations(struct kt_pctx *c)
{
	const char *v;

	if ((v = kt_meta_annotation(c, "cert-manager.io/cluster-issuer")))
		judge_issuer(c, "ClusterIssuer", NULL, v,
			     "metadata.annotations[cert-manager.io/cluster-issuer]");
	if ((v = kt_meta_annotation(c, "cert-manager.io/issuer")))
		judge_issuer(c, kt_meta_annotation(c, "cert-manager.io/issuer-kind"),
			     kt_meta_annotation(c, "cert-manager.io/issuer-group"), v,
			     "metadata.annotations[cert-manager.io/issuer]");
	if ((v = kt_meta_annotation(c, "cert-manager.io/common-name")) && *v)
		judge_host(c, v, true, "metadata.annotations[cert-manager.io/common-name]",
			   "certificate common name");
}

/* ---- Ingress ---- */

static void judge_class(struct kt_pctx *c, const char *cls, const char *path)
{
	char q[96];

	if (!cls || !c->t->ingress_classes.n || kt_strv_has(&c->t->ingress_classes, cls))
		return;
	kt_pctx_deny(c, "hostnames.ingress-class", path,
		     "ingress class '%s' is not one tenant '%s' may use; use one of its "
		     "ingressClasses",
		     kt_pctx_q(q, sizeof(q), cls), c->t->name);
}

static void judge_aliases(struct kt_pctx *c, const char *v)
{
	if (v)
		judge_host_list(c, v, true,
				"metadata.annotations[nginx.ingress.kubernetes.io/server-alias]",
				"server alias");
}

static void judge_ingress(struct kt_pctx *c)
{
	struct kt_jv spec = kt_jv_get(c->obj, "spec");
	char path[KT_PCTX_PATH_MAX];

	if (!kt_jv_is(spec, KT_J_OBJECT)) {
		kt_pctx_deny(c, "request.malformed", "spec", "ingress must have a spec object");
		return;
	}
	judge_class(c,
		    kt_as_string(c, kt_jv_get(spec, "ingressClassName"), "spec.ingressClassName"),
		    "spec.ingressClassName");
	judge_class(c, kt_meta_annotation(c, "kubernetes.io/ingress.class"),
		    "metadata.annotations[kubernetes.io/ingress.class]");
	if (!kt_jv_absent(kt_jv_get(spec, "defaultBackend")) ||
	    !kt_jv_absent(kt_jv_get(spec, "backend")))
		kt_pctx_deny(c, "hostnames.ingress-catch-all",
			     kt_jv_ok(kt_jv_get(spec, "defaultBackend")) ? "spec.defaultBackend"
									 : "spec.backend",
			     "a default backend receives requests for every hostname, including "
			     "other tenants'; remove it and give each rule a host");
	kt_each (rule, kt_as_list(c, kt_jv_get(spec, "rules"), "spec.rules")) {
		struct kt_jv host = kt_jv_get(rule.v, "host");

		kt_pctx_path(path, sizeof(path), "spec.rules[%zu].host", rule.i);
		if (kt_jv_absent(host) || kt_jv_streq(host, ""))
			kt_pctx_deny(c, "hostnames.ingress-catch-all", path,
				     "a rule without host matches every hostname, including other "
				     "tenants'; set host to one of the tenant's names");
		else
			judge_host_value(c, host, true, path, "ingress host");
	}
	kt_each (tls, kt_as_list(c, kt_jv_get(spec, "tls"), "spec.tls")) {
		struct kt_jv hosts = kt_jv_get(tls.v, "hosts");

		if (!kt_jv_is(hosts, KT_J_ARRAY) || !kt_jv_size(hosts))
			kt_pctx_deny(c, "hostnames.ingress-catch-all",
				     kt_pctx_path(path, sizeof(path), "spec.tls[%zu].hosts", tls.i),
				     "a TLS entry without hosts applies to every hostname; list the "
				     "hosts it serves");
		kt_each (h, hosts) {
			kt_pctx_path(path, sizeof(path), "spec.tls[%zu].hosts[%zu]", tls.i, h.i);
			judge_host_value(c, h.v, true, path, "TLS host");
		}
	}
	/* annotation values are strings: judge() checked */
	judge_aliases(c, kt_meta_annotation(c, "nginx.ingress.kubernetes.io/server-alias"));
	kt_annotations_ingress(c);
	judge_issuer_annotations(c);
}

/* ---- Gateway API ---- */

/*
 * A route without hostnames matches every hostname its listener serves.
 * TCPRoute and UDPRoute have no hostnames at all: each takes a whole
 * listener port of the shared gateway.  The platform exposes such a port
 * with a route of its own, outside the tenant namespaces.
 */
static void judge_route(struct kt_pctx *c)
{
	struct kt_jv hosts = kt_jv_get(kt_jv_get(c->obj, "spec"), "hostnames");
	char path[KT_PCTX_PATH_MAX];

	if (!strcmp(c->kind, "TCPRoute") || !strcmp(c->kind, "UDPRoute")) {
		kt_pctx_deny(c, "hostnames.route-without-hostnames", "kind",
			     "a %s has no hostnames: it takes a whole listener port of the gateway, "
			     "for every tenant; ask the platform to expose the port",
			     c->kind);
		return;
	}
	if (!kt_jv_is(hosts, KT_J_ARRAY) || !kt_jv_size(hosts)) {
		kt_pctx_deny(c, "hostnames.route-without-hostnames", "spec.hostnames",
			     "a %s without hostnames matches every hostname of the gateway, "
			     "including other tenants'; list the tenant's hostnames",
			     c->kind);
		return;
	}
	kt_each (h, hosts) {
		kt_pctx_path(path, sizeof(path), "spec.hostnames[%zu]", h.i);
		judge_host_value(c, h.v, true, path, "route hostname");
	}
}

/* ---- cert-manager ---- */

static void judge_certificate(struct kt_pctx *c)
{
	static const char *const sans[] = { "uris", "emailAddresses", "ipAddresses", "otherNames" };
	struct kt_jv spec = kt_jv_get(c->obj, "spec"), cn;
	char path[KT_PCTX_PATH_MAX];
	unsigned i;

	if (!kt_jv_is(spec, KT_J_OBJECT)) {
		kt_pctx_deny(c, "request.malformed", "spec", "certificate must have a spec object");
		return;
	}
	kt_each (n, kt_as_list(c, kt_jv_get(spec, "dnsNames"), "spec.dnsNames")) {
		kt_pctx_path(path, sizeof(path), "spec.dnsNames[%zu]", n.i);
		judge_host_value(c, n.v, true, path, "certificate DNS name");
	}
	/* "" is no common name to cert-manager (omitempty) */
	cn = kt_jv_get(spec, "commonName");
	if (!kt_jv_absent(cn) && !kt_jv_streq(cn, "")) {
		bool listed = false;

		judge_host_value(c, cn, true, "spec.commonName", "certificate common name");
		kt_each (n, kt_jv_get(spec, "dnsNames"))
			listed |= kt_jv_is(n.v, KT_J_STRING) && kt_jv_is(cn, KT_J_STRING) &&
				  !strcasecmp(kt_jv_str(n.v), kt_jv_str(cn));
		/* cert-manager puts it in the CSR's subject only: csr.c refuses that */
		if (kt_jv_is(cn, KT_J_STRING) && !listed)
			kt_pctx_warn(c, "hostnames.common-name-not-listed", "spec.commonName",
				     "commonName is not among dnsNames: the CertificateRequest made "
				     "from it will be refused; list it in dnsNames too");
	}
	for (i = 0; i < 4; i++) {
		struct kt_jv v = kt_jv_get(spec, sans[i]);

		if (!kt_jv_absent(v) && (!kt_jv_is(v, KT_J_ARRAY) || kt_jv_size(v)))
			kt_pctx_deny(c, "hostnames.certificate-san",
				     kt_pctx_path(path, sizeof(path), "spec.%s", sans[i]),
				     "certificates of tenants may only name DNS hostnames; remove %s",
				     sans[i]);
	}
	if (!kt_jv_absent(kt_jv_get(spec, "literalSubject")))
		kt_pctx_deny(c, "hostnames.certificate-san", "spec.literalSubject",
			     "a literal subject cannot be checked; use commonName");
	if (kt_as_true(c, kt_jv_get(spec, "isCA"), "spec.isCA"))
		kt_pctx_deny(c, "hostnames.certificate-ca", "spec.isCA",
			     "a CA certificate could sign any hostname; tenants may not request one");
	judge_issuer_ref(c, spec);
}

/* The names inside the CSR are what the CA signs: judge them, not the spec's copy. */
static void judge_csr(struct kt_pctx *c, const char *b64)
{
	struct kt_csr csr;
	char why[256];
	bool other = false;

	switch (kt_csr_read(b64, strlen(b64), &csr, why, sizeof(why))) {
	case KT_OK:
		break;
	case KT_E_NOMEM:
		c->rc = KT_E_NOMEM;
		return;
	default:
		kt_pctx_deny(c, "hostnames.invalid-csr", "spec.request",
			     "spec.request is refused: %s", why);
		return;
	}
	/* the common name is one of the DNS names (kt_csr_read), judged with them */
	for (size_t i = 0; i < csr.n; i++)
		if (csr.names[i].kind == KT_CSR_DNS)
			judge_host(c, csr.names[i].value, true, "spec.request", "CSR DNS name");
		else if (csr.names[i].kind != KT_CSR_CN)
			other = true;
	if (other)
		kt_pctx_deny(c, "hostnames.certificate-san", "spec.request",
			     "the CSR names an IP address, URI or email; tenants may only name DNS "
			     "hostnames");
	if (csr.subject_email)
		kt_pctx_deny(c, "hostnames.certificate-san", "spec.request",
			     "the CSR subject has an email address; tenants may only name DNS "
			     "hostnames");
	if (csr.ca)
		kt_pctx_deny(c, "hostnames.certificate-ca", "spec.request",
			     "the CSR asks for a CA certificate, which could sign any hostname");
	kt_csr_release(&csr);
}

static void judge_certificate_request(struct kt_pctx *c)
{
	struct kt_jv spec = kt_jv_get(c->obj, "spec");
	const char *req = kt_gets(spec, "request");

	if (!kt_jv_is(spec, KT_J_OBJECT) || !req) {
		kt_pctx_deny(c, "request.malformed", "spec.request",
			     "certificate request must have spec.request");
		return;
	}
	judge_csr(c, req);
	if (kt_as_true(c, kt_jv_get(spec, "isCA"), "spec.isCA"))
		kt_pctx_deny(c, "hostnames.certificate-ca", "spec.isCA",
			     "a CA certificate could sign any hostname; tenants may not request one");
	judge_issuer_ref(c, spec);
}

/*
 * ACME Orders and Challenges are cert-manager's own bookkeeping: it makes an
 * Order from a CertificateRequest it has judged, and Challenges from the
 * Order.  Written by anyone else they skip the request (and its issuer
 * allow-list): an Order names any host against any ClusterIssuer, a
 * Challenge picks the solver that holds the issuer's DNS credentials.
 */
static void judge_acme(struct kt_pctx *c)
{
	if (kt_managed_exempt(c))
		return;
	kt_pctx_deny(c, "hostnames.acme-object", "kind",
		     "ACME %ss are created by cert-manager from a CertificateRequest; tenants may "
		     "not write them: request a Certificate instead",
		     c->kind);
}

/* ---- external-dns DNSEndpoint ---- */

/*
 * SRV and TXT records live under "_name" labels ("_sip._tcp.app.example.org",
 * "_dmarc.app.example.org"): a leading run of them is the owner's to write,
 * and the name under it is judged.  The length of that run, or 0 when there
 * is none or it is malformed (then the whole name is judged, and refused).
 * Only DNS records: a hostname that a proxy or a CA acts on has no '_'.
 */
static size_t underscore_labels(const char *h)
{
	size_t n = 0;

	while (h[n] == '_') {
		size_t l = 1 + strspn(h + n + 1, "abcdefghijklmnopqrstuvwxyz"
						 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");

		if (l < 2 || l > 63 || h[n + l] != '.')
			return 0;
		n += l + 1;
	}
	return n;
}

static void judge_dns_endpoint(struct kt_pctx *c)
{
	char path[KT_PCTX_PATH_MAX], where[96];

	struct kt_jv spec = kt_as_object(c, kt_jv_get(c->obj, "spec"), "spec");

	kt_each (e, kt_as_list(c, kt_jv_get(spec, "endpoints"), "spec.endpoints")) {
		struct kt_jv name = kt_jv_get(e.v, "dnsName");
		const char *s = kt_jv_str(name);
		size_t skip = s ? underscore_labels(s) : 0;

		kt_pctx_path(path, sizeof(path), "spec.endpoints[%zu].dnsName", e.i);
		if (!skip) {
			judge_host_value(c, name, true, path, "DNS endpoint name");
			continue;
		}
		snprintf(where, sizeof(where), "DNS record '%.*s' under the name", (int)skip, s);
		judge_host(c, s + skip, false, path, where);
	}
}

bool kt_hostnames_dispatch(struct kt_pctx *c)
{
	const char *g = c->group, *k = c->kind;

	if (*c->sub)
		return false;
	if ((!strcmp(g, "networking.k8s.io") || !strcmp(g, "extensions")) &&
	    !strcmp(k, "Ingress")) {
		judge_ingress(c);
		return true;
	}
	if (!strcmp(g, "gateway.networking.k8s.io") &&
	    (!strcmp(k, "HTTPRoute") || !strcmp(k, "GRPCRoute") || !strcmp(k, "TLSRoute") ||
	     !strcmp(k, "TCPRoute") || !strcmp(k, "UDPRoute"))) {
		judge_route(c);
		return true;
	}
	if ((!strcmp(g, "gateway.networking.k8s.io") ||
	     !strcmp(g, "gateway.networking.x-k8s.io")) &&
	    (!strcmp(k, "Gateway") || !strcmp(k, "ListenerSet") || !strcmp(k, "XListenerSet"))) {
		kt_pctx_deny(c, "hostnames.gateway", "kind",
			     "tenants may not run their own %s: its listeners claim hostnames and "
			     "ports for the whole cluster; attach routes to the platform's gateway",
			     k);
		judge_issuer_annotations(c);
		return true;
	}
	if (!strcmp(g, "cert-manager.io") && !strcmp(k, "Certificate")) {
		judge_certificate(c);
		return true;
	}
	if (!strcmp(g, "cert-manager.io") && !strcmp(k, "CertificateRequest")) {
		judge_certificate_request(c);
		return true;
	}
	if (!strcmp(g, "acme.cert-manager.io") &&
	    (!strcmp(k, "Order") || !strcmp(k, "Challenge"))) {
		judge_acme(c);
		return true;
	}
	if (!strcmp(g, "externaldns.k8s.io") && !strcmp(k, "DNSEndpoint")) {
		judge_dns_endpoint(c);
		return true;
	}
	return false;
}
