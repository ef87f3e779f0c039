#!/usr/bin/env bats
# The CSR reader against Go's crypto/x509, the reader cert-manager signs
# with: on every crafted request of test/cases/csr (scripts/gen-csr-corpus.py
# makes them), kubetenant reads exactly the names Go reads, or refuses the
# request.  Go (Debian golang-go) is a test-only dependency.

: "${KT_BIN:=$BATS_TEST_DIRNAME/../../build/kubetenant}"
CORPUS=$BATS_TEST_DIRNAME/../cases/csr
T_CSR=$(dirname "$KT_BIN")/test/t_csr

setup_file() {
	command -v go >/dev/null || return 0
	export CSRNAMES=$BATS_FILE_TMPDIR/csrnames
	# standard library only: no module download, no VCS stamping, no toolchain switch
	(cd "$BATS_TEST_DIRNAME/../go/csrnames" &&
		GOCACHE=$BATS_FILE_TMPDIR/gocache GOPATH=$BATS_FILE_TMPDIR/gopath \
			GOTOOLCHAIN=local GOFLAGS=-buildvcs=false GOPROXY=off \
			go build -o "$CSRNAMES" .)
}

setup() {
	command -v go >/dev/null || skip "go is not installed (Debian golang-go): no differential CSR test"
	[ -x "$T_CSR" ] || skip "$T_CSR is not built (make test-bins)"
}

@test "the corpus has the bypasses of issue 13 and clean requests" {
	for f in ok-simple ok-openssl-req ok-python-cryptography bad-two-extreq bad-crl-label-first \
		bad-two-san-one-attr bad-two-san-two-attrs bad-cn-not-in-san bad-der-trailing; do
		[ -f "$CORPUS/$f.pem" ]
	done
}

@test "Go reads the bypasses as cert-manager does: the other tenant's name" {
	# the reason the reader exists: were these judged by a lenient reader,
	# b.example.com would be signed for team-a
	for f in bad-two-extreq bad-crl-label-first; do
		run "$CSRNAMES" "$CORPUS/$f.pem"
		[ "$status" -eq 0 ]
		[[ "$output" == *"dns:b.example.com"* ]]
	done
}

@test "on every crafted request, kubetenant reads Go's names or refuses" {
	local f kt go n=0 same=0 refused=0 bad=0
	for f in "$CORPUS"/*.pem; do
		n=$((n + 1))
		kt=$("$T_CSR" --names "$f" | tail -n +2)
		go=$("$CSRNAMES" "$f" | tail -n +2)
		case ${f##*/} in
		ok-*)
			if [[ "$kt" == error:* || "$kt" != "$go" ]]; then
				printf '%s\nkubetenant:\n%s\ngo:\n%s\n' "$f" "$kt" "$go" >&2
				bad=$((bad + 1))
			fi
			same=$((same + 1)) ;;
		bad-*)
			if [[ "$kt" != error:* ]]; then
				printf '%s: kubetenant accepts it\nkubetenant:\n%s\ngo:\n%s\n' \
					"$f" "$kt" "$go" >&2
				bad=$((bad + 1))
			fi
			refused=$((refused + 1)) ;;
		*)
			echo "$f: name it ok-* or bad-*" >&2
			bad=$((bad + 1)) ;;
		esac
	done
	echo "$n requests: $same read alike, $refused refused" >&2
	[ "$bad" -eq 0 ]
	[ "$same" -ge 10 ] && [ "$refused" -ge 30 ]
}

@test "requests made as cert-manager makes them (Go, RSA, ECDSA, Ed25519) are read as Go reads them" {
	local f
	mkdir "$BATS_TEST_TMPDIR/go"
	"$CSRNAMES" -make "$BATS_TEST_TMPDIR/go"
	for f in "$BATS_TEST_TMPDIR"/go/ok-go-*.pem; do
		run "$T_CSR" --names "$f"
		[ "$output" = "$("$CSRNAMES" "$f")" ]
		[ "${lines[1]}" = cn:app.example.org ]
		[ "${#lines[@]}" -eq 4 ]
	done
	[ "$(ls "$BATS_TEST_TMPDIR"/go/ok-go-*.pem | wc -l)" -eq 3 ]
}
