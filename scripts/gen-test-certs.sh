#!/usr/bin/env bash
# Test certificates for the HTTPS servers (never for production).
#
#   scripts/gen-test-certs.sh DIR [NAME]
#
# Creates DIR/ca.pem and DIR/ca.key (a throw-away CA) unless they exist, and
# signs a new server certificate DIR/NAME.pem with key DIR/NAME.key (NAME
# defaults to "server") for 127.0.0.1, ::1 and localhost, with a random
# serial number.  Running it again with another NAME gives a second
# certificate from the same CA, as cert-manager does when it rotates one.
# KEY_TYPE=rsa uses RSA 2048 instead of ECDSA P-256.
set -eu
dir=${1:?usage: gen-test-certs.sh DIR [NAME]}
name=${2:-server}
mkdir -p "$dir"
cd "$dir"
keyopt=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)
[ "${KEY_TYPE:-ec}" = rsa ] && keyopt=(-newkey rsa:2048)
if [ ! -f ca.pem ] || [ ! -f ca.key ]; then
	openssl req -x509 "${keyopt[@]}" -nodes -keyout ca.key -out ca.pem -days 2 \
		-subj "/CN=kubetenant test CA" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
fi
openssl req "${keyopt[@]}" -nodes -keyout "$name.key" -out "$name.csr" \
	-subj "/CN=kubetenant-webhook.kubetenant-system.svc" 2>/dev/null
cat >"$name.ext" <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost,DNS:kubetenant-webhook.kubetenant-system.svc
EXT
openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -days 2 \
	-set_serial "0x$(openssl rand -hex 8)" -extfile "$name.ext" -out "$name.pem" 2>/dev/null
rm -f "$name.csr" "$name.ext"
chmod 600 "$name.key" ca.key
