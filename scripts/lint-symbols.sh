#!/usr/bin/env bash
# Fails when a library exports a symbol without the kt_ prefix: a program
# linking libkt.a must not find our emit() or meta() next to its own.
# Usage: lint-symbols.sh LIB.a...
set -eu
bad=0
for lib in "$@"; do
	syms=$(nm -g --defined-only "$lib" | awk 'NF == 3 { print $3 }' | grep -v '^kt_' | sort -u || true)
	if [ -n "$syms" ]; then
		echo "$lib: symbols without the kt_ prefix (make them static or rename them):" >&2
		echo "$syms" | sed 's/^/  /' >&2
		bad=1
	fi
done
exit $bad
