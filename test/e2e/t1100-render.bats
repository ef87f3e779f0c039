#!/usr/bin/env bats
# kubetenant render: golden files for every profile, the blog's objects,
# determinism, -o DIR, upstream schemas, and errors without partial output.

setup_file() {
	export KT_BIN=${KT_BIN:-$PWD/build/kubetenant}
	export KT_SHARED=${KT_SHARED:-$(cd "$BATS_TEST_DIRNAME/../../.." && pwd)/shared}
	export ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export EXAMPLE=$ROOT/examples/platform.yaml
	export CASES=$ROOT/test/cases/render
}

profiles() {
	local n e k
	for n in kubernetes calico-crd calico admin; do
		for e in webhook gatekeeper; do
			for k in v1 v1alpha5; do
				echo "$n $e $k"
			done
		done
	done
}

# render ARGS... into $out and $err; the status is in $rc
render() {
	out=$BATS_TEST_TMPDIR/out err=$BATS_TEST_TMPDIR/err
	rc=0
	"$KT_BIN" render "$@" >"$out" 2>"$err" || rc=$?
}

# compare $out with a golden file, or rewrite it when KT_UPDATE_GOLDEN=1
golden() {
	if [ "${KT_UPDATE_GOLDEN:-}" = 1 ]; then
		mkdir -p "$(dirname "$1")"
		cp "$out" "$1"
	fi
	if ! cmp -s "$out" "$1"; then
		diff -u "$1" "$out" | head -40
		return 1
	fi
}

@test "render: examples/platform.yaml matches its golden file in every profile" {
	while read -r n e k; do
		render -f "$EXAMPLE" --network "$n" --enforcement "$e" --karpenter "$k"
		[ "$rc" -eq 0 ] || { cat "$err"; false; }
		[ ! -s "$err" ]
		golden "$CASES/$n-$e-$k/expected.yaml" || { echo "profile $n $e $k differs"; false; }
	done < <(profiles)
}

@test "render: the defaults are kubernetes, webhook and v1" {
	render -f "$EXAMPLE"
	[ "$rc" -eq 0 ]
	cmp "$out" "$CASES/kubernetes-webhook-v1/expected.yaml"
}

@test "render: every optional feature matches its golden file" {
	render -f "$CASES/full/tenants.yaml"
	[ "$rc" -eq 0 ] || { cat "$err"; false; }
	golden "$CASES/full/expected.yaml"
	render -f "$CASES/full/tenants.yaml" --network admin --enforcement gatekeeper
	[ "$rc" -eq 0 ]
	golden "$CASES/full/expected-admin-gatekeeper.yaml"
}

@test "render: the identity side matches its golden files (ingress, gateway, Dex)" {
	render -f "$CASES/identity/tenants.yaml"
	[ "$rc" -eq 0 ] || { cat "$err"; false; }
	golden "$CASES/identity/expected.yaml"
	render -f "$CASES/identity/tenants.yaml" --proxy-exposure gateway
	[ "$rc" -eq 0 ] || { cat "$err"; false; }
	golden "$CASES/identity/expected-gateway.yaml"
	render -f "$CASES/identity/tenants.yaml" --dex
	[ "$rc" -eq 0 ] || { cat "$err"; false; }
	golden "$CASES/identity/dex.yaml"
}

@test "render: --proxy-exposure overrides global.oidc.exposure, none drops the exposure" {
	render -f "$CASES/identity/tenants.yaml" --proxy-exposure none --format json
	[ "$rc" -eq 0 ]
	[ "$(jq -c '[.items[] | select(.kind == "Ingress" or .kind == "Gateway" or .kind == "TLSRoute")] | length' "$out")" = 0 ]
	[ "$(jq -c '[.items[] | select(.kind == "Certificate") | .metadata.name] | sort' "$out")" = '["kubetenant-ca","kubetenant-proxy","kubetenant-webhook"]' ]
	render -f "$CASES/identity/tenants.yaml" --proxy-exposure gateway --format json
	[ "$(jq -c '[.items[] | select(.kind == "Ingress")] | length' "$out")" = 0 ]
	[ "$(jq -c '.items[] | select(.kind == "Gateway") | .spec.listeners[0] | [.hostname, .protocol, .tls.mode]' "$out")" = '["kube.example.org","TLS","Passthrough"]' ]
	[ "$(jq -c '.items[] | select(.kind == "TLSRoute") | .spec.rules[0].backendRefs' "$out")" = '[{"name":"kubetenant-proxy","port":443}]' ]
	render -f "$CASES/identity/tenants.yaml" --proxy-exposure ingres
	[ "$rc" -eq 2 ]
	[ ! -s "$out" ]
	grep -q "unknown proxy exposure 'ingres'" "$err"
}

@test "render: --proxy-exposure needs proxyHostname and, for gateway, gatewayClassName" {
	# the full case has a proxyHostname but no gatewayClassName
	render -f "$CASES/full/tenants.yaml" --proxy-exposure gateway
	[ "$rc" -eq 2 ]
	[ ! -s "$out" ]
	grep -q "proxy exposure 'gateway' needs global.oidc.gatewayClassName" "$err"
	sed '/proxyHostname/d' "$CASES/full/tenants.yaml" >"$BATS_TEST_TMPDIR/nohost.yaml"
	render -f "$BATS_TEST_TMPDIR/nohost.yaml" --proxy-exposure ingress
	[ "$rc" -eq 2 ]
	[ ! -s "$out" ]
	grep -q "proxy exposure 'ingress' needs global.oidc.proxyHostname" "$err"
}

@test "render: kube-public/kubetenant-info is readable by name by anyone, and nothing else" {
	render -f "$CASES/identity/tenants.yaml" --format json
	cm='.items[] | select(.kind == "ConfigMap" and .metadata.namespace == "kube-public")'
	[ "$(jq -c "[$cm | .metadata.name]" "$out")" = '["kubetenant-info"]' ]
	[ "$(jq -c "$cm | .data | keys" "$out")" = '["ca.crt","clientID","cluster","issuerURL","proxyURL"]' ]
	[ "$(jq -r "$cm | .data[\"ca.crt\"]" "$out" | openssl x509 -noout -subject)" = 'subject=CN = Example Platform CA' ]
	[ "$(jq -c "$cm | .data | del(.[\"ca.crt\"])" "$out")" = '{"issuerURL":"https://dex.example.org","clientID":"kubectl","proxyURL":"https://kube.example.org","cluster":"demo-cluster"}' ]
	[ "$(jq -c '.items[] | select(.kind == "Role" and .metadata.namespace == "kube-public") | .rules' "$out")" = '[{"apiGroups":[""],"resources":["configmaps"],"resourceNames":["kubetenant-info"],"verbs":["get"]}]' ]
	[ "$(jq -c '[.items[] | select(.kind == "RoleBinding" and .metadata.namespace == "kube-public") | .subjects[].name]' "$out")" = '["system:unauthenticated","system:authenticated"]' ]
	# no proxyCA: no ca.crt key (the proxy's certificate is then publicly trusted)
	render -f "$CASES/full/tenants.yaml" --format json
	[ "$(jq -c "$cm | .data | keys" "$out")" = '["clientID","cluster","issuerURL","proxyURL"]' ]
}

@test "render: the proxy accepts both client IDs and trusts issuerCA through --oidc-ca" {
	render -f "$CASES/identity/tenants.yaml" --format json
	d='.items[] | select(.kind == "Deployment" and .metadata.name == "kubetenant-proxy") | .spec.template.spec'
	# kubectl's last: a proxy that keeps one --audience keeps the last one given
	[ "$(jq -c "[$d | .containers[0].args | indices(\"--audience\")[] as \$i | .[\$i + 1]]" "$out")" = '["dashboard","kubectl"]' ]
	[ "$(jq -c "$d | .containers[0].args | .[index(\"--oidc-ca\") + 1]" "$out")" = '"/etc/kubetenant-oidc-ca/ca.crt"' ]
	[ "$(jq -c "$d | .volumes[] | select(.name == \"oidc-ca\")" "$out")" = '{"name":"oidc-ca","configMap":{"name":"kubetenant-proxy-oidc-ca"}}' ]
	[ "$(jq -r '.items[] | select(.kind == "ConfigMap" and .metadata.name == "kubetenant-proxy-oidc-ca") | .data["ca.crt"]' "$out" | openssl x509 -noout -subject)" = 'subject=CN = Example IdP CA' ]
	# without issuerCA: no --oidc-ca, no ConfigMap
	render -f "$CASES/full/tenants.yaml" --format json
	[ "$(jq -c "[$d | .containers[0].args[] | select(. == \"--oidc-ca\")] | length" "$out")" = 0 ]
	[ "$(jq -c '[.items[] | select(.metadata.name == "kubetenant-proxy-oidc-ca")] | length' "$out")" = 0 ]
}

@test "render: --dex needs an issuer and refuses -o and --tenant" {
	render -f "$EXAMPLE" --dex
	[ "$rc" -eq 2 ]
	[ ! -s "$out" ]
	grep -q "no global.oidc.issuerURL" "$err"
	render -f "$CASES/identity/tenants.yaml" --dex -o "$BATS_TEST_TMPDIR/d"
	[ "$rc" -eq 2 ]
	[ ! -e "$BATS_TEST_TMPDIR/d" ]
	render -f "$CASES/identity/tenants.yaml" --dex --format json
	[ "$rc" -eq 0 ]
	# kubectl's client lists no redirectURIs: Dex then accepts any loopback
	# port and the device flow's callback, which one listed URI would refuse
	[ "$(jq -c '[.staticClients[] | [.id, .public, .redirectURIs]]' "$out")" = '[["kubectl",true,null],["dashboard",true,["https://kube.example.org/ui/"]]]' ]
	[ "$(jq -c '[.staticClients[] | has("secret")] | any' "$out")" = false ]
	# no proxyHostname, no dashboard: its redirect URI would have no host
	sed '/proxyHostname/d; /exposure/d' "$CASES/identity/tenants.yaml" >"$BATS_TEST_TMPDIR/nohost.yaml"
	render -f "$BATS_TEST_TMPDIR/nohost.yaml" --dex --format json
	[ "$rc" -eq 0 ] || { cat "$err"; false; }
	[ "$(jq -c '[.staticClients[].id]' "$out")" = '["kubectl"]' ]
}

@test "render: every object of every golden file validates against its upstream schema" {
	cd "$ROOT/test/schema"
	if [ ! -d node_modules ]; then
		npm ci --no-audit --no-fund --loglevel=error >/dev/null
	fi
	run node validate.mjs "$KT_SHARED/schemas/crds" "$CASES"/*/expected*.yaml
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *" objects valid, 0 failures" ]]
}

# jq over the JSON List of the blog profile
blog() {
	"$KT_BIN" render -f "$EXAMPLE" --network calico-crd --enforcement gatekeeper \
		--karpenter v1alpha5 --format json | jq -ce "$1"
}

@test "render: gatekeeper + calico-crd + v1alpha5 has the blog's Provisioner values" {
	p='.items[] | select(.kind == "Provisioner" and .metadata.name == "sample-team-gitlab-jobs") | .spec'
	[ "$(blog "$p.taints")" = '[{"key":"platform.it.vt.edu/node-pool","value":"sample-team-gitlab-jobs","effect":"NoSchedule"}]' ]
	[ "$(blog "$p.ttlSecondsAfterEmpty")" = 600 ]
	[ "$(blog "$p.labels")" = '{"platform.it.vt.edu/node-pool":"sample-team-gitlab-jobs","platform.it.vt.edu/cost-code":"org1"}' ]
	[ "$(blog "$p.kubeletConfiguration.clusterDNS")" = '["10.1.0.10"]' ]
	t='.items[] | select(.kind == "AWSNodeTemplate" and .metadata.name == "sample-team-gitlab-jobs") | .spec'
	[ "$(blog "$t.tags")" = '{"CostCode":"org1","Project":"sample-team-gitlab-jobs","NodePool":"sample-team-gitlab-jobs"}' ]
	[ "$(blog "$t.securityGroupSelector")" = '{"kubernetes.io/cluster/vt-common-platform-dvlp-cluster":"owned"}' ]
}

@test "render: gatekeeper + calico-crd + v1alpha5 has the blog's Assign mutations" {
	a='.items[] | select(.kind == "Assign" and .metadata.name == "nis-customer-portal-nodepool-selector")'
	[ "$(blog "$a.apiVersion")" = '"mutations.gatekeeper.sh/v1beta1"' ]
	# the blog put it in gatekeeper-system, but Assign is cluster-scoped
	[ "$(blog "$a.metadata.namespace")" = null ]
	[ "$(blog "$a.spec.applyTo")" = '[{"groups":[""],"kinds":["Pod"],"versions":["v1"]}]' ]
	[ "$(blog "$a.spec.match")" = '{"scope":"Namespaced","kinds":[{"apiGroups":["*"],"kinds":["Pod"]}],"namespaces":["nis-customer-portal"]}' ]
	[ "$(blog "$a.spec.location")" = '"spec.nodeSelector"' ]
	[ "$(blog "$a.spec.parameters.assign.value")" = '{"platform.it.vt.edu/node-pool":"sample-team-apps"}' ]
	t='.items[] | select(.kind == "Assign" and .metadata.name == "nis-customer-portal-nodepool-toleration")'
	[ "$(blog "$t.spec.location")" = '"spec.tolerations"' ]
	[ "$(blog "$t.spec.parameters.assign.value")" = '[{"key":"platform.it.vt.edu/node-pool","operator":"Equal","value":"sample-team-apps"}]' ]
}

@test "render: gatekeeper + calico-crd + v1alpha5 has the blog's network, access and domain policies" {
	np='.items[] | select(.kind == "NetworkPolicy" and .metadata.namespace == "nis-customer-portal")'
	[ "$(blog "$np.apiVersion")" = '"crd.projectcalico.org/v1"' ]
	[ "$(blog "$np.metadata.name")" = '"restrict-other-tenants"' ]
	[ "$(blog "$np.spec | [.order, .selector, .types]")" = '[10000,"",["Ingress"]]' ]
	[ "$(blog "$np.spec.ingress[-1]")" = "{\"action\":\"Deny\",\"source\":{\"namespaceSelector\":\"platform.it.vt.edu/purpose == 'platform-tenant'\"}}" ]
	rb='.items[] | select(.kind == "RoleBinding" and .metadata.namespace == "nis-customer-portal")'
	[ "$(blog "$rb.metadata.name")" = '"tenant-access"' ]
	[ "$(blog "$rb.subjects")" = '[{"kind":"Group","name":"oidc:team.devs.platform-access","apiGroup":"rbac.authorization.k8s.io"}]' ]
	[ "$(blog "$rb.roleRef")" = '{"kind":"ClusterRole","name":"platform-tenant","apiGroup":"rbac.authorization.k8s.io"}' ]
	d='.items[] | select(.kind == "AuthorizedDomainPolicy" and .metadata.name == "nis-customer-portal")'
	[ "$(blog "$d.apiVersion")" = '"constraints.gatekeeper.sh/v1beta1"' ]
	[ "$(blog "$d.spec.match.namespaces")" = '["nis-customer-portal"]' ]
	[ "$(blog "[$d.spec.match.kinds[] | .apiGroups[0] + \"/\" + .kinds[]] | sort | join(\" \")")" = '"cert-manager.io/Certificate extensions/Ingress gateway.networking.k8s.io/GRPCRoute gateway.networking.k8s.io/Gateway gateway.networking.k8s.io/HTTPRoute gateway.networking.k8s.io/ListenerSet gateway.networking.k8s.io/TLSRoute networking.k8s.io/Ingress"' ]
	[ "$(blog "$d.spec.parameters.domains")" = '["nis-customer-portal.tenants-example.platform.it.vt.edu","*.nis-customer-portal.tenants-example.platform.it.vt.edu","*.sample-team.org.vt.edu","sample-team.org.vt.edu"]' ]
	[ "$(blog '[.items[] | select(.kind == "Namespace")][0].metadata.labels["platform.it.vt.edu/purpose"]')" = '"platform-tenant"' ]
}

@test "render: output is byte-for-byte deterministic" {
	render -f "$EXAMPLE" --enforcement gatekeeper
	cp "$out" "$BATS_TEST_TMPDIR/first"
	render -f "$EXAMPLE" --enforcement gatekeeper
	cmp "$out" "$BATS_TEST_TMPDIR/first"
	# the same file through stdin gives the same bytes
	"$KT_BIN" render -f - --enforcement gatekeeper <"$EXAMPLE" >"$BATS_TEST_TMPDIR/stdin"
	cmp "$BATS_TEST_TMPDIR/stdin" "$BATS_TEST_TMPDIR/first"
}

@test "render: -o DIR holds the same bytes as stdout, one file per object, listed by kustomization.yaml" {
	dir=$BATS_TEST_TMPDIR/out-dir/nested
	render -f "$CASES/full/tenants.yaml" -o "$dir"
	[ "$rc" -eq 0 ]
	[ ! -s "$out" ]
	render -f "$CASES/full/tenants.yaml"
	files=$(sed -n 's/^- //p' "$dir/kustomization.yaml")
	(cd "$dir" && cat $files) >"$BATS_TEST_TMPDIR/joined"
	cmp "$BATS_TEST_TMPDIR/joined" "$out"
	[ "$(grep -c '^---$' "$out")" -eq "$(echo "$files" | wc -l)" ]
	[ "$(find "$dir" -name '*.yaml' ! -name kustomization.yaml | wc -l)" -eq "$(echo "$files" | wc -l)" ]
	[ -f "$dir/_cluster/clusterrole-platform-tenant.yaml" ]
	[ -f "$dir/alpha/rolebinding-tenant-access.yaml" ]
	[ -f "$dir/kubetenant-system/deployment-kubetenant-webhook.yaml" ]
	head -3 "$dir/kustomization.yaml" | grep -qx 'kind: Kustomization'
}

@test "render: --tenant renders only that tenant, after the webhook's tenants file" {
	render -f "$CASES/full/tenants.yaml" --tenant beta --format json
	[ "$rc" -eq 0 ]
	# the webhook denies a tenant namespace it does not know: the file that
	# lists the tenant is applied first, then the tenant's own objects
	[ "$(jq -c '.items[0] | [.kind, .metadata.namespace, .metadata.name]' "$out")" = \
		'["ConfigMap","kubetenant-system","kubetenant-tenants"]' ]
	[ "$(jq -r '.items[0].data["tenants.yaml"]' "$out")" = "$(cat "$CASES/full/tenants.yaml")" ]
	[ "$(jq -c '[.items[1:][] | .metadata.namespace // .metadata.name] | unique' "$out")" = '["beta"]' ]
	[ "$(jq -r '.items[1].kind' "$out")" = Namespace ]
	# the same ConfigMap as the full render's
	"$KT_BIN" render -f "$CASES/full/tenants.yaml" --format json |
		jq -c '.items[] | select(.kind == "ConfigMap" and .metadata.name == "kubetenant-tenants")' \
		>"$BATS_TEST_TMPDIR/full-cm.json"
	[ "$(jq -c '.items[0]' "$out")" = "$(cat "$BATS_TEST_TMPDIR/full-cm.json")" ]
	# gatekeeper has no webhook to tell: the tenant's objects only
	render -f "$CASES/full/tenants.yaml" --tenant beta --enforcement gatekeeper --format json
	[ "$rc" -eq 0 ]
	[ "$(jq -r '.items[0].kind' "$out")" = Namespace ]
	render -f "$CASES/full/tenants.yaml" --tenant nobody
	[ "$rc" -eq 2 ]
	[ ! -s "$out" ]
	grep -q "tenant 'nobody' is not in the tenants file" "$err"
}

@test "render: --format json is the same objects as the YAML" {
	render -f "$CASES/full/tenants.yaml" --format json
	[ "$rc" -eq 0 ]
	[ "$(jq -r '.kind' "$out")" = List ]
	n=$(jq '.items | length' "$out")
	render -f "$CASES/full/tenants.yaml"
	[ "$n" -eq "$(grep -c '^---$' "$out")" ]
}

@test "render: --group-prefix overrides the file" {
	render -f "$EXAMPLE" --group-prefix corp- --format json
	[ "$(jq -c '[.items[] | select(.kind == "RoleBinding") | .subjects[0].name] | unique' "$out")" = '["corp-team.devs.platform-access"]' ]
}

@test "render: an invalid tenants file gives diagnostics, exit 2 and no output at all" {
	bad=$BATS_TEST_TMPDIR/bad.yaml
	sed 's/nodePool: sample-team-apps/nodePool: no-such-pool/' "$EXAMPLE" >"$bad"
	render -f "$bad"
	[ "$rc" -eq 2 ]
	[ ! -s "$out" ]
	grep -qE "^$bad:[0-9]+:[0-9]+: " "$err"
	render -f "$bad" -o "$BATS_TEST_TMPDIR/never"
	[ "$rc" -eq 2 ]
	[ ! -e "$BATS_TEST_TMPDIR/never" ]
}

@test "render: unreadable input exits 3, usage errors exit 2" {
	render -f "$BATS_TEST_TMPDIR/missing.yaml"
	[ "$rc" -eq 3 ]
	[ ! -s "$out" ]
	render
	[ "$rc" -eq 2 ]
	grep -q "use -f FILE" "$err"
	render -f "$EXAMPLE" --network flannel
	[ "$rc" -eq 2 ]
	grep -q "unknown network profile 'flannel'" "$err"
	render -f "$EXAMPLE" --karpenter v1beta1
	[ "$rc" -eq 2 ]
	render -f "$EXAMPLE" --enforcement kyverno
	[ "$rc" -eq 2 ]
	render -f "$EXAMPLE" --format json -o "$BATS_TEST_TMPDIR/x"
	[ "$rc" -eq 2 ]
	render -f "$EXAMPLE" --bogus
	[ "$rc" -eq 2 ]
	grep -q "^usage: kubetenant render" "$err"
}

@test "render: --help and 'help render' print usage on stdout" {
	render --help
	[ "$rc" -eq 0 ]
	grep -q "^usage: kubetenant render -f FILE" "$out"
	run "$KT_BIN" help render
	[ "$status" -eq 0 ]
	[[ "$output" == *"--network PROFILE"* ]]
}

@test "render: tenant pods are kept out of kubetenant-system in every profile" {
	local q='.items[] | select(.metadata.name == "kubetenant-system-ingress")' n
	# plain NetworkPolicy can only allow: every pod but tenants', and what is not a pod
	"$KT_BIN" render -f "$EXAMPLE" --format json | jq -e "$q | .metadata.namespace == \"kubetenant-system\"
		and .spec.podSelector == {} and .spec.policyTypes == [\"Ingress\"]
		and .spec.ingress == [{from: [
			{namespaceSelector: {matchExpressions: [{key: \"platform.it.vt.edu/purpose\",
				operator: \"NotIn\", values: [\"platform-tenant\"]}]}},
			{ipBlock: {cidr: \"0.0.0.0/0\"}}, {ipBlock: {cidr: \"::/0\"}}]}]"
	# Calico: deny tenant namespaces first, then allow the rest (the API server)
	for n in calico-crd calico; do
		"$KT_BIN" render -f "$EXAMPLE" --network "$n" --format json | jq -e "$q |
			.metadata.namespace == \"kubetenant-system\" and .spec.selector == \"all()\"
			and .spec.ingress == [{action: \"Deny\", source: {namespaceSelector:
				\"platform.it.vt.edu/purpose == 'platform-tenant'\"}}, {action: \"Allow\"}]"
	done
	# admin: a Deny in the Admin tier, which no NetworkPolicy can reopen
	"$KT_BIN" render -f "$EXAMPLE" --network admin --format json | jq -e "$q |
		.spec.tier == \"Admin\" and .spec.subject.namespaces.matchLabels ==
			{\"kubernetes.io/metadata.name\": \"kubetenant-system\"}
		and .spec.ingress == [{name: \"no-tenants\", action: \"Deny\", from: [{namespaces:
			{matchLabels: {\"platform.it.vt.edu/purpose\": \"platform-tenant\"}}}]}]"
	# no kubetenant-system without the webhook or the proxy: no policy either
	"$KT_BIN" render -f "$EXAMPLE" --enforcement gatekeeper --format json |
		jq -e "[$q] == []"
}

# Every container of every Deployment render emits, in every profile the
# golden files cover, with its argv exactly as rendered (files laid out
# under a temporary root): the options parse and the files load.  A golden
# file that froze a truncated list (`--tls-key` with no path) fails here.
@test "render: every rendered container's args parse and load their files (--check-config)" {
	load pod-lib
	local n e k f i=0 name root
	while read -r n e k f; do
		"$KT_BIN" render -f "${f:-$EXAMPLE}" --network "$n" --enforcement "$e" --karpenter "$k" \
			--format json >"$BATS_TEST_TMPDIR/r.json"
		while read -r name; do
			i=$((i + 1))
			root=$BATS_TEST_TMPDIR/pod$i
			pod_layout "$BATS_TEST_TMPDIR/r.json" "$name" "$root"
			mapfile -t argv <"$root/argv"
			run "${argv[0]}" "${argv[1]}" --check-config "${argv[@]:2}"
			[ "$status" -eq 0 ] || { echo "$n $e $k ${f:+full }$name: ${argv[*]}"; echo "$output"; false; }
		done < <(pod_deployments "$BATS_TEST_TMPDIR/r.json")
	done < <(profiles; echo "kubernetes webhook v1 $CASES/full/tenants.yaml"
		echo "admin gatekeeper v1 $CASES/full/tenants.yaml"
		echo "kubernetes webhook v1 $CASES/identity/tenants.yaml")
	[ "$i" -eq 13 ]
}

# serve denies a namespace its tenants file does not know (fail closed),
# which is only right because nothing but tenant namespaces reaches it:
# every webhook selects the tenant purpose label, on the namespace or, for
# Namespace objects themselves, on the object.
@test "render: every webhook routes tenant namespaces only" {
	local n e k hooks
	while read -r n e k; do
		[ "$e" = webhook ] || continue
		"$KT_BIN" render -f "$EXAMPLE" --network "$n" --enforcement "$e" --karpenter "$k" \
			--format json >"$BATS_TEST_TMPDIR/r.json"
		hooks=$(jq '[.items[] | select(.kind | endswith("WebhookConfiguration")) | .webhooks[]] | length' \
			"$BATS_TEST_TMPDIR/r.json")
		[ "$hooks" -eq 4 ]
		run jq -r '.items[] | select(.kind | endswith("WebhookConfiguration")) | .webhooks[]
			| select((.namespaceSelector.matchLabels["platform.it.vt.edu/purpose"] ==
				"platform-tenant") or ((.rules | all(.scope == "Cluster" and
				(.resources | all(startswith("namespaces"))))) and
				.objectSelector.matchLabels["platform.it.vt.edu/purpose"] ==
				"platform-tenant") | not) | .name' "$BATS_TEST_TMPDIR/r.json"
		[ "$status" -eq 0 ]
		[ -z "$output" ] || { echo "$n $e $k: not tenant-only: $output"; false; }
	done < <(profiles)
}

# Gatekeeper's Assign is cluster-scoped (its CRD says so): a namespace on it
# files it under that namespace in -o DIR and in audit's comparison.
@test "render: Gatekeeper Assign objects carry no namespace" {
	"$KT_BIN" render -f "$EXAMPLE" --enforcement gatekeeper --format json |
		jq -e '[.items[] | select(.kind == "Assign")] | length > 0 and all(.metadata.namespace == null)'
	grep -q '^  scope: Cluster$' "$KT_SHARED/schemas/crds/mutations.gatekeeper.sh_assign.yaml"
}

@test "render: the dashboard gets proxy --ui and a kubetenant-tenant ConfigMap the tenant can read" {
	render -f "$CASES/full/tenants.yaml" --format json
	[ "$rc" -eq 0 ] || { cat "$err"; false; }
	cm() { jq -c --arg ns "$1" '.items[] | select(.kind == "ConfigMap" and .metadata.name == "kubetenant-tenant" and .metadata.namespace == $ns)' "$out"; }
	run cm alpha
	[ "$(jq -r .data.nodePool <<<"$output")" = general ]
	[ "$(jq -r .data.costCode <<<"$output")" = platform ]
	[ "$(jq -r .data.podSecurity <<<"$output")" = baseline:v1.30 ]
	[ "$(jq -r .data.serviceTypes <<<"$output")" = $'ClusterIP\nLoadBalancer' ]
	[ "$(jq -r .data.hostnames <<<"$output" | head -2 | tr '\n' ' ')" = "alpha.tenants.example.org *.alpha.tenants.example.org " ]
	[ "$(jq -r '.data.prices | fromjson | .["t3a.large"]' <<<"$output")" = 54.9 ]
	[ "$(jq -r '.metadata.labels["app.kubernetes.io/managed-by"]' <<<"$output")" = kubetenant ]
	[ -n "$(cm beta)" ]
	# readable by the tenant: platform-tenant reads ConfigMaps, tenant-access binds it there
	jq -e '.items[] | select(.kind == "ClusterRole" and .metadata.name == "platform-tenant") |
		.rules[] | select(.apiGroups == [""] and (.resources | index("configmaps")) and (.verbs | index("get")))' "$out" >/dev/null
	jq -e '.items[] | select(.kind == "RoleBinding" and .metadata.namespace == "alpha" and .roleRef.name == "platform-tenant")' "$out" >/dev/null
	jq -e '.items[] | select(.kind == "Deployment" and .metadata.name == "kubetenant-proxy") |
		.spec.template.spec.containers[0].args | index("--ui")' "$out" >/dev/null
	# without global.oidc.dashboard: the proxy, but neither
	grep -v 'dashboard: true' "$CASES/full/tenants.yaml" >"$BATS_TEST_TMPDIR/t.yaml"
	render -f "$BATS_TEST_TMPDIR/t.yaml" --format json
	[ "$rc" -eq 0 ]
	[ "$(jq '[.items[] | select(.metadata.name == "kubetenant-tenant")] | length' "$out")" -eq 0 ]
	grep -q -- '"kubetenant-proxy"' "$out"
	! grep -q -- '"--ui"' "$out"
}
