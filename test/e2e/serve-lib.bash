# Helpers for the `kubetenant serve` end-to-end tests (t4xxx): start a real
# server on random ports with throw-away certificates and talk to it with
# curl and openssl.
: "${KT_BIN:=$BATS_TEST_DIRNAME/../../build/kubetenant}"
: "${KT_SHARED:=$BATS_TEST_DIRNAME/../../../shared}"
SERVE_FIXTURES=$BATS_TEST_DIRNAME/fixtures/serve
SCRIPTS=$BATS_TEST_DIRNAME/../../scripts
# serve_run: the launch loop bench/serve.sh and scripts/soak.sh use too
source "$SCRIPTS/serve-lib.sh"

# Certificates for the whole file: a CA and server.pem/server.key.
serve_certs() {
	CERTS=$BATS_FILE_TMPDIR/certs
	[ -f "$CERTS/server.pem" ] || "$SCRIPTS/gen-test-certs.sh" "$CERTS" server
}

# serve_start [extra args...]: tenants file in $TENANTS (default: the fixture),
# certificate in $CERT/$KEY (default: $CERTS/server.*).  Sets PORT, MPORT,
# SERVE_PID and SERVE_LOG, also when the server did not come up (serve_stop).
serve_start() {
	local rc=0
	SERVE_LOG=$BATS_TEST_TMPDIR/serve.log
	KT=$KT_BIN serve_run "$SERVE_LOG" "${TENANTS:-$SERVE_FIXTURES/tenants.yaml}" \
		"${CERT:-$CERTS/server.pem}" "${KEY:-$CERTS/server.key}" "$@" || rc=$?
	SERVE_PID=$KT_PID PORT=$KT_PORT MPORT=$KT_MPORT
	return $rc
}

# Stop the server (if running) and return its exit status.
serve_stop() {
	local rc=0
	[ -n "${SERVE_PID:-}" ] || return 0
	if kill -0 "$SERVE_PID" 2>/dev/null; then
		kill -TERM "$SERVE_PID" 2>/dev/null
	fi
	wait "$SERVE_PID" || rc=$?
	SERVE_PID=
	# a sanitizer report (leak, overflow, undefined behaviour) fails the test
	if grep -qE '^(==[0-9]+==ERROR|.*runtime error:)' "$SERVE_LOG"; then
		cat "$SERVE_LOG" >&2
		return 99
	fi
	return $rc
}

# Wait (up to $2 tenths of a second, default 50) until command $1 succeeds.
wait_for() {
	local i
	for i in $(seq "${2:-50}"); do
		eval "$1" && return 0
		sleep 0.1
	done
	return 1
}

# POST a review: kt_post PATH FILE -> body on stdout; status in $CODE_FILE.
https() {
	curl -sS --cacert "$CERTS/ca.pem" "$@"
}

post_review() { # path file [curl args...]
	local path=$1 file=$2
	shift 2
	https -H 'Content-Type: application/json' --data-binary @"$file" \
		"https://127.0.0.1:$PORT$path" "$@"
}

# review UID NAMESPACE OBJECT-JSON [OPERATION] [KIND]: an AdmissionReview on stdout.
review() {
	jq -cn --arg uid "$1" --arg ns "$2" --argjson obj "$3" --arg op "${4:-CREATE}" \
		--arg kind "${5:-Pod}" '{
		apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview",
		request: {
			uid: $uid,
			kind: {group: "", version: "v1", kind: $kind},
			resource: {group: "", version: "v1", resource: (($kind | ascii_downcase) + "s")},
			requestKind: {group: "", version: "v1", kind: $kind},
			requestResource: {group: "", version: "v1", resource: (($kind | ascii_downcase) + "s")},
			name: ($obj.metadata.name // ""), namespace: $ns, operation: $op,
			userInfo: {username: "alice@example.org", groups: ["oidc:team-a.devs", "system:authenticated"]},
			object: $obj, oldObject: null, dryRun: false,
			options: {apiVersion: "meta.k8s.io/v1", kind: "CreateOptions"}
		}}'
}

metric() { # name-with-labels: value on stdout (0 when absent)
	curl -sS "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" '$1 == m { v = $2 } END { print v + 0 }'
}

# logq FILTER: the server log as one JSON array must satisfy FILTER (jq -e).
logq() {
	jq -s -e "$1" "$SERVE_LOG" >/dev/null || {
		echo "log does not satisfy: $1" >&2
		cat "$SERVE_LOG" >&2
		return 1
	}
}
