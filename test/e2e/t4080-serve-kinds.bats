#!/usr/bin/env bats
# kubetenant serve: the kinds a tenant can write through the aggregated
# `admin` role (docs/tenant-kinds.md), judged over HTTPS by /validate and
# /mutate alike: each bypass denied with its rule, its legitimate twin
# allowed.

load serve-lib

setup_file() { serve_certs; }
setup() {
	serve_certs
	serve_start
}
teardown() { serve_stop; }

# kreview UID GROUP/VERSION KIND RESOURCE OBJECT-JSON [USER] [GROUPS-JSON]:
# a CREATE review in team-a as the API server sends it.
kreview() {
	local gv=$2 group=${2%/*} version=${2#*/}
	[ "$group" != "$gv" ] || group=
	jq -cn --arg uid "$1" --arg g "$group" --arg v "$version" --arg kind "$3" \
		--arg res "$4" --argjson obj "$5" \
		--arg user "${6:-system:serviceaccount:team-a:tenant-flux}" \
		--argjson groups "${7:-[\"system:serviceaccounts\", \"system:serviceaccounts:team-a\", \"system:authenticated\"]}" '{
		apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview",
		request: {
			uid: $uid,
			kind: {group: $g, version: $v, kind: $kind},
			resource: {group: $g, version: $v, resource: $res},
			requestKind: {group: $g, version: $v, kind: $kind},
			requestResource: {group: $g, version: $v, resource: $res},
			name: $obj.metadata.name, namespace: "team-a", operation: "CREATE",
			userInfo: {username: $user, groups: $groups},
			object: ($obj + {metadata: ($obj.metadata + {namespace: "team-a"})}),
			oldObject: null, dryRun: false,
			options: {apiVersion: "meta.k8s.io/v1", kind: "CreateOptions"}
		}}'
}

# verdict FILE ENDPOINT: "allowed" or the denial message
verdict() {
	run post_review "/$2" "$1" -w '\n%{http_code}'
	[ "${lines[1]}" = 200 ]
	if [ "$(jq -r .response.allowed <<<"${lines[0]}")" = true ]; then
		echo allowed
	else
		jq -r .response.status.message <<<"${lines[0]}"
	fi
}

# expect_denied FILE RULE MESSAGE-SUBSTRING (both endpoints)
expect_denied() {
	local ep v
	for ep in validate mutate; do
		v=$(verdict "$1" "$ep")
		[[ "$v" == *"$3"* ]] || { echo "$ep: $v" >&2; return 1; }
	done
	logq "[.[] | select(.msg == \"admission\" and .verdict == \"denied\"
		and (.rules | index(\"$2\")))] | length >= 2"
}

expect_allowed() {
	local ep v
	for ep in validate mutate; do
		v=$(verdict "$1" "$ep")
		[ "$v" = allowed ] || { echo "$ep: $v" >&2; return 1; }
	done
}

@test "ACME: a tenant's Order and Challenge are denied; cert-manager's Order is allowed" {
	order='{"apiVersion":"acme.cert-manager.io/v1","kind":"Order","metadata":{"name":"shop-1"},
		"spec":{"request":"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K",
		"issuerRef":{"group":"cert-manager.io","kind":"ClusterIssuer","name":"letsencrypt-dns"},
		"dnsNames":["shop.team-b.tenants.example.org"]}}'
	kreview uid-o acme.cert-manager.io/v1 Order orders "$order" >"$BATS_TEST_TMPDIR/o.json"
	expect_denied "$BATS_TEST_TMPDIR/o.json" hostnames.acme-object "ACME Orders are created by cert-manager"
	challenge='{"apiVersion":"acme.cert-manager.io/v1","kind":"Challenge","metadata":{"name":"shop-1-1"},
		"spec":{"dnsName":"shop.team-b.tenants.example.org","type":"DNS-01","token":"dG9r","key":"a2V5",
		"url":"https://acme-v02.api.letsencrypt.org/acme/chall-v3/1/x",
		"authorizationURL":"https://acme-v02.api.letsencrypt.org/acme/authz-v3/1",
		"issuerRef":{"group":"cert-manager.io","kind":"ClusterIssuer","name":"letsencrypt-dns"},
		"solver":{"dns01":{"route53":{"region":"eu-west-1"}}},"wildcard":false}}'
	kreview uid-c acme.cert-manager.io/v1 Challenge challenges "$challenge" >"$BATS_TEST_TMPDIR/c.json"
	expect_denied "$BATS_TEST_TMPDIR/c.json" hostnames.acme-object "ACME Challenges are created by cert-manager"
	kreview uid-p acme.cert-manager.io/v1 Order orders "$order" \
		system:serviceaccount:cert-manager:cert-manager \
		'["system:serviceaccounts","system:serviceaccounts:cert-manager","system:authenticated"]' \
		>"$BATS_TEST_TMPDIR/p.json"
	expect_allowed "$BATS_TEST_TMPDIR/p.json"
}

@test "Gateway API: TCPRoute and UDPRoute take a whole port and are denied; an HTTPRoute with the tenant's name is allowed" {
	tcp='{"apiVersion":"gateway.networking.k8s.io/v1alpha2","kind":"TCPRoute","metadata":{"name":"db"},
		"spec":{"parentRefs":[{"group":"gateway.networking.k8s.io","kind":"Gateway","name":"shared",
		"namespace":"gateway-system","sectionName":"tcp-5432"}],
		"rules":[{"backendRefs":[{"group":"","kind":"Service","name":"db","port":5432,"weight":1}]}]}}'
	kreview uid-t gateway.networking.k8s.io/v1alpha2 TCPRoute tcproutes "$tcp" >"$BATS_TEST_TMPDIR/t.json"
	expect_denied "$BATS_TEST_TMPDIR/t.json" hostnames.route-without-hostnames "a TCPRoute has no hostnames"
	udp=$(jq -c '.kind = "UDPRoute"' <<<"$tcp")
	kreview uid-u gateway.networking.k8s.io/v1alpha2 UDPRoute udproutes "$udp" >"$BATS_TEST_TMPDIR/u.json"
	expect_denied "$BATS_TEST_TMPDIR/u.json" hostnames.route-without-hostnames "a UDPRoute has no hostnames"
	http='{"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute","metadata":{"name":"web"},
		"spec":{"parentRefs":[{"name":"shared","namespace":"gateway-system"}],
		"hostnames":["web.team-a.tenants.example.org"],
		"rules":[{"backendRefs":[{"name":"web","port":80}]}]}}'
	kreview uid-h gateway.networking.k8s.io/v1 HTTPRoute httproutes "$http" >"$BATS_TEST_TMPDIR/h.json"
	expect_allowed "$BATS_TEST_TMPDIR/h.json"
}

@test "Flux: Alert, Receiver and ImageUpdateAutomation referring to another namespace are denied" {
	alert='{"apiVersion":"notification.toolkit.fluxcd.io/v1beta3","kind":"Alert","metadata":{"name":"spy"},
		"spec":{"providerRef":{"name":"webhook"},"eventSeverity":"info",
		"eventSources":[{"kind":"HelmRelease","name":"*","namespace":"team-b"}]}}'
	kreview uid-a notification.toolkit.fluxcd.io/v1beta3 Alert alerts "$alert" >"$BATS_TEST_TMPDIR/a.json"
	expect_denied "$BATS_TEST_TMPDIR/a.json" flux.cross-namespace-ref "reference to namespace 'team-b'"
	receiver='{"apiVersion":"notification.toolkit.fluxcd.io/v1","kind":"Receiver","metadata":{"name":"hook"},
		"spec":{"type":"github","events":["push"],"secretRef":{"name":"token"},
		"resources":[{"kind":"GitRepository","name":"flux-system","namespace":"flux-system"}]}}'
	kreview uid-r notification.toolkit.fluxcd.io/v1 Receiver receivers "$receiver" >"$BATS_TEST_TMPDIR/r.json"
	expect_denied "$BATS_TEST_TMPDIR/r.json" flux.cross-namespace-ref "reference to namespace 'flux-system'"
	iua='{"apiVersion":"image.toolkit.fluxcd.io/v1beta2","kind":"ImageUpdateAutomation","metadata":{"name":"bump"},
		"spec":{"interval":"30m","sourceRef":{"kind":"GitRepository","name":"platform","namespace":"flux-system"},
		"git":{"commit":{"author":{"email":"bot@example.org","name":"bot"}}},
		"update":{"path":"./","strategy":"Setters"}}}'
	kreview uid-i image.toolkit.fluxcd.io/v1beta2 ImageUpdateAutomation imageupdateautomations "$iua" \
		>"$BATS_TEST_TMPDIR/i.json"
	expect_denied "$BATS_TEST_TMPDIR/i.json" flux.cross-namespace-ref "reference to namespace 'flux-system'"
	own=$(jq -c 'del(.spec.sourceRef.namespace)' <<<"$iua")
	kreview uid-o image.toolkit.fluxcd.io/v1beta2 ImageUpdateAutomation imageupdateautomations "$own" \
		>"$BATS_TEST_TMPDIR/o.json"
	expect_allowed "$BATS_TEST_TMPDIR/o.json"
}

@test "RBAC: a tenant RoleBinding may bind only the tenant's service accounts and groups" {
	rb='{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"open"},
		"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"},
		"subjects":[{"kind":"Group","name":"system:authenticated","apiGroup":"rbac.authorization.k8s.io"}]}'
	kreview uid-1 rbac.authorization.k8s.io/v1 RoleBinding rolebindings "$rb" >"$BATS_TEST_TMPDIR/1.json"
	expect_denied "$BATS_TEST_TMPDIR/1.json" rbac.foreign-subject "Group 'system:authenticated' is not of tenant 'team-a'"
	other=$(jq -c '.subjects = [{kind: "ServiceAccount", name: "default", namespace: "team-b"},
		{kind: "Group", name: "oidc:team-b.devs", apiGroup: "rbac.authorization.k8s.io"}]' <<<"$rb")
	kreview uid-2 rbac.authorization.k8s.io/v1 RoleBinding rolebindings "$other" >"$BATS_TEST_TMPDIR/2.json"
	expect_denied "$BATS_TEST_TMPDIR/2.json" rbac.foreign-subject "ServiceAccount 'default' of namespace team-b"
	root=$(jq -c '.roleRef.name = "cluster-admin" | .subjects = [{kind: "ServiceAccount", name: "ci"}]' <<<"$rb")
	kreview uid-3 rbac.authorization.k8s.io/v1 RoleBinding rolebindings "$root" >"$BATS_TEST_TMPDIR/3.json"
	expect_denied "$BATS_TEST_TMPDIR/3.json" rbac.cluster-role "ClusterRole 'cluster-admin' is not one a tenant may bind"
	own=$(jq -c '.roleRef.name = "edit" | .subjects = [{kind: "ServiceAccount", name: "ci"},
		{kind: "Group", name: "oidc:team-a.devs", apiGroup: "rbac.authorization.k8s.io"},
		{kind: "Group", name: "system:serviceaccounts:team-a", apiGroup: "rbac.authorization.k8s.io"}]' <<<"$rb")
	kreview uid-4 rbac.authorization.k8s.io/v1 RoleBinding rolebindings "$own" >"$BATS_TEST_TMPDIR/4.json"
	expect_allowed "$BATS_TEST_TMPDIR/4.json"
}
