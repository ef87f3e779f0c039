# proxy_lib.bash: shared setup of the proxy's end-to-end tests (t5xxx).
#
# proxy_env_up starts, in $PROXY_DIR:
#   - a private CA and certificates for 127.0.0.1,
#   - the OIDC issuer (fixtures/issuer.js, the npm package oidc-provider),
#   - the fake API server (fixtures/upstream.js), recording every request
#     it receives in $REC,
#   - kubetenant proxy itself between them,
# and exports PROXY_PORT, METRICS_PORT, ISSUER, TOKEN (a real token from the
# issuer) and KUBECTL (kubectl pointed at the proxy).  Processes are
# stopped by their pid in proxy_env_down.  Its pieces (proxy_dir_up,
# serve_fixture, start_proxy) serve set-ups with other fixtures (t5060).

KT_BIN=${KT_BIN:-$BATS_TEST_DIRNAME/../../build/kubetenant}
FIXTURES=$BATS_TEST_DIRNAME/fixtures

free_port() {
	node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

wait_https() { # url [pid]: up to 30 s (node starts slowly on a loaded machine)
	local i
	for i in $(seq 1 300); do
		curl -sf --cacert "$PROXY_DIR/ca.crt" -o /dev/null "$1" && return 0
		if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then
			echo "the server for $1 exited" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "timeout waiting for $1" >&2
	return 1
}

make_certs() {
	local d=$PROXY_DIR n
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=kt-test-ca -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$d/ext"
	for n in issuer upstream proxy proxy2; do
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$n" \
			-keyout "$d/$n.key" -out "$d/$n.csr" 2>/dev/null
		openssl x509 -req -in "$d/$n.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
			-CAcreateserial -days 2 -extfile "$d/ext" -out "$d/$n.crt" 2>/dev/null
	done
}

fixtures_ready() {
	[ -d "$FIXTURES/node_modules/oidc-provider" ] && [ -d "$FIXTURES/node_modules/spdy-transport" ] ||
		(cd "$FIXTURES" && npm ci --no-audit --no-fund >/dev/null 2>&1)
}

# Start the proxy in the background; later flags override the defaults here.
launch_proxy() { # extra flags...
	"$KT_BIN" proxy --issuer-url "$ISSUER" --audience kubernetes --oidc-ca "$PROXY_DIR/ca.crt" \
		--upstream "https://127.0.0.1:$UPSTREAM_PORT" --upstream-ca "$PROXY_DIR/ca.crt" \
		--token-file "$PROXY_DIR/sa.token" --tls-cert "$PROXY_DIR/proxy.crt" \
		--tls-key "$PROXY_DIR/proxy.key" --listen "127.0.0.1:$PROXY_PORT" \
		--metrics-listen "127.0.0.1:$METRICS_PORT" "$@" \
		>>"$PROXY_DIR/proxy.log" 2>&1 &
	echo $! >"$PROXY_DIR/proxy.pid"
}

start_proxy() { # extra flags...: launch and wait until ready
	launch_proxy "$@"
	wait_https "https://127.0.0.1:$PROXY_PORT/readyz" "$(cat "$PROXY_DIR/proxy.pid")"
}

stop_proxy() {
	local pid
	pid=$(cat "$PROXY_DIR/proxy.pid" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	rm -f "$PROXY_DIR/proxy.pid"
	# a sanitizer report (leak, overflow, undefined behaviour) fails the test
	if grep -qE '^(==[0-9]+==ERROR|.*runtime error:)' "$PROXY_DIR/proxy.log"; then
		cat "$PROXY_DIR/proxy.log" >&2
		return 99
	fi
}

issuer_token() { # client id, form-urlencoded as OAuth 2.0 basic auth wants
	curl -sf --cacert "$PROXY_DIR/ca.crt" -u "${1:-kubectl-ci}:ci-secret" \
		-d grant_type=client_credentials -d resource=urn:kubetenant:api \
		"$ISSUER/token" | jq -r .access_token
}

mint() { # spec json
	node "$FIXTURES/mint.js" "$PROXY_DIR/sign.jwk" "$1"
}

# $PROXY_DIR with what every proxy test starts from: certificates, the
# issuer's signing key, the proxy's service account token.
proxy_dir_up() {
	export PROXY_DIR=$BATS_FILE_TMPDIR/proxy
	mkdir -p "$PROXY_DIR"
	make_certs
	node "$FIXTURES/mint.js" --genkey k1 >"$PROXY_DIR/sign.jwk"
	echo "proxy-sa-token-1" >"$PROXY_DIR/sa.token"
}

# Start `node fixtures/SCRIPT PORT NAME.crt NAME.key ARGS...` on a free port
# (pid and log as $PROXY_DIR/NAME.pid, NAME.log) and wait until https PATH
# answers; the port in $FIXTURE_PORT.  A port found free may be taken before
# the server binds it: three tries.
serve_fixture() { # name script path args...
	local name=$1 script=$2 path=$3 try
	shift 3
	for try in 1 2 3; do
		FIXTURE_PORT=$(free_port)
		node "$FIXTURES/$script" "$FIXTURE_PORT" "$PROXY_DIR/$name.crt" "$PROXY_DIR/$name.key" \
			"$@" >"$PROXY_DIR/$name.log" 2>&1 &
		echo $! >"$PROXY_DIR/$name.pid"
		wait_https "https://127.0.0.1:$FIXTURE_PORT$path" $! && return 0
		kill $! 2>/dev/null || true
	done
	echo "$script did not start after $try tries" >&2
	return 1
}

proxy_env_up() {
	fixtures_ready
	proxy_dir_up
	node "$FIXTURES/mint.js" --genkey k2 >"$PROXY_DIR/other.jwk"
	export REC=$PROXY_DIR/upstream.jsonl
	: >"$REC"
	serve_fixture issuer issuer.js /.well-known/openid-configuration "$PROXY_DIR/sign.jwk"
	export ISSUER_PORT=$FIXTURE_PORT ISSUER=https://127.0.0.1:$FIXTURE_PORT
	serve_fixture upstream upstream.js /version "$REC"
	export UPSTREAM_PORT=$FIXTURE_PORT
	export PROXY_PORT=$(free_port) METRICS_PORT=$(free_port)
	start_proxy
	export TOKEN=$(issuer_token)
	[ -n "$TOKEN" ] && [ "$TOKEN" != null ]
}

# $TENANTS: three tenants whose members log in at $ISSUER as client $1.
write_tenants() { # client id
	export TENANTS=$PROXY_DIR/tenants.yaml
	cat >"$TENANTS" <<-EOF
	global:
	  tenantHostPrefix: tenants.example.org
	  clusterName: test-cluster
	  oidc:
	    issuerURL: $ISSUER
	    clientID: $1
	    usernameClaim: email
	    proxyHostname: kube.example.org
	nodePools:
	  pool:
	    instances:
	      instanceTypes: ["t3a.large"]
	    costCode: org1
	tenants:
	  team-a:
	    nodePool: pool
	    operatorEdGroup: team.devs
	  team-b:
	    nodePool: pool
	    operatorEdGroup: team-b.devs
	    readOnlyGroups: [auditors]
	  team-c:
	    nodePool: pool
	    operatorEdGroup: team-c.devs
	EOF
}

proxy_env_down() {
	local f
	stop_proxy
	for f in issuer upstream; do
		[ -f "$PROXY_DIR/$f.pid" ] && kill "$(cat "$PROXY_DIR/$f.pid")" 2>/dev/null
		rm -f "$PROXY_DIR/$f.pid"
	done
	return 0
}

kc() { # kubectl through the proxy with $TOKEN
	kubectl --server "https://127.0.0.1:$PROXY_PORT" --certificate-authority "$PROXY_DIR/ca.crt" \
		--token "$TOKEN" "$@"
}

records() { wc -l <"$REC"; }

# The last request the upstream recorded: its headers as "Name: value" lines.
last_headers() {
	tail -n 1 "$REC" | jq -r '.headers[] | "\(.[0]): \(.[1])"'
}
