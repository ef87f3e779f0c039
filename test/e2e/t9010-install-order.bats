#!/usr/bin/env bats
# The apply order of docs/install.md and the README's "Install in a cluster",
# checked against what render emits in every profile: the three selections
# split the render completely, the platform and the webhook come before any
# tenant object, and nothing namespaced comes before its Namespace.

bats_require_minimum_version 1.5.0

KT_BIN=${KT_BIN:-$BATS_TEST_DIRNAME/../../build/kubetenant}
REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

# Exactly as documented (the first test checks the documents carry them).
PHASE='jq "{apiVersion, kind, items: [.items[] | select($1)]}" platform.json'
TENANT='(.metadata.labels // {} | keys | any(endswith("/tenant")))'
HOOK='(.kind | endswith("WebhookConfiguration"))'

phase() { jq "{apiVersion, kind, items: [.items[] | select($1)]}" "$T/platform.json"; }

setup() {
	T=$BATS_TEST_TMPDIR
}

# "kind ns/name" per object of a List, in order.
ids() { jq -r '.items[] | "\(.kind) \(.metadata.namespace // "")/\(.metadata.name)"'; }

@test "the documents give the selections this test checks" {
	for doc in docs/install.md README.md; do
		grep -qF "phase() { $PHASE; }" "$REPO/$doc"
		grep -qF "tenant='$TENANT'" "$REPO/$doc"
		grep -qF "hook='$HOOK'" "$REPO/$doc"
		grep -qF 'phase "($tenant | not) and ($hook | not)" | kubectl apply -f -' "$REPO/$doc"
		grep -qF 'phase "$hook" | kubectl apply -f -' "$REPO/$doc"
		grep -qF 'phase "$tenant" | kubectl apply -f -' "$REPO/$doc"
	done
}

# Fails naming each namespaced object that comes before its Namespace.
before_namespace() {
	awk '$1 == "Namespace" { split($2, p, "/"); seen[p[2]] = 1; next }
	     $1 == "Assign" { next }   # cluster-scoped: the namespace render gives it is dropped
	     { split($2, p, "/"); if (p[1] != "" && !seen[p[1]]) { print "before its Namespace: " $0; bad = 1 } }
	     END { exit bad }'
}

check_profile() { # tenants file, render flags...
	local file=$1 tenant hook
	shift
	tenant=$TENANT hook=$HOOK
	"$KT_BIN" render -f "$file" "$@" --format json >"$T/platform.json"
	phase "($tenant | not) and ($hook | not)" | ids >"$T/1"
	phase "$hook" | ids >"$T/2"
	phase "$tenant" | ids >"$T/3"
	ids <"$T/platform.json" >"$T/all"

	# a complete split, each object once
	[ "$(sort "$T/1" "$T/2" "$T/3")" = "$(sort "$T/all")" ]
	[ "$(sort "$T/all" | uniq -d)" = "" ]
	[ -s "$T/1" ]
	[ -s "$T/3" ]

	# render's own order is 1, 3, 2: the steps only move the webhooks before the tenants
	[ "$(cat "$T/1" "$T/3" "$T/2")" = "$(cat "$T/all")" ]

	# step 1: kubetenant-system (when there is anything in it) first, nothing in a tenant
	# namespace; kube-public (kubetenant-info, with an OIDC proxy) is the API server's own
	if grep -q ' kubetenant-system/' "$T/all"; then
		[ "$(head -1 "$T/1")" = "Namespace /kubetenant-system" ]
	fi
	run grep -vE '^[A-Za-z0-9]+ (kubetenant-system|kube-public)?/' "$T/1"
	[ "$status" -eq 1 ]

	# step 3 selects every tenant Namespace; each namespaced object follows its Namespace
	[ "$(grep '^Namespace ' "$T/3" | cut -d/ -f2)" = "$(jq -r '[.items[].metadata.labels // {}
		| to_entries[] | select(.key | endswith("/tenant")) | .value] | unique[]' "$T/platform.json")" ]
	before_namespace <"$T/3"

	if [[ " $* " == *" --enforcement gatekeeper "* ]]; then
		[ ! -s "$T/2" ]
	else
		[ "$(cat "$T/2")" = "$(printf '%s\n' 'MutatingWebhookConfiguration /kubetenant' \
			'ValidatingWebhookConfiguration /kubetenant')" ]
		# the webhook's ConfigMap and certificate come before its Deployment, in step 1
		grep -n . "$T/1" | awk -F: '
			$2 == "ConfigMap kubetenant-system/kubetenant-tenants" { cm = $1 }
			$2 == "Certificate kubetenant-system/kubetenant-webhook" { crt = $1 }
			$2 == "Deployment kubetenant-system/kubetenant-webhook" { dep = $1 }
			END { exit !(cm && crt && dep && cm < dep && crt < dep) }'
		# and it lists every tenant: the webhook knows them all before step 4
		jq -j '.items[] | select(.kind == "ConfigMap" and .metadata.name == "kubetenant-tenants")
			| .data["tenants.yaml"]' "$T/platform.json" >"$T/cm.yaml"
		cmp "$T/cm.yaml" "$file"
	fi
}

@test "every profile: three steps that split the render, platform and webhook before tenants" {
	for network in kubernetes calico-crd calico admin; do
		for enforcement in webhook gatekeeper; do
			for karpenter in v1 v1alpha5; do
				echo "full.yaml $network $enforcement $karpenter"
				check_profile "$REPO/test/fixtures/full.yaml" --network "$network" \
					--enforcement "$enforcement" --karpenter "$karpenter"
			done
		done
	done
	# no proxy: with gatekeeper, nothing at all in kubetenant-system
	for enforcement in webhook gatekeeper; do
		echo "platform.yaml $enforcement"
		check_profile "$REPO/examples/platform.yaml" --enforcement "$enforcement"
	done
}

@test "the checks are not vacuous: a tenant object in step 1, or before its Namespace, fails them" {
	# tenant-access without its tenant label would land in step 1
	"$KT_BIN" render -f "$REPO/examples/platform.yaml" --format json |
		jq '(.items[] | select(.kind == "RoleBinding") | .metadata.labels) |= with_entries(select(.key | endswith("/tenant") | not))' \
		>"$T/platform.json"
	phase "($TENANT | not) and ($HOOK | not)" | ids >"$T/1"
	run grep -vE '^[A-Za-z0-9]+ (kubetenant-system)?/' "$T/1"
	[ "$status" -eq 0 ]
	[[ "$output" == "RoleBinding nis-customer-portal/tenant-access"* ]]
	# a tenant's objects before its Namespace
	"$KT_BIN" render -f "$REPO/examples/platform.yaml" --format json |
		jq '.items |= (map(select(.kind != "Namespace")) + map(select(.kind == "Namespace")))' \
		>"$T/platform.json"
	phase "$TENANT" | ids >"$T/3"
	run before_namespace <"$T/3"
	[ "$status" -eq 1 ]
	[[ "$output" == *"before its Namespace: RoleBinding nis-customer-portal/tenant-access"* ]]
}

@test "the README's install commands, run as written, apply the whole render: platform, webhooks, tenants" {
	# the sh block of "## Install in a cluster", with kubectl recording what it applies
	awk '/^## Install in a cluster/ { s = 1 } s && /^```sh$/ { b = 1; next } b && /^```$/ { exit }
	     b { print }' "$REPO/README.md" >"$T/install.sh"
	grep -q 'kubectl apply' "$T/install.sh"
	cp "$REPO/examples/platform.yaml" "$T/tenants.yaml"
	cd "$T"
	run bash -euo pipefail -c '
		kubetenant() { "$KT_BIN" "$@"; }
		kubectl() { # in a pipeline: a subshell, so the count lives in a file
			local n
			if [ "$1" = apply ]; then
				n=$(($(cat count 2>/dev/null || echo 0) + 1))
				echo "$n" >count
				cat >"applied.$n"
			fi
		}
		. ./install.sh
		echo "$(cat count) applies"'
	[ "$status" -eq 0 ]
	[ "$output" = "3 applies" ]
	"$KT_BIN" render -f tenants.yaml --format json >all.json
	jq -r '.items[] | select(.kind | endswith("WebhookConfiguration") | not)
		| select(.metadata.labels | keys | any(endswith("/tenant")) | not) | .kind' all.json >want.1
	[ "$(jq -r '.items[].kind' applied.1)" = "$(cat want.1)" ]
	[ "$(jq -r '.items[].kind' applied.2)" = "$(printf '%s\n' MutatingWebhookConfiguration ValidatingWebhookConfiguration)" ]
	[ "$(jq -r '.items[0] | .kind + "/" + .metadata.name' applied.3)" = Namespace/nis-customer-portal ]
	# nothing lost, nothing twice, and the same objects byte for byte
	[ "$(jq -c '.items[]' applied.1 applied.2 applied.3 | sort)" = "$(jq -c '.items[]' all.json | sort)" ]
}
