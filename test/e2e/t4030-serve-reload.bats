#!/usr/bin/env bats
# kubetenant serve: tenants-file hot reload, the way a ConfigMap volume is
# updated (a symlink swap), under continuous requests: no request may fail,
# a good file takes over, a bad one is logged and counted and changes nothing.

load serve-lib

setup_file() { serve_certs; }
setup() {
	serve_certs
	# a ConfigMap volume: tenants.yaml -> ..data/tenants.yaml, ..data -> v1
	CM=$BATS_TEST_TMPDIR/cm
	mkdir -p "$CM/v1" "$CM/v2" "$CM/v3"
	cp "$SERVE_FIXTURES/tenants.yaml" "$CM/v1/tenants.yaml"
	cp "$SERVE_FIXTURES/tenants-three.yaml" "$CM/v2/tenants.yaml"
	cp "$SERVE_FIXTURES/tenants-invalid.yaml" "$CM/v3/tenants.yaml"
	ln -s v1 "$CM/..data"
	ln -s ..data/tenants.yaml "$CM/tenants.yaml"
	TENANTS=$CM/tenants.yaml
	review uid-c team-c '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"team-c"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}' \
		>"$BATS_TEST_TMPDIR/team-c.json"
}
teardown() { serve_stop; }

swap() { # version
	ln -sfn "$1" "$CM/..data_tmp"
	mv -T "$CM/..data_tmp" "$CM/..data"
}

# Requests for the whole test: keep-alive and one connection per request.
load_start() { # count
	post_review "/validate?n=[1-$1]" "$BATS_TEST_TMPDIR/team-c.json" --rate 25/s \
		-o /dev/null -w '%{http_code}\n' >"$BATS_TEST_TMPDIR/load1.out" 2>&1 &
	LOAD1=$!
	post_review "/mutate?n=[1-$1]" "$BATS_TEST_TMPDIR/team-c.json" --rate 25/s \
		-H 'Connection: close' -o /dev/null -w '%{http_code}\n' \
		>"$BATS_TEST_TMPDIR/load2.out" 2>&1 &
	LOAD2=$!
}
load_check() { # count
	wait "$LOAD1" "$LOAD2"
	for f in "$BATS_TEST_TMPDIR"/load[12].out; do
		[ "$(wc -l <"$f")" -eq "$1" ] || { echo "$f: $(wc -l <"$f") lines" >&2; return 1; }
		[ "$(sort -u "$f")" = 200 ] || { sort | uniq -c <"$f" >&2; return 1; }
	done
}

@test "good and bad tenants files swapped in under load: zero failed requests" {
	serve_start --reload-interval 1
	load_start 150
	sleep 0.5
	# good: team-c becomes a tenant
	swap v2
	wait_for '[ "$(metric kubetenant_config_generation)" = 2 ]'
	[ "$(metric kubetenant_config_tenants)" = 3 ]
	# bad: rejected, counted, generation 2 keeps serving
	swap v3
	wait_for '[ "$(metric kubetenant_config_reload_failures_total)" = 1 ]'
	[ "$(metric kubetenant_config_generation)" = 2 ]
	run https "https://127.0.0.1:$PORT/readyz"
	[ "$output" = "ready: tenants file generation 2" ]
	# good again
	swap v1
	wait_for '[ "$(metric kubetenant_config_generation)" = 3 ]'
	load_check 150
	[ "$(metric kubetenant_config_reloads_total)" = 2 ]
	[ "$(metric kubetenant_config_tenants)" = 2 ]
	# decisions followed the file: team-c was a tenant only in generation 2
	logq '[.[] | select(.msg == "admission" and .tenant == "team-c") | .generation] | length > 0 and all(. == 2)'
	logq '[.[] | select(.msg == "admission" and .generation != 2) | .tenant] | all(. == null)'
	logq 'any(.msg == "tenants file rejected; the previous one keeps serving"
		and (.diagnostics | length > 0))'
}

@test "SIGHUP reloads at once; an unchanged file keeps its generation" {
	serve_start --reload-interval 600
	kill -HUP "$SERVE_PID"
	sleep 0.5
	[ "$(metric kubetenant_config_generation)" = 1 ]
	# nor does an unchanged certificate count as a rotation
	[ "$(metric kubetenant_tls_reloads_total)" = 0 ]
	swap v2
	kill -HUP "$SERVE_PID"
	wait_for '[ "$(metric kubetenant_config_generation)" = 2 ]' 20
	# a file rewritten in place (not a swap) is noticed too
	cat "$SERVE_FIXTURES/tenants.yaml" >"$CM/v2/tenants.yaml"
	kill -HUP "$SERVE_PID"
	wait_for '[ "$(metric kubetenant_config_tenants)" = 2 ]' 20
	[ "$(metric kubetenant_config_generation)" = 3 ]
}

@test "a tenants file that disappears is reported once and the old one keeps serving" {
	serve_start --reload-interval 1
	rm "$CM/..data"
	wait_for '[ "$(metric kubetenant_config_reload_failures_total)" = 1 ]'
	sleep 2.5
	[ "$(metric kubetenant_config_reload_failures_total)" = 1 ]
	run post_review /validate "$BATS_TEST_TMPDIR/team-c.json" -o /dev/null -w '%{http_code}'
	[ "$output" = 200 ]
	run https -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT/readyz"
	[ "$output" = 200 ]
}
