#!/usr/bin/env bash
# Fails when a library exports a symbol without the kt_ prefix: a program
# linking libkt.a must not find our emit() or meta() next to its own.
# The one exception: weak definitions (W) in simdjson's namespace, the
# inline functions of its header that lib/json/simd.cc instantiates; the
# linker merges them with any other copy of the same header's, so they
# cannot clash.
# Usage: lint-symbols.sh LIB.a...
set -eu
bad=0
for lib in "$@"; do
	syms=$(nm -g --defined-only "$lib" | awk 'NF == 3 && !($2 == "W" && $3 ~ /^_ZN[A-Z]*8simdjson/) { print $3 }' | grep -v '^kt_' | sort -u || true)
	if [ -n "$syms" ]; then
		echo "$lib: symbols without the kt_ prefix (make them static or rename them):" >&2
		echo "$syms" | sed 's/^/  /' >&2
		bad=1
	fi
done
exit $bad
