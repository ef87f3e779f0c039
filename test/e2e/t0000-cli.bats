#!/usr/bin/env bats
# The command line itself: help, version, unknown commands and options.

bats_require_minimum_version 1.5.0

KT_BIN=${KT_BIN:-$BATS_TEST_DIRNAME/../../build/kubetenant}

@test "--help lists every subcommand on stdout and exits 0" {
	run --separate-stderr "$KT_BIN" --help
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${lines[0]}" = "usage: kubetenant <command> [options]" ]
	for c in render validate schema check audit serve proxy kubeconfig; do
		[[ "$output" == *"  $c "* ]] || { echo "missing $c"; return 1; }
	done
	[[ "$output" == *"exit codes: 0 ok, 1 findings, 2 usage or invalid tenants file"* ]]
}

@test "no arguments prints help on stderr and exits 2" {
	run --separate-stderr "$KT_BIN"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[[ "$stderr" == "usage: kubetenant <command> [options]"* ]]
}

@test "help validate prints the usage of validate" {
	run --separate-stderr "$KT_BIN" help validate
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "usage: kubetenant validate -f FILE [--format text|json] [--strict]" ]
	[[ "$output" == *"--strict"* ]]
	run --separate-stderr "$KT_BIN" validate --help
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "usage: kubetenant validate -f FILE [--format text|json] [--strict]" ]
}

@test "help of an unknown command exits 2" {
	run --separate-stderr "$KT_BIN" help frobnicate
	[ "$status" -eq 2 ]
	[ "$stderr" = "kubetenant: error: unknown command 'frobnicate'" ]
}

@test "--version prints the version" {
	run --separate-stderr "$KT_BIN" --version
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^kubetenant\ [0-9]+\.[0-9]+\.[0-9]+ ]]
}

@test "an unknown command exits 2" {
	run --separate-stderr "$KT_BIN" frobnicate
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "$stderr" = "kubetenant: error: unknown command 'frobnicate'; see 'kubetenant --help'" ]
}

@test "an unknown option exits 2 with the usage on stderr" {
	run --separate-stderr "$KT_BIN" validate --frobnicate -f examples/platform.yaml
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "${stderr_lines[0]}" = "kubetenant: error: unknown option '--frobnicate'" ]
	[ "${stderr_lines[1]}" = "usage: kubetenant validate -f FILE [--format text|json] [--strict]" ]
	run --separate-stderr "$KT_BIN" schema -x
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "kubetenant: error: unknown option '-x'" ]
}

@test "an option missing its value exits 2" {
	run --separate-stderr "$KT_BIN" validate -f
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "kubetenant: error: option '-f' needs a value" ]
	run --separate-stderr "$KT_BIN" validate --format
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "kubetenant: error: option '--format' needs a value" ]
}

@test "run as kubectl-tenant, it names itself 'kubectl tenant'" {
	ln -s "$KT_BIN" "$BATS_TEST_TMPDIR/kubectl-tenant"
	run --separate-stderr "$BATS_TEST_TMPDIR/kubectl-tenant" --help
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "usage: kubectl tenant <command> [options]" ]
}

# One vocabulary: the tenants file is `-f, --tenants FILE` in every command
# that reads one, with `--file` kept as an alias; the results are the same.
@test "-f, --tenants and --file name the tenants file in every command" {
	local f=$BATS_TEST_DIRNAME/../cases/render/full/tenants.yaml certs=$BATS_TEST_TMPDIR/certs c out
	"$BATS_TEST_DIRNAME/../../scripts/gen-test-certs.sh" "$certs" >/dev/null
	for c in render validate check audit kubeconfig serve; do
		run --separate-stderr "$KT_BIN" "$c" --help
		[ "$status" -eq 0 ]
		[[ "$output" == *"-f, --tenants FILE"* ]] || { echo "$c: $output"; false; }
		[[ "$output" == *"--file is an alias"* ]] || { echo "$c: $output"; false; }
	done
	for opt in -f --tenants --file; do
		run --separate-stderr "$KT_BIN" render "$opt" "$f" --tenant beta
		[ "$status" -eq 0 ]
		out=$output
		[ "$out" = "$("$KT_BIN" render -f "$f" --tenant beta)" ]
		run --separate-stderr "$KT_BIN" validate "$opt" "$f"
		[ "$status" -eq 0 ]
		run --separate-stderr "$KT_BIN" kubeconfig "$opt" "$f" --tenant beta
		[ "$status" -eq 0 ]
		[[ "$output" == *"beta"* ]]
		run --separate-stderr "$KT_BIN" check "$opt" "$f" --tenant beta \
			"$BATS_TEST_DIRNAME/../cases/render/full/tenants.yaml"
		[ "$status" -ne 2 ] || { echo "check $opt: $stderr"; false; }
		echo '{"apiVersion": "v1", "kind": "List", "items": []}' >"$BATS_TEST_TMPDIR/empty.json"
		run --separate-stderr "$KT_BIN" audit "$opt" "$f" --no-drift "$BATS_TEST_TMPDIR/empty.json"
		[ "$status" -eq 0 ] || { echo "audit $opt: $stderr"; false; }
		run --separate-stderr "$KT_BIN" serve "$opt" "$f" --tls-cert "$certs/server.pem" \
			--tls-key "$certs/server.key" --check-config
		[ "$status" -eq 0 ] || { echo "serve $opt: $stderr"; false; }
	done
}

# One vocabulary: a metrics listener turns off with `off` (documented) or
# `none` in both servers; a malformed address is a usage error (2) in both.
@test "--metrics-listen off and none disable metrics in serve and proxy; a bad address exits 2" {
	local f=$BATS_TEST_DIRNAME/fixtures/serve/tenants.yaml certs=$BATS_TEST_TMPDIR/certs v pid
	"$BATS_TEST_DIRNAME/../../scripts/gen-test-certs.sh" "$certs" >/dev/null
	echo sa-token >"$BATS_TEST_TMPDIR/token"
	proxy=(proxy --issuer-url https://127.0.0.1:1 --audience kubernetes
		--upstream https://127.0.0.1:2 --token-file "$BATS_TEST_TMPDIR/token"
		--tls-cert "$certs/server.pem" --tls-key "$certs/server.key" --listen 127.0.0.1:0)
	serve=(serve -f "$f" --tls-cert "$certs/server.pem" --tls-key "$certs/server.key"
		--listen 127.0.0.1:0)
	run --separate-stderr "$KT_BIN" proxy --help
	[[ "$output" == *'"off" disables'* ]]
	run --separate-stderr "$KT_BIN" serve --help
	[[ "$output" == *'"off" disables'* ]]
	for v in off none; do
		# both start and keep running without a metrics listener
		"$KT_BIN" "${proxy[@]}" --metrics-listen "$v" 2>"$BATS_TEST_TMPDIR/proxy.log" &
		pid=$!
		sleep 1
		kill -0 "$pid" || { cat "$BATS_TEST_TMPDIR/proxy.log"; false; }
		kill -TERM "$pid"
		wait "$pid"
		"$KT_BIN" "${serve[@]}" --metrics-listen "$v" 2>"$BATS_TEST_TMPDIR/serve.log" &
		pid=$!
		sleep 1
		kill -0 "$pid" || { cat "$BATS_TEST_TMPDIR/serve.log"; false; }
		kill -TERM "$pid"
		wait "$pid"
		grep -q '"msg":"listening"' "$BATS_TEST_TMPDIR/serve.log"
		! grep -q metrics_port "$BATS_TEST_TMPDIR/serve.log"
	done
	for c in proxy serve; do
		eval 'argv=("${'$c'[@]}")'
		run --separate-stderr "$KT_BIN" "${argv[@]}" --metrics-listen 1.2.3.4.5:9
		[ "$status" -eq 2 ] || { echo "$c: $status $stderr"; false; }
		[[ "$stderr" == *"listen address '1.2.3.4.5:9' is not ADDR:PORT"* ]]
		run --separate-stderr "$KT_BIN" "${argv[@]}" --listen nowhere
		[ "$status" -eq 2 ] || { echo "$c: $status $stderr"; false; }
	done
}
