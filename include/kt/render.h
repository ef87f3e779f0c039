/*
 * render.h: the tenants file turned into Kubernetes objects.
 *
 * kt_render() is a pure function: a validated configuration, the raw bytes
 * of the tenants file (the webhook's ConfigMap carries them) and a profile
 * in; an ordered stream of objects out.  No I/O, no clock, no environment:
 * the same input gives the same objects, byte for byte, on every machine.
 *
 * Objects are jansson values whose insertion order is the output key order.
 * They are handed to a callback one at a time rather than collected, so a
 * 10,000-tenant render never holds more than one object tree in memory; the
 * caller keeps only the bytes it emitted (kt_render_yaml()).
 *
 * Order: cluster-scoped objects first, then each node pool (sorted by name),
 * then each tenant (sorted by name) with a fixed order inside a tenant
 * (Namespace first, so `kubectl apply` and kustomize create it before the
 * objects that live in it), and last the webhook configurations, so a
 * first apply creates every object before the webhook starts judging.
 */
#ifndef KT_RENDER_H
#define KT_RENDER_H

#include <stddef.h>
#include <jansson.h>
#include "kt/buf.h"
#include "kt/config.h"
#include "kt/err.h"

/* How tenants are kept from reaching each other (--network). */
enum kt_render_network {
	KT_NET_KUBERNETES = 0, /* networking.k8s.io/v1 NetworkPolicy (default) */
	KT_NET_CALICO_CRD,     /* crd.projectcalico.org/v1 NetworkPolicy, as the blog */
	KT_NET_CALICO,         /* projectcalico.org/v3 NetworkPolicy */
	KT_NET_ADMIN, /* policy.networking.k8s.io/v1alpha2 ClusterNetworkPolicy, Baseline tier */
};

/* Who enforces placement, hostnames and service types (--enforcement). */
enum kt_render_enforcement {
	KT_ENF_WEBHOOK = 0, /* kubetenant's own admission webhook (default) */
	KT_ENF_GATEKEEPER,  /* Gatekeeper Assign mutations and constraints, as the blog */
};

/* Which Karpenter API the node pools use (--karpenter). */
enum kt_render_karpenter {
	KT_KARPENTER_V1 = 0,   /* karpenter.sh/v1 NodePool + karpenter.k8s.aws/v1 EC2NodeClass */
	KT_KARPENTER_V1ALPHA5, /* karpenter.sh/v1alpha5 Provisioner + AWSNodeTemplate, as the blog */
};

struct kt_render_opts {
	enum kt_render_network network;
	enum kt_render_enforcement enforcement;
	enum kt_render_karpenter karpenter;
	const char *tenant;       /* only this tenant's objects; NULL = everything */
	const char *group_prefix; /* overrides global.groupPrefix; NULL = use the file's */
	const char *
		default_image; /* used when global.image is unset; NULL = "kubetenant/kubetenant:latest" */
	const char *tenants_yaml; /* raw tenants file for the webhook ConfigMap (borrowed) */
	size_t tenants_yaml_len;
	bool set_exposure; /* --proxy-exposure given: exposure overrides global.oidc.exposure */
	enum kt_exposure exposure;
};

/* Profile names as the command line spells them; -1 when unknown. */
int kt_render_network_parse(const char *s);
int kt_render_enforcement_parse(const char *s);
int kt_render_karpenter_parse(const char *s);
const char *kt_render_network_name(enum kt_render_network n);
const char *kt_render_enforcement_name(enum kt_render_enforcement e);
const char *kt_render_karpenter_name(enum kt_render_karpenter k);

/*
 * Called once per object, in output order.  obj is borrowed: valid during
 * the call only (take a reference with json_incref() to keep it).  A
 * non-KT_OK return stops the render and is returned by kt_render().
 */
typedef enum kt_rc (*kt_render_fn)(void *ctx, json_t *obj, struct kt_err *err);

/*
 * Render every object of cfg (borrowed) under opts.  Returns KT_OK,
 * KT_E_INVALID when opts->tenant names no tenant, KT_E_NOMEM, or whatever
 * fn returned.  Nothing is printed.
 */
enum kt_rc kt_render(const struct kt_config *cfg, const struct kt_render_opts *opts,
		     kt_render_fn fn, void *ctx, struct kt_err *err);

/*
 * Dex's static clients for kubectl and the dashboard (`render --dex`): *out
 * is a new object {staticClients: [...]} to merge into Dex's config.yaml.
 * KT_E_INVALID when cfg has no global.oidc.issuerURL; KT_E_NOMEM.
 */
enum kt_rc kt_render_dex(const struct kt_config *cfg, json_t **out, struct kt_err *err);

/* "ingress", "gateway", "none" as --proxy-exposure spells them; -1 when unknown. */
int kt_render_exposure_parse(const char *s);

/* The same, collected: *out is a new JSON array (new reference; json_decref()). */
enum kt_rc kt_render_list(const struct kt_config *cfg, const struct kt_render_opts *opts,
			  json_t **out, struct kt_err *err);

/*
 * Append obj (borrowed) to out as one YAML document, starting with "---"
 * and without a "..." end, so successive calls make one multi-document
 * stream.  Written by libyaml's emitter: block style, two-space
 * indentation, sequences at their key's indentation (as kubectl writes
 * them), keys in insertion order, no line folding; keys over 128
 * characters come out as "? key" (libyaml's limit for simple keys).  A
 * string is written plain only when no YAML 1.1 or 1.2 reader could take
 * it for anything but that string; otherwise as a literal block when it
 * spans lines and libyaml can write it as one (no tabs or control
 * characters), else double-quoted.  Returns KT_E_NOMEM, KT_E_INVALID for
 * nesting deeper than KT_RENDER_MAX_DEPTH, or KT_E_INTERNAL when libyaml
 * refuses an event; on error out is as it was.
 */
#define KT_RENDER_MAX_DEPTH 64
enum kt_rc kt_render_yaml(json_t *obj, struct kt_buf *out, struct kt_err *err);

/*
 * Where `-o DIR` puts an object: "<namespace>/<kind>-<name>.yaml", or
 * "_cluster/<kind>-<name>.yaml" for cluster-scoped objects ("_" cannot start
 * a namespace name, so the two never collide); kind in lower case.
 * Appends to out; KT_E_INVALID when the object has no kind or name, or a
 * name that is not a safe file name.
 */
enum kt_rc kt_render_path(json_t *obj, struct kt_buf *out, struct kt_err *err);

#endif
