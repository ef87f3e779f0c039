#!/usr/bin/env bash
# Gives the global functions of libkt.a that lack it the kt_ prefix, in
# their definitions, declarations and calls, over the C files git knows in
# cmd lib server include test bench.  Safe to run again (after a merge that
# brings new calls under the old names): a name already renamed is left.
#
# Only a call or a declaration is renamed (the name followed by "("), not
# a member (p->meta), not a variable of the same name (json_t *meta), and
# not in a file that defines its own static function of that name (the
# static emit() of cmd/kubeconfig.c).
set -eu
cd "$(dirname "$0")/.."

# old name -> new name
map=(
	# lib/render/emit.c: what every output kind shares
	emit kt_emit
	meta kt_meta
	tenant_meta kt_tenant_meta
	strv_json kt_strv_json
	kvv_json kt_kvv_json
	group_name kt_group_name
	tenant_ns_selector kt_tenant_ns_selector
	# lib/render/deploy.c: pieces of kubetenant's own Deployments
	hardened_container_security kt_hardened_container_security
	hardened_pod_security kt_hardened_pod_security
	https_probe kt_https_probe
	serving_certificate kt_serving_certificate
	spread_affinity kt_spread_affinity
	# lib/render/nodepool.c: shared by both Karpenter APIs
	pool_labels kt_pool_labels
	pool_taints kt_pool_taints
	pool_requirements kt_pool_requirements
	pool_tags kt_pool_tags
	# lib/render/network_kubernetes.c
	allowed_namespaces_selector kt_allowed_namespaces_selector
	# the per-kind builders render.c calls
	render_system_namespace kt_render_system_namespace
	render_clusterrole kt_render_clusterrole
	render_gatekeeper_cluster kt_render_gatekeeper_cluster
	render_webhook kt_render_webhook
	render_tenants_configmap kt_render_tenants_configmap
	render_webhook_configs kt_render_webhook_configs
	render_proxy kt_render_proxy
	render_network_system kt_render_network_system
	render_nodepool kt_render_nodepool
	render_provisioner kt_render_provisioner
	render_namespace kt_render_namespace
	render_access kt_render_access
	render_network_kubernetes kt_render_network_kubernetes
	render_network_calico kt_render_network_calico
	render_network_admin kt_render_network_admin
	render_quota kt_render_quota
	render_flux kt_render_flux
	render_gatekeeper_tenant kt_render_gatekeeper_tenant
	render_ca_issuers kt_render_ca_issuers
	# the identity side and the dashboard's ConfigMap
	render_proxy_oidc_ca kt_render_proxy_oidc_ca
	render_proxy_exposure kt_render_proxy_exposure
	render_cluster_info kt_render_cluster_info
	render_tenant_info kt_render_tenant_info
	with_oidc_ca kt_with_oidc_ca
	proxy_exposure kt_proxy_exposure
	# lib/pss: the evaluator's checks
	pss_check_container kt_pss_check_container
	pss_check_format kt_pss_check_format
	pss_check_id kt_pss_check_id
	pss_check_pod kt_pss_check_pod
	pss_invalid kt_pss_invalid
	# lib/manifest: documents from the YAML reader
	yaml_doc_item_line kt_yaml_doc_item_line
	yaml_doc_reset kt_yaml_doc_reset
	yaml_parse_stream kt_yaml_parse_stream
)

olds=$(printf '%s\n' "${map[@]}" | grep -v '^kt_' | paste -sd'|')
files=$(git ls-files -- cmd lib server include test bench |
	grep -E '\.[ch]$' |
	xargs -r grep -lE "(^|[^A-Za-z0-9_.>])($olds)[[:space:]]*\(" || true)
changed=0
for f in $files; do
	expr=
	i=0
	while [ $i -lt ${#map[@]} ]; do
		old=${map[$i]} new=${map[$((i + 1))]}
		i=$((i + 2))
		grep -qE "(^|[^A-Za-z0-9_.>])$old[[:space:]]*\(" "$f" || continue
		grep -qE "^static [^=;]*[^A-Za-z0-9_]$old\(" "$f" && continue
		expr="$expr;s/(^|[^A-Za-z0-9_.>])$old([[:space:]]*\()/\1$new\2/g"
	done
	[ -n "$expr" ] || continue
	sed -E -i "${expr#;}" "$f"
	changed=$((changed + 1))
done
echo "kt-prefix: $changed files changed"
