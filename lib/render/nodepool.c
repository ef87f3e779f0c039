/*
 * nodepool.c: one Karpenter karpenter.sh/v1 NodePool and its
 * karpenter.k8s.aws/v1 EC2NodeClass per node pool.
 *
 * Every node of a pool is tainted `<labelDomain>/node-pool=<pool>:NoSchedule`
 * so nothing lands there by accident: only pods that the webhook (or
 * Gatekeeper) gave the pool's toleration and nodeSelector.  The labels and
 * EC2 tags carry the cost code for cost allocation.
 *
 * AWS names derived from global.clusterName (the conventions of Karpenter's
 * getting-started guide, so a cluster set up that way needs no extra keys):
 *  - node IAM role:        KarpenterNodeRole-<clusterName>
 *  - subnets and security groups discovered by the tag
 *                          karpenter.sh/discovery: <clusterName>
 *  - AMI: the al2023@latest alias.
 */
#include <stdio.h>
#include "internal.h"

static json_t *pool_seconds(long long s)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llds", s);
	return json_string(buf);
}

json_t *kt_pool_labels(const struct rctx *r, const struct kt_nodepool *p)
{
	return json_pack("{s:s, s:s}", r->key_pool, p->name, r->key_cost, p->cost_code);
}

json_t *kt_pool_taints(const struct rctx *r, const struct kt_nodepool *p)
{
	return json_pack("[{s:s, s:s, s:s}]", "key", r->key_pool, "value", p->name, "effect",
			 "NoSchedule");
}

/* capacity types (default on-demand) and instance types, both "In" */
json_t *kt_pool_requirements(const struct kt_nodepool *p)
{
	json_t *cap = p->capacity_types.n ? kt_strv_json(&p->capacity_types)
					  : json_pack("[s]", "on-demand");
	json_t *req = json_pack("[{s:s, s:s, s:o}]", "key", "karpenter.sh/capacity-type",
				"operator", "In", "values", cap);

	if (req && p->instance_types.n &&
	    json_array_append_new(req,
				  json_pack("{s:s, s:s, s:o}", "key",
					    "node.kubernetes.io/instance-type", "operator", "In",
					    "values", kt_strv_json(&p->instance_types)))) {
		json_decref(req);
		return NULL;
	}
	return req;
}

/* EC2 tags: CostCode is the organisation, Project and NodePool the pool (as the blog) */
json_t *kt_pool_tags(const struct kt_nodepool *p)
{
	return json_pack("{s:s, s:s, s:s}", "CostCode", p->cost_code, "Project", p->name,
			 "NodePool", p->name);
}

enum kt_rc kt_render_nodepool(struct rctx *r, const struct kt_nodepool *p)
{
	const char *cluster = r->cfg->global.cluster_name ? r->cfg->global.cluster_name : "";
	json_t *tspec, *spec, *ncspec;
	char role[320];
	enum kt_rc rc;

	tspec = json_pack("{s:{s:s, s:s, s:s}, s:o, s:o}", "nodeClassRef", "group",
			  "karpenter.k8s.aws", "kind", "EC2NodeClass", "name", p->name, "taints",
			  kt_pool_taints(r, p), "requirements", kt_pool_requirements(p));
	if (tspec && p->ttl >= 0 &&
	    json_object_set_new(tspec, "expireAfter", pool_seconds(p->ttl))) {
		json_decref(tspec);
		tspec = NULL;
	}
	/*
	 * Empty nodes go away emptyTtl seconds after their last pod; without
	 * emptyTtl they stay ("Never"), as a v1alpha5 Provisioner without
	 * ttlSecondsAfterEmpty did.  Never WhenEmptyOrUnderutilized: moving a
	 * tenant's running pods to pack nodes is the tenant's call, not ours.
	 */
	spec = json_pack("{s:{s:{s:o}, s:o}, s:{s:s, s:o}}", "template", "metadata", "labels",
			 kt_pool_labels(r, p), "spec", tspec, "disruption", "consolidationPolicy",
			 "WhenEmpty", "consolidateAfter",
			 p->empty_ttl >= 0 ? pool_seconds(p->empty_ttl) : json_string("Never"));
	rc = kt_emit(r,
		     json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "karpenter.sh/v1", "kind",
			       "NodePool", "metadata", kt_meta(p->name, NULL, NULL), "spec", spec));
	if (rc)
		return rc;

	snprintf(role, sizeof(role), "KarpenterNodeRole-%s", cluster);
	ncspec =
		json_pack("{s:[{s:s}], s:s, s:[{s:{s:s}}], s:[{s:{s:s}}], s:o}", "amiSelectorTerms",
			  "alias", "al2023@latest", "role", role, "subnetSelectorTerms", "tags",
			  "karpenter.sh/discovery", cluster, "securityGroupSelectorTerms", "tags",
			  "karpenter.sh/discovery", cluster, "tags", kt_pool_tags(p));
	if (ncspec && r->cfg->global.cluster_dns &&
	    json_object_set_new(ncspec, "kubelet",
				json_pack("{s:[s]}", "clusterDNS", r->cfg->global.cluster_dns))) {
		json_decref(ncspec);
		ncspec = NULL;
	}
	return kt_emit(r, json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "karpenter.k8s.aws/v1",
				    "kind", "EC2NodeClass", "metadata",
				    kt_meta(p->name, NULL, NULL), "spec", ncspec));
}
