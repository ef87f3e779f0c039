#!/usr/bin/env bash
# Installs the Debian packages kubetenant needs to build and test, only when
# something is missing, so `make demo` and `make check` are fast when ready.
set -eu
pkgs=(
	build-essential pkg-config clang libclang-rt-14-dev
	libfyaml-dev libyaml-dev libjansson-dev libssl-dev libmicrohttpd-dev libgnutls28-dev libcjose-dev
	libcurl4-openssl-dev libcmocka-dev
	# the read-only JSON view of the decision path: simdjson's DOM parser
	# (lib/json/simd.cc, the one C++ file; g++ comes with build-essential)
	libsimdjson-dev
	bats jq curl openssl man-db nginx-light wrk time golang-go
	python3-jsonschema python3-yaml
	# make lint: the format check and the static analyser
	clang-format cppcheck
	# test-only: the CSR reader is compared with Go's crypto/x509 (t3100),
	# and scripts/gen-csr-corpus.py crafts its requests
	golang-go python3-cryptography
	# test-only: the dashboard is tested in a real browser (t5060), driven by
	# puppeteer-core, which downloads no browser of its own
	chromium
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
# node and kubectl may come from outside Debian; take Debian's only when absent
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
command -v kubectl >/dev/null || missing+=(kubernetes-client)
if [ ${#missing[@]} -ne 0 ]; then
	echo "installing: ${missing[*]}"
	SUDO=
	[ "$(id -u)" -ne 0 ] && SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# the schema check of rendered objects (test/schema): pinned by package-lock.json
cd "$(dirname "$0")/.."
if [ ! -d test/schema/node_modules ]; then
	(cd test/schema && npm ci --no-audit --no-fund --loglevel=error)
fi
# the proxy's e2e tests run a real OIDC provider (npm oidc-provider) and speak
# real SPDY/3.1 (npm spdy-transport): pinned by package-lock.json
if [ ! -d test/e2e/fixtures/node_modules/oidc-provider ] ||
	[ ! -d test/e2e/fixtures/node_modules/spdy-transport ]; then
	(cd test/e2e/fixtures && npm ci --no-audit --no-fund --loglevel=error)
fi
if [ ! -d test/ui/node_modules/puppeteer-core ]; then
	(cd test/ui && npm ci --no-audit --no-fund --loglevel=error)
fi
