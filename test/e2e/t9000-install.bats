#!/usr/bin/env bats
# make install: the binary, the kubectl plugin symlink and the man pages.

bats_require_minimum_version 1.5.0

KT_BIN=${KT_BIN:-$BATS_TEST_DIRNAME/../../build/kubetenant}
REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

setup_file() {
	local build
	export DEST=$(mktemp -d)
	# Install the binary under test, never a fresh build (-o).  BUILD is given
	# as the Makefile names it (relative): with an absolute one the compiler's
	# dependency files, rewritten by a rebuild, would name targets that the
	# next plain `make` does not know, and a changed header would no longer
	# rebuild the objects that include it.
	build=$(realpath --relative-to="$REPO" "$(dirname "$KT_BIN")")
	make -s -C "$REPO" install BUILD="$build" -o "$build/kubetenant" DESTDIR="$DEST" \
		PREFIX=/usr >/dev/null
}

teardown_file() {
	rm -rf "$DEST"
}

@test "install puts kubetenant and the kubectl-tenant symlink in bin" {
	[ -x "$DEST/usr/bin/kubetenant" ]
	[ "$(readlink "$DEST/usr/bin/kubectl-tenant")" = kubetenant ]
	cmp "$DEST/usr/bin/kubetenant" "$KT_BIN"
}

@test "kubectl finds the plugin and runs it as 'kubectl tenant'" {
	PATH="$DEST/usr/bin:$PATH" run kubectl plugin list
	[[ "$output" == *"$DEST/usr/bin/kubectl-tenant"* ]]
	PATH="$DEST/usr/bin:$PATH" run --separate-stderr kubectl tenant --help
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "usage: kubectl tenant <command> [options]" ]
	PATH="$DEST/usr/bin:$PATH" run kubectl tenant validate -f "$REPO/examples/platform.yaml"
	[ "$status" -eq 0 ]
}

@test "every man page is installed and man can format it" {
	for m in "$REPO"/man/*.1; do
		page="$DEST/usr/share/man/man1/${m##*/}"
		[ -f "$page" ] || { echo "missing $page"; return 1; }
		run man -l "$page"
		[ "$status" -eq 0 ]
		[[ "$output" == *NAME* ]]
	done
}

@test "every subcommand listed by --help has its own man page" {
	run "$KT_BIN" --help
	cmds=$(sed -n '/^commands:/,/^$/p' <<<"$output" | awk 'NF > 1 { print $1 }')
	[ -n "$cmds" ]
	for c in $cmds; do
		[ -f "$DEST/usr/share/man/man1/kubetenant-$c.1" ] || { echo "no page for $c"; return 1; }
		grep -qF "kubetenant\\-$c (1)" "$REPO/man/kubetenant.1" || { echo "kubetenant(1) omits $c"; return 1; }
	done
}

@test "make demo asks pkg-config nothing before its dependencies are installed" {
	# a package that is not there yet stands for a fresh machine's
	run -0 make -n -C "$REPO" deps PKGS="libfyaml kt-not-installed-yet"
	[[ "$output" != *"was not found"* ]]
	[[ "$output" == *install-deps.sh* ]]
}

# Flags live in two places, the usage text and the man page; neither may
# name a flag the other lacks (for the man page, its OPTIONS section: its
# examples may show other programs' flags, kubectl's for one).
flags() { sed 's/\\-/-/g' | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u; }

@test "every flag of a subcommand's --help is in its man page, and every option there in --help" {
	local c page help only n=0
	for c in $("$KT_BIN" --help | awk '/^commands:/ {on = 1; next} on && !NF {exit} on {print $1}'); do
		page=$REPO/man/kubetenant-$c.1
		help=$("$KT_BIN" "$c" --help | flags)
		[ -n "$help" ] || { echo "$c: --help names no flag"; false; }
		only=$(comm -23 <(echo "$help") <(flags <"$page"))
		[ -z "$only" ] || { echo "$c: in --help, not in $page:" $only; false; }
		only=$(comm -13 <(echo "$help") <(sed -n '/^\.SH OPTIONS/,/^\.SH [^O]/p' "$page" | flags))
		[ -z "$only" ] || { echo "$c: in the OPTIONS of $page, not in --help:" $only; false; }
		n=$((n + 1))
	done
	[ "$n" -eq 9 ]
}
