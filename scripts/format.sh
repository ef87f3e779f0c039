#!/usr/bin/env bash
# Formats the C sources with .clang-format, in place; with --check only
# reports what would change and fails (make lint).  The same file list for
# both, so what `make lint` checks is what this script fixes.
set -eu
cd "$(dirname "$0")/.."
mapfile -t files < <({
	find cmd lib server include test/unit test/fuzz -name '*.[ch]' -not -path '*/node_modules/*'
	find lib -name '*.cc'
	find bench -maxdepth 1 -name '*.c'
} | sort)
if [ "${1:-}" = --check ]; then
	exec clang-format --dry-run --Werror "${files[@]}"
fi
clang-format -i "${files[@]}"
