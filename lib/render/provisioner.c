/*
 * provisioner.c: the blog's Karpenter karpenter.sh/v1alpha5 Provisioner
 * and its karpenter.k8s.aws/v1alpha1 AWSNodeTemplate (--karpenter
 * v1alpha5), for clusters still on Karpenter 0.31 or older.
 *
 * The fields follow the blog's Provisioner: taint, ttlSecondsAfterEmpty
 * (emptyTtl), labels, kubeletConfiguration.clusterDNS and the
 * CostCode/Project/NodePool tags.  The AWS settings the blog wrote inline
 * (`provider:`) live in the AWSNodeTemplate, which replaced `provider` in
 * v1alpha5's last releases:
 *  - instance profile:  KarpenterNodeInstanceProfile-<clusterName>
 *  - security groups:   kubernetes.io/cluster/<clusterName>: owned (the blog's)
 *  - subnets:           karpenter.sh/discovery: <clusterName>
 */
#include <stdio.h>
#include "internal.h"

static int set_int(json_t *o, const char *key, long long v)
{
	return v >= 0 && json_object_set_new(o, key, json_integer(v));
}

enum kt_rc kt_render_provisioner(struct rctx *r, const struct kt_nodepool *p)
{
	const char *cluster = r->cfg->global.cluster_name ? r->cfg->global.cluster_name : "";
	char profile[320], owned[320];
	json_t *spec, *tspec;
	enum kt_rc rc;

	spec = json_pack("{s:o}", "taints", kt_pool_taints(r, p));
	if (spec &&
	    (set_int(spec, "ttlSecondsAfterEmpty", p->empty_ttl) ||
	     set_int(spec, "ttlSecondsUntilExpired", p->ttl) ||
	     json_object_set_new(spec, "labels", kt_pool_labels(r, p)) ||
	     json_object_set_new(spec, "requirements", kt_pool_requirements(p)) ||
	     (r->cfg->global.cluster_dns &&
	      json_object_set_new(spec, "kubeletConfiguration",
				  json_pack("{s:[s]}", "clusterDNS", r->cfg->global.cluster_dns))) ||
	     json_object_set_new(spec, "providerRef", json_pack("{s:s}", "name", p->name)))) {
		json_decref(spec);
		spec = NULL;
	}
	rc = kt_emit(r, json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "karpenter.sh/v1alpha5",
				  "kind", "Provisioner", "metadata", kt_meta(p->name, NULL, NULL),
				  "spec", spec));
	if (rc)
		return rc;

	snprintf(profile, sizeof(profile), "KarpenterNodeInstanceProfile-%s", cluster);
	snprintf(owned, sizeof(owned), "kubernetes.io/cluster/%s", cluster);
	tspec = json_pack("{s:s, s:{s:s}, s:{s:s}, s:o}", "instanceProfile", profile,
			  "securityGroupSelector", owned, "owned", "subnetSelector",
			  "karpenter.sh/discovery", cluster, "tags", kt_pool_tags(p));
	return kt_emit(r, json_pack("{s:s, s:s, s:o, s:o}", "apiVersion",
				    "karpenter.k8s.aws/v1alpha1", "kind", "AWSNodeTemplate",
				    "metadata", kt_meta(p->name, NULL, NULL), "spec", tspec));
}
