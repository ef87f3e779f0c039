#!/usr/bin/env bash
# Build the kubetenant image from ./Dockerfile without a Docker engine, with
# buildah from Debian, and prove it works.  Not part of `make check`: the
# first run takes minutes (debootstrap, then apt-get and make inside the build).
#
#   scripts/build-image.sh            (or: make image)
#
# 1. The base images.  FROM debian:bookworm and debian:bookworm-slim are not
#    pulled from a registry: when they are not in buildah's local storage yet,
#    they are made from Debian's mirror with `debootstrap --variant=minbase`
#    (the variant Debian's official images use) and committed as
#    docker.io/library/debian:bookworm and :bookworm-slim; -slim also drops
#    documentation, man pages and locales and keeps dpkg from installing them
#    again, as the official -slim does.  Images already there are reused.
# 2. The build: `buildah build --pull=never` of the unmodified Dockerfile,
#    tagged kubetenant/kubetenant:<version> (include/kt/version.h).
# 3. The proof: the binary runs in the image (--version and ldd), as uid
#    65532; the image holds no compiler; `kubetenant serve` started in it with
#    throw-away certificates and a generated tenants file answers /healthz,
#    /readyz, /validate over verified HTTPS and /metrics; the argv of every
#    Deployment `render` emits parses and loads its laid-out files in the
#    image (--check-config); its size is printed.
#
# Knobs (environment): MIRROR (default http://deb.debian.org/debian),
# SECURITY_MIRROR (http://deb.debian.org/debian-security), SUITE (bookworm),
# KT_IMAGE_CACHE (the debootstrapped tree, default /var/cache/kubetenant-image),
# BUILDAH_ISOLATION (default chroot: no user namespace or OCI runtime needed),
# STORAGE_DRIVER (buildah's default unless set; vfs where overlay mounts are
# denied), REBUILD_BASE=1 (commit the base images again from the cached tree;
# remove KT_IMAGE_CACHE to debootstrap afresh), SKIP_SERVE=1 (no serve check).
set -euo pipefail

cd "$(dirname "$0")/.."
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}
SUITE=${SUITE:-bookworm}
CACHE=${KT_IMAGE_CACHE:-/var/cache/kubetenant-image}
export BUILDAH_ISOLATION=${BUILDAH_ISOLATION:-chroot}
BASE=docker.io/library/debian:$SUITE
SLIM=docker.io/library/debian:$SUITE-slim

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'build-image: %s\n' "$*" >&2; exit 1; }

command -v buildah >/dev/null ||
	die "buildah is missing: install it with 'apt-get install buildah' (Debian package)"
[ "$(id -u)" = 0 ] ||
	die "run as root: debootstrap and buildah's root storage (rootless buildah needs /etc/subuid)"
bh=(buildah)
[ -z "${STORAGE_DRIVER:-}" ] || bh+=(--storage-driver "$STORAGE_DRIVER")

version=$(sed -n 's/^#define KT_VERSION "\(.*\)"$/\1/p' include/kt/version.h)
[ -n "$version" ] || die "no KT_VERSION in include/kt/version.h"
IMAGE=kubetenant/kubetenant:$version

have_image() { "${bh[@]}" inspect --type image "$1" >/dev/null 2>&1; }

# The debootstrapped tree, made once and kept in $CACHE.
rootfs() {
	if [ -f "$CACHE/rootfs.done" ]; then
		say "reusing the $SUITE tree in $CACHE/rootfs"
		return
	fi
	command -v debootstrap >/dev/null ||
		die "debootstrap is missing: install it with 'apt-get install debootstrap'"
	say "debootstrap --variant=minbase $SUITE from $MIRROR into $CACHE/rootfs"
	rm -rf "$CACHE/rootfs"
	mkdir -p "$CACHE"
	debootstrap --variant=minbase "$SUITE" "$CACHE/rootfs" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
		die "debootstrap failed, see $CACHE/debootstrap.log"
	touch "$CACHE/rootfs.done"
}

# Remove what dpkg is told not to install in -slim, as debuerreotype (the
# tool behind Debian's official images) slims them: no docs but the
# copyrights, no man pages, info or locales.
slim_dpkg_cfg='path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*'

slim_tree() {
	local root=$1
	printf '%s\n' "$slim_dpkg_cfg" >"$root/etc/dpkg/dpkg.cfg.d/docker"
	find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
	find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
	rm -rf "$root"/usr/share/{groff,info,linda,lintian/overrides,locale,man}/*
}

# One base image: the tree as a single layer, with apt pointed at the mirror.
make_base() {
	local ref=$1 kind=$2 ctr mnt
	say "making $ref from the debootstrapped tree ($kind)"
	ctr=$("${bh[@]}" from scratch)
	mnt=$("${bh[@]}" mount "$ctr")
	cp -a "$CACHE/rootfs/." "$mnt/"
	rm -rf "$mnt"/var/cache/apt/archives/*.deb "$mnt"/var/lib/apt/lists/* "$mnt/etc/hostname"
	: >"$mnt/etc/resolv.conf"
	cat >"$mnt/etc/apt/sources.list" <<-EOF
		deb $MIRROR $SUITE main
		deb $MIRROR $SUITE-updates main
		deb $SECURITY_MIRROR $SUITE-security main
	EOF
	# as in Debian's images: no .deb kept after install
	printf '%s\n' 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };' \
		'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };' \
		'Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";' >"$mnt/etc/apt/apt.conf.d/docker-clean"
	[ "$kind" = slim ] && slim_tree "$mnt"
	"${bh[@]}" umount "$ctr" >/dev/null
	"${bh[@]}" config --cmd bash --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		--label org.kubetenant.base="debootstrap --variant=minbase $SUITE $MIRROR" "$ctr"
	"${bh[@]}" commit --quiet --rm "$ctr" "$ref" >/dev/null
}

start=$(date +%s)
for pair in "$BASE full" "$SLIM slim"; do
	set -- $pair
	if [ -z "${REBUILD_BASE:-}" ] && have_image "$1"; then
		say "reusing $1 from local storage"
		continue
	fi
	rootfs
	"${bh[@]}" rmi -f "$1" >/dev/null 2>&1 || true
	make_base "$1" "$2"
done

base_secs=$(( $(date +%s) - start ))

say "building $IMAGE from ./Dockerfile (buildah build --pull=never, isolation $BUILDAH_ISOLATION)"
start=$(date +%s)
"${bh[@]}" build --pull=never --layers -t "$IMAGE" -f Dockerfile . ||
	die "buildah build failed"
build_secs=$(( $(date +%s) - start ))
say "built $IMAGE in ${build_secs}s"

# ---- the proof ------------------------------------------------------------
ctr=
tmp=$(mktemp -d)
srv_pid=
kt_pid=
cleanup() {
	[ -z "$kt_pid" ] || kill "$kt_pid" 2>/dev/null || true
	[ -z "$srv_pid" ] || { kill "$srv_pid" 2>/dev/null; wait "$srv_pid" 2>/dev/null; } || true
	[ -z "$ctr" ] || "${bh[@]}" rm "$ctr" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { printf 'build-image: FAILED: %s\n' "$*" >&2; exit 1; }

# The kubetenant process among the descendants of pid $1.
server_pid() {
	local c
	for c in $(ps -o pid= --ppid "$1"); do
		if [ "$(cat "/proc/$c/comm" 2>/dev/null)" = kubetenant ]; then
			echo "$c"
			return 0
		fi
		server_pid "$c" && return 0
	done
	return 1
}

ctr=$("${bh[@]}" from --pull=never "$IMAGE")

user=$("${bh[@]}" inspect --format '{{.OCIv1.Config.User}}' "$IMAGE")
entry=$("${bh[@]}" inspect --format '{{.OCIv1.Config.Entrypoint}}' "$IMAGE")
[ "$user" = 65532:65532 ] || fail "image user is '$user', want 65532:65532"
[ "$entry" = '[/usr/bin/kubetenant]' ] || fail "entrypoint is $entry"
say "config: user $user, entrypoint $entry"

out=$("${bh[@]}" run "$ctr" -- /usr/bin/kubetenant --version) || fail "kubetenant --version did not run"
[ "$out" = "kubetenant $version" ] || fail "--version printed '$out', want 'kubetenant $version'"
say "in the image: $out"

uid=$("${bh[@]}" run "$ctr" -- id -u)
[ "$uid" = 65532 ] || fail "processes run as uid $uid, want 65532"
say "in the image: processes run as uid $uid"

missing=$("${bh[@]}" run "$ctr" -- ldd /usr/bin/kubetenant | grep 'not found' || true)
[ -z "$missing" ] || fail "libraries missing in the image: $missing"
say "in the image: every shared library of kubetenant resolves"

mnt=$("${bh[@]}" mount "$ctr")
found=
for f in cc gcc c++ g++ clang cpp as ld make; do
	for d in usr/bin bin usr/local/bin; do
		[ -e "$mnt/$d/$f" ] && found="$found /$d/$f"
	done
done
devpkgs=$(chroot "$mnt" dpkg-query -W -f '${Package}\n' |
	grep -E '^(gcc|gcc-[0-9]+|g\+\+|clang|cpp|binutils|make|build-essential|libc6-dev|pkg-config|.*-dev)$' || true)
pkgs=$(chroot "$mnt" dpkg-query -W -f '.\n' | wc -l)
"${bh[@]}" umount "$ctr" >/dev/null
[ -z "$found" ] || fail "compiler tools in the runtime image:$found"
[ -z "$devpkgs" ] || fail "build packages in the runtime image: $(echo $devpkgs)"
say "runtime image: no compiler, linker, make or -dev package ($pkgs packages installed)"

if [ -n "${SKIP_SERVE:-}" ]; then
	say "SKIP_SERVE set: not starting serve"
else
	# scripts/serve-lib.sh starts the server through $KT: here a wrapper that
	# runs it in the image with $tmp mounted at the same path.  chroot
	# isolation shares the host's network, so the ports it logs are ours.
	. scripts/serve-lib.sh
	scripts/gen-test-certs.sh "$tmp/certs" >/dev/null
	chmod 0755 "$tmp" "$tmp/certs"
	chmod 0644 "$tmp"/certs/* # read by uid 65532; throw-away keys
	printf '#!/bin/sh\nexec %s run -v "%s:%s:ro" "%s" -- /usr/bin/kubetenant "$@"\n' \
		"${bh[*]}" "$tmp" "$tmp" "$ctr" >"$tmp/in-image"
	chmod +x "$tmp/in-image"
	KT=$tmp/in-image serve_launch "$tmp" 20 --threads 1 ||
		fail "serve did not start in the image"
	srv_pid=$KT_PID port=$KT_PORT mport=$KT_MPORT
	# buildah run does not forward signals, so SIGTERM goes to the server
	# itself: the kubetenant process below our own buildah run
	kt_pid=$(server_pid "$srv_pid") || fail "no kubetenant process under buildah run"
	kt_uid=$(awk '$1 == "Uid:" { print $2 }' "/proc/$kt_pid/status")
	[ "$kt_uid" = 65532 ] || fail "serve runs as uid $kt_uid, want 65532"
	say "serve in the image: pid $kt_pid, uid $kt_uid, ports $port (HTTPS) and $mport (metrics)"
	c=(curl -sS --max-time 5 --cacert "$tmp/certs/ca.pem")
	[ "$("${c[@]}" "https://127.0.0.1:$port/healthz")" = ok ] || fail "/healthz did not answer ok"
	say "serve in the image: GET https://127.0.0.1:$port/healthz -> ok (certificate verified)"
	code=$("${c[@]}" -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/readyz")
	[ "$code" = 200 ] || fail "/readyz answered $code"
	say "serve in the image: GET /readyz -> 200"
	review='{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"img-1",
"kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},
"namespace":"tenant-0001","operation":"CREATE","userInfo":{"username":"alice"},
"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"tenant-0001"},
"spec":{"hostNetwork":true,"containers":[{"name":"c","image":"ghcr.io/acme/app:1"}]}}}}'
	ans=$("${c[@]}" -H 'Content-Type: application/json' --data-binary "$review" \
		"https://127.0.0.1:$port/validate")
	[ "$(jq -r '.response.uid, .response.allowed' <<<"$ans" | paste -sd' ')" = "img-1 false" ] ||
		fail "/validate of a hostNetwork pod: $ans"
	say "serve in the image: POST /validate (a pod without its pool's selector) -> denied: $(jq -r .response.status.message <<<"$ans" | cut -c1-80)"
	"${c[@]}" "http://127.0.0.1:$mport/metrics" | grep -q '^kubetenant_build_info{version="'"$version"'"}' ||
		fail "/metrics has no kubetenant_build_info for $version"
	say "serve in the image: GET /metrics -> kubetenant_build_info{version=\"$version\"}"
	kill -TERM "$kt_pid"
	wait "$srv_pid" && rc=0 || rc=$?
	srv_pid= kt_pid=
	[ "$rc" = 0 ] && grep -q '"msg":"stopped"' "$tmp/serve.log" ||
		{ cat "$tmp/serve.log" >&2; fail "serve did not stop cleanly on SIGTERM (exit $rc)"; }
	say "serve in the image: SIGTERM -> drained, logged \"stopped\", exit 0"
	# Every Deployment render emits, its argv exactly as rendered (paths
	# under its mounts moved to a laid-out root, see test/e2e/pod-lib.bash):
	# the image's kubetenant parses it and loads every file, as uid 65532.
	. test/e2e/pod-lib.bash
	build/kubetenant render -f test/cases/render/full/tenants.yaml --format json \
		>"$tmp/render.json" 2>/dev/null ||
		"${bh[@]}" run -v "$PWD/test:$PWD/test:ro" "$ctr" -- /usr/bin/kubetenant render \
			-f "$PWD/test/cases/render/full/tenants.yaml" --format json >"$tmp/render.json"
	for d in $(pod_deployments "$tmp/render.json"); do
		KT_BIN=/usr/bin/kubetenant pod_layout "$tmp/render.json" "$d" "$tmp/pod-$d" ||
			fail "cannot lay out the files of Deployment $d"
		chmod -R a+rX "$tmp/pod-$d" # read by uid 65532; throw-away keys
		mapfile -t argv <"$tmp/pod-$d/argv"
		"${bh[@]}" run -v "$tmp/pod-$d:$tmp/pod-$d:ro" "$ctr" -- \
			"${argv[0]}" "${argv[1]}" --check-config "${argv[@]:2}" ||
			fail "the rendered $d container does not start: ${argv[*]}"
		say "in the image: the rendered $d argv parses and loads its files (--check-config)"
	done
fi

size=$("${bh[@]}" images --format '{{.Size}}' "$IMAGE" | head -1)
slim=$("${bh[@]}" images --format '{{.Size}}' "$SLIM" | head -1)
say "image $IMAGE: $size (base $SLIM: $slim); base images ${base_secs}s, build ${build_secs}s"
echo "ok: $IMAGE built and verified"
