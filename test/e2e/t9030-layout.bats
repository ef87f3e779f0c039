#!/usr/bin/env bats
# Calls go one way (docs/layout.md): no two files of the program call each
# other, except the proxy's pair the finder allows by name.

bats_require_minimum_version 1.5.0

KT_BIN=${KT_BIN:-$BATS_TEST_DIRNAME/../../build/kubetenant}
REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
CYCLES=$REPO/scripts/cycles.py

setup() {
	T=$BATS_TEST_TMPDIR
}

# src PATH.c CODE: a source file under $T/src, compiled to $T/build/PATH.o.
src() {
	mkdir -p "$(dirname "$T/src/$1")" "$(dirname "$T/build/${1%.c}.o")"
	printf '%s\n' "$2" >"$T/src/$1"
	${CC:-cc} -c -o "$T/build/${1%.c}.o" "$T/src/$1"
}

@test "the build under test has no files calling each other but the proxy's pair" {
	run "$CYCLES" "$(dirname "$KT_BIN")"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ "$output" != *circle:* ]]
}

@test "two files calling each other are reported with the symbols that tie them" {
	src lib/a/x.c 'int kt_y(int); int kt_x(int n) { return n ? kt_y(n - 1) : 0; }'
	src lib/a/y.c 'int kt_x(int); int kt_y(int n) { return kt_x(n); }'
	src lib/a/z.c 'int kt_x(int); int kt_z(void) { return kt_x(3); }'
	run "$CYCLES" --root "$T/src" "$T/build"
	[ "$status" -eq 1 ]
	[[ "$output" == *"circle: lib/a/x lib/a/y"* ]]
	[[ "$output" == *"lib/a/x -> lib/a/y (kt_y)"* ]]
	[[ "$output" == *"lib/a/y -> lib/a/x (kt_x)"* ]]
	[[ "$output" != *lib/a/z* ]] # calling into a circle is not being in it
}

@test "a table of function pointers counts as calls, across folders too" {
	src lib/p/kinds.c 'int kt_rule(void); int (*const kt_table[])(void) = { kt_rule };'
	src lib/p/rule.c 'int kt_helper(void); int kt_rule(void) { return kt_helper(); }'
	src cmd/helper.c 'extern int (*const kt_table[])(void); int kt_helper(void) { return kt_table[0] != 0; }'
	run "$CYCLES" --root "$T/src" "$T/build"
	[ "$status" -eq 1 ]
	[[ "$output" == *"circle: cmd/helper lib/p/kinds lib/p/rule"* ]]
}

@test "the proxy's pair is allowed, and only exactly that pair" {
	src server/proxy/loop.c 'void kt_daemon(void); void kt_loops(void) { kt_daemon(); }'
	src server/proxy/proxy.c 'void kt_loops(void); void kt_daemon(void) {} void kt_serve(void) { kt_loops(); }'
	run "$CYCLES" --root "$T/src" "$T/build"
	[ "$status" -eq 0 ]
	[[ "$output" == "allowed: server/proxy/loop server/proxy/proxy" ]]
	src server/proxy/fwd.c 'void kt_serve(void); void kt_fwd(void) { kt_serve(); }'
	src server/proxy/loop.c 'void kt_daemon(void); void kt_fwd(void); void kt_loops(void) { kt_daemon(); kt_fwd(); }'
	run "$CYCLES" --root "$T/src" "$T/build"
	[ "$status" -eq 1 ]
	[[ "$output" == *"circle: server/proxy/fwd server/proxy/loop server/proxy/proxy"* ]]
}

@test "a source without its object fails closed instead of reading as no circle" {
	src lib/a/x.c 'int kt_x(void) { return 0; }'
	rm "$T/build/lib/a/x.o"
	run "$CYCLES" --root "$T/src" "$T/build"
	[ "$status" -eq 2 ]
	[[ "$output" == *"build/lib/a/x.o: no such object (build first)"* ]]
}
