#!/usr/bin/env bats
# Building the image takes minutes (make image, scripts/build-image.sh), so
# make check only checks what can go stale: the Dockerfile's package lists
# against the Makefile and the binary.

: "${KT_BIN:=$BATS_TEST_DIRNAME/../../build/kubetenant}"
ROOT=$BATS_TEST_DIRNAME/../..

# The packages one stage of the Dockerfile installs (words after "install").
stage_packages() { # 1 = build stage, 2 = runtime stage
	awk -v want="$1" '/^FROM /{ n++ } n == want' "$ROOT/Dockerfile" |
		sed -n '/apt-get install/,/rm -rf/p' | tr ' \\' '\n\n' |
		grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vE '^(apt-get|install|rm|rf|y)$'
}

@test "the build stage installs the -dev package of every library the Makefile links" {
	local pkgs pc pkg missing=
	pkgs=$(stage_packages 1)
	for pc in $(sed -n 's/^PKGS *:= *//p' "$ROOT/Makefile"); do
		pkg=$(dpkg -S "$(pkg-config --variable=pcfiledir "$pc")/$pc.pc" | cut -d: -f1)
		grep -qx "$pkg" <<<"$pkgs" || missing="$missing $pkg"
	done
	[ -z "$missing" ] || { echo "not in the build stage:$missing"; return 1; }
}

@test "the runtime stage installs the package of every library the binary needs" {
	local pkgs lib path pkg missing=
	pkgs=$(stage_packages 2)
	for lib in $(objdump -p "$KT_BIN" | awk '$1 == "NEEDED" { print $2 }'); do
		path=$(ldd "$KT_BIN" | awk -v l="$lib" '$1 == l { print $3 }')
		[ -n "$path" ] || continue
		pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1)
		[ -n "$pkg" ] || pkg=$(dpkg -S "$path" | head -1 | cut -d: -f1)
		case $pkg in libc6 | libgcc-s1 | libstdc++6) continue ;; esac
		grep -qx "$pkg" <<<"$pkgs" || missing="$missing $pkg($lib)"
	done
	[ -z "$missing" ] || { echo "not in the runtime stage:$missing"; return 1; }
}

@test "the image runs as a non-root user with kubetenant as entrypoint" {
	run grep -E '^USER [1-9][0-9]*(:[1-9][0-9]*)?$' "$ROOT/Dockerfile"
	[ "$status" -eq 0 ]
	run grep -E '^ENTRYPOINT \["/usr/bin/kubetenant"\]$' "$ROOT/Dockerfile"
	[ "$status" -eq 0 ]
	run grep -c '^FROM debian:bookworm-slim$' "$ROOT/Dockerfile"
	[ "$output" = 1 ]
}
