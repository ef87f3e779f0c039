#!/usr/bin/env bash
# Installs the Debian packages kubetenant needs to build and test, only when
# something is missing, so `make demo` and `make check` are fast when ready.
set -eu
pkgs=(
	build-essential pkg-config clang libclang-rt-14-dev
	libfyaml-dev libjansson-dev libssl-dev libmicrohttpd-dev libcjose-dev
	libcurl4-openssl-dev libcmocka-dev
	bats jq curl openssl nginx-light wrk
	python3-jsonschema python3-yaml
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
# node and kubectl may come from outside Debian; take Debian's only when absent
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
command -v kubectl >/dev/null || missing+=(kubernetes-client)
# the proxy's e2e tests run a real OIDC provider (npm oidc-provider, pinned by package-lock.json)
fixtures_npm() {
	local d
	d="$(dirname "$0")/../test/e2e/fixtures"
	[ -d "$d/node_modules/oidc-provider" ] || (cd "$d" && npm ci --no-audit --no-fund >/dev/null)
}
if [ ${#missing[@]} -eq 0 ]; then
	fixtures_npm
	exit 0
fi
echo "installing: ${missing[*]}"
SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fixtures_npm
