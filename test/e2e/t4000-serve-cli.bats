#!/usr/bin/env bats
# kubetenant serve: options, and refusing to start on bad input.

load serve-lib

setup_file() { serve_certs; }
setup() { serve_certs; }
teardown() { serve_stop; }

@test "serve --help prints usage to stdout and exits 0" {
	run "$KT_BIN" serve --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"usage: kubetenant serve -f TENANTS --tls-cert FILE --tls-key FILE"* ]]
	[[ "$output" == *"--metrics-listen"* ]]
}

@test "serve without the tenants file or certificate is a usage error" {
	run "$KT_BIN" serve --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key"
	[ "$status" -eq 2 ]
	[[ "$output" == *"'-f', '--tls-cert' and '--tls-key' are required"* ]]
}

@test "serve needs a tenants file it can re-read, not standard input" {
	run "$KT_BIN" serve -f - --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key" \
		</dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"'-f -' is not supported by serve"* ]]
}

@test "serve rejects an unknown option and a bad number" {
	run "$KT_BIN" serve --bogus
	[ "$status" -eq 2 ]
	run "$KT_BIN" serve -f x --tls-cert y --tls-key z --threads 0
	[ "$status" -eq 2 ]
	[[ "$output" == *"invalid value '0' for '--threads'"* ]]
}

# refused STATUS TEXT [serve args...]: serve on $TENANTS, $CERT, $KEY (default:
# the good fixture and certificate) and --listen ${LISTEN:-127.0.0.1:0} exits
# with STATUS, and its output contains TEXT.
refused() {
	local want=$1 text=$2
	shift 2
	run "$KT_BIN" serve -f "${TENANTS:-$SERVE_FIXTURES/tenants.yaml}" \
		--tls-cert "${CERT:-$CERTS/server.pem}" --tls-key "${KEY:-$CERTS/server.key}" \
		--listen "${LISTEN:-127.0.0.1:0}" "$@"
	[ "$status" -eq "$want" ]
	[[ "$output" == *"$text"* ]]
}

@test "serve refuses to start on an invalid tenants file (exit 2)" {
	TENANTS=$SERVE_FIXTURES/tenants-invalid.yaml refused 2 "tenants-invalid.yaml:"
}

@test "serve refuses to start on a missing tenants file (exit 3)" {
	TENANTS=$BATS_TEST_TMPDIR/none.yaml refused 3 ""
}

@test "serve refuses an unreadable certificate or key (exit 3)" {
	CERT=$BATS_TEST_TMPDIR/none.pem refused 3 "none.pem"
	echo "not a certificate" >"$BATS_TEST_TMPDIR/junk.pem"
	CERT=$BATS_TEST_TMPDIR/junk.pem refused 3 "not a PEM certificate chain"
}

@test "serve refuses a key that does not belong to the certificate (exit 3)" {
	"$SCRIPTS/gen-test-certs.sh" "$CERTS" other
	KEY=$CERTS/other.key refused 3 "is not the key of certificate"
}

@test "serve rejects a malformed listen address (exit 2) and a busy port (exit 3)" {
	LISTEN=nonsense:port refused 2 "listen address 'nonsense:port'"
	serve_start
	LISTEN=127.0.0.1:$PORT refused 3 "cannot listen on '127.0.0.1:$PORT'" --metrics-listen off
}

@test "serve logs JSON lines and says where it listens" {
	serve_start
	logq 'map(select(.msg == "listening")) | .[0] | .port > 0 and .metrics_port > 0'
	logq 'map(select(.msg == "tenants file loaded")) | .[0].generation == 1'
	logq 'all(.ts | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$"))'
}
