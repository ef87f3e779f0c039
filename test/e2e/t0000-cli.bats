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
