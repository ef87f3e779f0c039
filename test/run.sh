#!/usr/bin/env bash
# Runs every test against one or more build directories and ends with the
# one line CI reads: "N passed, N failed" (", N skipped" when any were).
#
# Each test program speaks TAP: cmocka unit tests (CMOCKA_MESSAGE_OUTPUT=TAP),
# the fuzz-corpus replays, and the bats end-to-end suites (bats --tap).  A
# program that exits non-zero without reporting a failure (a crash, a
# sanitizer report) counts as one failure, so nothing is lost silently.
set -u
cd "$(dirname "$0")/.."
export KT_SHARED=${KT_SHARED:-$(cd .. && pwd)/shared}
pass=0 fail=0 skip=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_tap() { # label, command...
	local label=$1 rc p f s
	shift
	"$@" >"$log" 2>&1
	rc=$?
	p=$(grep -cE '^ok ' "$log" | head -1)
	s=$(grep -cE '^ok .*# (skip|SKIP)' "$log" | head -1)
	f=$(grep -cE '^not ok ' "$log" | head -1)
	p=$((p - s))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $label exited with status $rc"
	fi
	if [ "$f" -ne 0 ]; then
		echo "--- $label: $f failed"
		grep -vE '^ok ' "$log" | head -200
	fi
	printf '%-48s %5d passed, %d failed\n' "$label" "$p" "$f"
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
}

for build in "$@"; do
	echo "== $build"
	export KT_BIN=$PWD/$build/kubetenant
	for t in "$build"/test/t_*; do
		[ -x "$t" ] || continue
		CMOCKA_MESSAGE_OUTPUT=TAP run_tap "$build: unit $(basename "$t")" "$t"
	done
	for r in "$build"/test/replay_*; do
		[ -x "$r" ] || continue
		n=${r##*/replay_}
		run_tap "$build: fuzz replay $n" "$r" "test/fuzz/corpus/$n"
	done
	# t9xxx check the docs, the install commands and the layout, not the
	# binary's memory: they run with the first build only
	files=()
	for f in test/e2e/*.bats; do
		[ -e "$f" ] || continue
		[ "$build" != "$1" ] && [[ $f == test/e2e/t9* ]] && continue
		files+=("$f")
	done
	if [ ${#files[@]} -ne 0 ]; then
		run_tap "$build: e2e (bats)" bats --tap "${files[@]}"
	fi
done
if [ "$skip" -ne 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
