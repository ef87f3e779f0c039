#!/usr/bin/env bash
# One name for a folder's private header: lib/<dir>/<dir>_int.h becomes
# lib/<dir>/internal.h (the name most folders use), with its includes and
# its own first line.  Takes the folders to convert (default: all of lib/);
# safe to run again.
set -eu
cd "$(dirname "$0")/.."
[ $# -ne 0 ] || set -- lib/*/
for d in "$@"; do
	d=${d%/}
	for h in "$d"/*_int.h; do
		[ -e "$h" ] || continue
		old=$(basename "$h")
		if [ -e "$d/internal.h" ]; then
			echo "private-header: $d has both $old and internal.h" >&2
			exit 1
		fi
		git mv "$h" "$d/internal.h"
		sed -i -e "s/^ \* $old:/ * internal.h:/" -e "s/\<\(KT_[A-Z0-9_]*\)_INT_H\>/\1_INTERNAL_H/g" "$d/internal.h"
		git grep -lF "\"$old\"" -- cmd lib server include test bench |
			xargs -r sed -i "s|#include \"\(.*/\)\{0,1\}$old\"|#include \"\1internal.h\"|"
		echo "private-header: $h -> $d/internal.h"
	done
done
