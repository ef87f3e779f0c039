#!/usr/bin/env bash
# Fails when a library exports a symbol without the kt_ prefix: a program
# linking libkt.a must not find our emit() or meta() next to its own.
# Usage: lint-symbols.sh LIB.a...
set -eu
# Still to be renamed, by the work that rewrites them: the Pod Security
# evaluator's internals (lib/pss, with the JSON view) and the libfyaml
# walker of manifests (lib/manifest/yaml.c, replaced by lib/yaml/).
# Remove a line when its symbol is gone; scripts/kt-prefix.sh renames.
pending='^(pss_check_container|pss_check_format|pss_check_id|pss_check_pod|pss_invalid|sv_add|sv_addn|sv_release|sv_sort_unique|yaml_doc_item_line|yaml_doc_reset|yaml_parse_stream)$'
bad=0
for lib in "$@"; do
	syms=$(nm -g --defined-only "$lib" | awk 'NF == 3 { print $3 }' | grep -v '^kt_' |
		grep -Ev "$pending" | sort -u || true)
	if [ -n "$syms" ]; then
		echo "$lib: symbols without the kt_ prefix (make them static or rename them):" >&2
		echo "$syms" | sed 's/^/  /' >&2
		bad=1
	fi
done
exit $bad
