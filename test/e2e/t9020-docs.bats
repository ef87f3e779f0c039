#!/usr/bin/env bats
# The front door: README -> docs/ -> man pages, with no link that leads nowhere.

bats_require_minimum_version 1.5.0

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
CHECK=$REPO/scripts/check-links.py

@test "README.md stays a front door: at most 400 lines" {
	[ "$(wc -l <"$REPO/README.md")" -le 400 ]
}

@test "every relative link in README.md and docs/*.md resolves, anchors included" {
	cd "$REPO"
	run scripts/check-links.py README.md docs/*.md
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "the link check finds a missing file and a missing heading" {
	local d=$BATS_TEST_TMPDIR
	mkdir -p "$d/docs"
	printf '# Top\n\n## `kubetenant check --tenant`\n' >"$d/docs/a.md"
	printf '[ok](docs/a.md#kubetenant-check---tenant) [web](https://example.org/x)\n' >"$d/README.md"
	run "$CHECK" "$d/README.md"
	[ "$status" -eq 0 ]
	printf '[gone](docs/b.md)\n[no heading](docs/a.md#bottom)\n' >"$d/README.md"
	run "$CHECK" "$d/README.md"
	[ "$status" -eq 1 ]
	[[ "$output" == *"README.md:1: docs/b.md: no such file"* ]]
	[[ "$output" == *"README.md:2: docs/a.md#bottom: no heading #bottom"* ]]
}

@test "a newcomer reaches every command's man page from README.md through docs/commands.md" {
	local m
	grep -q '](docs/commands.md' "$REPO/README.md"
	for m in "$REPO"/man/*.1; do
		grep -qF "](../man/$(basename "$m"))" "$REPO/docs/commands.md" ||
			{ echo "docs/commands.md does not link man/$(basename "$m")"; false; }
	done
}

@test "docs/commands.md repeats no man page flag table" {
	! grep -nE '^\| *`?-' "$REPO/docs/commands.md"
	! grep -niE '^\| *(flag|option)s? *\|' "$REPO/docs/commands.md"
}
