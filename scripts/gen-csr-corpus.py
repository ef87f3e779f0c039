#!/usr/bin/env python3
"""Writes test/cases/csr/*.pem: certificate requests crafted to be read
differently by different readers (Go's encoding/pem + crypto/x509, which
cert-manager uses, and OpenSSL).  test/e2e/t3100-csr-differential.bats
compares kubetenant's reading of each with Go's.

  ok-*.pem   kubetenant must accept it and read the names Go reads
  bad-*.pem  kubetenant must refuse it (some Go reads, some it refuses)

The DER is built by hand (most of these cannot be made by a library that
means well) and signed with a fixed Ed25519 key, so the output is the same
on every run.  Needs python3-cryptography and openssl.

    scripts/gen-csr-corpus.py [DIR]      (default test/cases/csr)
"""
import base64
import ipaddress
import os
import subprocess
import sys
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

KEY = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


# ---- DER ----

def length(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, content):
    return bytes([tag]) + length(len(content)) + content


def seq(*items):
    return tlv(0x30, b"".join(items))


def set_(*items):
    return tlv(0x31, b"".join(items))


def oid(dotted):
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray([arcs[0] * 40 + arcs[1]])
    for a in arcs[2:]:
        chunk = [a & 0x7F]
        a >>= 7
        while a:
            chunk.append(0x80 | (a & 0x7F))
            a >>= 7
        out += bytes(reversed(chunk))
    return tlv(0x06, bytes(out))


UTF8, PRINTABLE, IA5, T61 = 0x0C, 0x13, 0x16, 0x14
CN, EMAIL_ATTR, O = "2.5.4.3", "1.2.840.113549.1.9.1", "2.5.4.10"
EXT_REQ, MS_EXT_REQ = "1.2.840.113549.1.9.14", "1.3.6.1.4.1.311.2.1.14"
SAN, KU, EKU, BC = "2.5.29.17", "2.5.29.15", "2.5.29.37", "2.5.29.19"


def name(*atvs):
    """atvs: (oid, tag, value) each in its own RDN."""
    return seq(*[set_(seq(oid(o), tlv(t, v.encode() if isinstance(v, str) else v)))
                 for o, t, v in atvs])


def ext(o, value, critical=None):
    crit = b"" if critical is None else tlv(0x01, b"\xff" if critical else b"\x00")
    if isinstance(critical, bytes):
        crit = tlv(0x01, critical)
    return seq(oid(o), crit, tlv(0x04, value))


def dns(s):
    return tlv(0x82, s.encode() if isinstance(s, str) else s)


def email(s):
    return tlv(0x81, s.encode())


def uri(s):
    return tlv(0x86, s.encode())


def ip(s):
    return tlv(0x87, ipaddress.ip_address(s).packed if isinstance(s, str) else s)


def san(*names, critical=None):
    return ext(SAN, seq(*names), critical)


def ku():
    return ext(KU, tlv(0x03, b"\x05\xa0"), True)  # digitalSignature, keyEncipherment


def eku():
    return ext(EKU, seq(oid("1.3.6.1.5.5.7.3.1")))


def bc(ca):
    return ext(BC, seq(tlv(0x01, b"\xff")) if ca else seq(), True)


def extreq(*exts, values=None):
    vals = values if values is not None else [seq(*exts)]
    return seq(oid(EXT_REQ), set_(*vals))


def attrs(*a):
    return tlv(0xA0, b"".join(a))


def spki():
    return KEY.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def csr(subject, attributes, version=0, trailing=b""):
    info = seq(tlv(0x02, bytes([version])), subject, spki(), attributes)
    return seq(info, seq(oid("1.3.101.112")), tlv(0x03, b"\x00" + KEY.sign(info))) + trailing


def pem(der, label="CERTIFICATE REQUEST", width=64, eol="\n"):
    b = base64.b64encode(der).decode()
    lines = [b[i:i + width] for i in range(0, len(b), width)]
    return eol.join(["-----BEGIN %s-----" % label] + lines + ["-----END %s-----" % label, ""])


OWN, FOREIGN = "app.example.org", "b.example.com"


def plain(cn=OWN, names=(OWN,)):
    return csr(name((CN, UTF8, cn)) if cn is not None else seq(),
               attrs(extreq(san(*[dns(n) for n in names]))))


def corpus(tmp):
    c = {}
    # accepted: kubetenant must read exactly Go's names
    c["ok-simple"] = pem(plain(OWN, (OWN, "www." + OWN)))
    c["ok-no-cn"] = pem(plain(None))
    c["ok-empty-cn"] = pem(plain(""))
    c["ok-cn-case"] = pem(plain("App.Example.ORG"))
    c["ok-org-printable"] = pem(csr(name((O, PRINTABLE, "Acme Ltd."), (CN, UTF8, OWN)),
                                    attrs(extreq(san(dns(OWN))))))
    c["ok-wildcard"] = pem(plain("*." + OWN, ("*." + OWN,)))
    c["ok-idna"] = pem(plain("xn--bcher-kva." + OWN, ("xn--bcher-kva." + OWN,)))
    c["ok-ip-uri-email"] = pem(csr(seq(), attrs(extreq(san(
        dns(OWN), ip("10.0.0.1"), ip("2001:db8::1"), ip("::ffff:10.1.2.3"),
        uri("spiffe://cluster.local/ns/team-a/sa/web"), email("ops@app.example.org"))))))
    c["ok-key-usages"] = pem(csr(name((CN, UTF8, OWN)),
                                 attrs(extreq(ku(), eku(), san(dns(OWN)), bc(False)))))
    c["ok-ca"] = pem(csr(name((CN, UTF8, OWN)), attrs(extreq(bc(True), san(dns(OWN))))))
    c["ok-unknown-noncritical"] = pem(csr(name((CN, UTF8, OWN)), attrs(extreq(
        ext("1.3.6.1.5.5.7.1.24", seq(tlv(0x02, b"\x05"))), san(dns(OWN))))))
    c["ok-challenge-password"] = pem(csr(name((CN, UTF8, OWN)), attrs(
        seq(oid("1.2.840.113549.1.9.7"), set_(tlv(UTF8, b"secret"))),
        extreq(san(dns(OWN))))))
    c["ok-crlf"] = pem(plain(), eol="\r\n")
    c["ok-width-76"] = pem(plain(), width=76)
    c["ok-whitespace-around"] = "\n \n\t\n" + pem(plain()) + "  \n\n\t"
    c["ok-no-final-newline"] = pem(plain()).rstrip("\n")
    # made by the usual tools, not by hand
    b = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, OWN)])).add_extension(
        x509.SubjectAlternativeName([x509.DNSName(OWN), x509.DNSName("api." + OWN)]),
        critical=False)
    c["ok-python-cryptography"] = b.sign(KEY, None).public_bytes(
        serialization.Encoding.PEM).decode()
    keyfile = os.path.join(tmp, "key.pem")
    with open(keyfile, "wb") as f:
        f.write(KEY.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    c["ok-openssl-req"] = subprocess.run(
        ["openssl", "req", "-new", "-key", keyfile, "-subj", "/O=Acme/CN=" + OWN,
         "-addext", "subjectAltName=DNS:%s,DNS:www.%s" % (OWN, OWN)],
        check=True, capture_output=True, text=True).stdout

    # refused: the bypasses of issue 13 first
    c["bad-two-extreq"] = pem(csr(name((CN, UTF8, OWN)), attrs(
        extreq(ku()), extreq(san(dns(OWN), dns(FOREIGN))))))
    c["bad-crl-label-first"] = pem(plain(OWN, (FOREIGN,)), label="X509 CRL") + pem(plain())
    c["bad-two-san-one-attr"] = pem(csr(name((CN, UTF8, OWN)), attrs(extreq(
        san(dns(OWN)), san(dns(FOREIGN))))))
    c["bad-two-san-two-attrs"] = pem(csr(name((CN, UTF8, OWN)), attrs(
        extreq(san(dns(OWN))), extreq(san(dns(FOREIGN))))))
    c["bad-extreq-two-values"] = pem(csr(name((CN, UTF8, OWN)), attrs(
        extreq(values=[seq(ku()), seq(san(dns(FOREIGN)))]))))
    c["bad-ms-extreq"] = pem(csr(name((CN, UTF8, OWN)), attrs(
        seq(oid(MS_EXT_REQ), set_(seq(san(dns(FOREIGN))))), extreq(san(dns(OWN))))))
    c["bad-dup-key-usage"] = pem(csr(name((CN, UTF8, OWN)), attrs(extreq(ku(), ku(), san(dns(OWN))))))
    c["bad-critical-unknown"] = pem(csr(name((CN, UTF8, OWN)), attrs(extreq(
        ext("1.2.3.4.5", seq(), True), san(dns(OWN))))))
    c["bad-cn-not-in-san"] = pem(plain(FOREIGN, (OWN,)))
    c["bad-cn-only"] = pem(csr(name((CN, UTF8, FOREIGN)), attrs()))
    c["bad-two-cn"] = pem(csr(name((CN, UTF8, FOREIGN), (CN, UTF8, OWN)),
                              attrs(extreq(san(dns(OWN))))))
    c["bad-cn-t61"] = pem(csr(name((CN, T61, OWN)), attrs(extreq(san(dns(OWN))))))
    c["bad-subject-bad-utf8"] = pem(csr(name((O, UTF8, b"\xc3\x28"), (CN, UTF8, OWN)),
                                        attrs(extreq(san(dns(OWN))))))
    c["bad-empty-san"] = pem(csr(seq(), attrs(extreq(san()))))
    c["bad-othername"] = pem(csr(seq(), attrs(extreq(san(
        dns(OWN), tlv(0xA0, oid("1.3.6.1.4.1.311.20.2.3") + tlv(0xA0, tlv(UTF8, b"x@y"))))))))
    c["bad-dirname"] = pem(csr(seq(), attrs(extreq(san(
        dns(OWN), tlv(0xA4, name((CN, UTF8, FOREIGN))))))))
    c["bad-constructed-dns"] = pem(csr(seq(), attrs(extreq(san(
        dns(OWN), tlv(0xA2, tlv(IA5, FOREIGN.encode())))))))
    c["bad-uri-upper-scheme"] = pem(csr(seq(), attrs(extreq(san(dns(OWN), uri("SPIFFE://x/y"))))))
    c["bad-uri-space"] = pem(csr(seq(), attrs(extreq(san(dns(OWN), uri("https://x/a b"))))))
    c["bad-ip-5-bytes"] = pem(csr(seq(), attrs(extreq(san(dns(OWN), ip(b"\x0a\0\0\x01\x01"))))))
    c["bad-dns-nul"] = pem(csr(seq(), attrs(extreq(san(dns(FOREIGN.encode() + b"\0." + OWN.encode()))))))
    c["bad-dns-utf8"] = pem(csr(seq(), attrs(extreq(san(dns("bücher." + OWN))))))
    c["bad-san-trailing"] = pem(csr(seq(), attrs(extreq(
        ext(SAN, seq(dns(OWN)) + seq(dns(FOREIGN)))))))
    c["bad-critical-01"] = pem(csr(name((CN, UTF8, OWN)), attrs(extreq(
        ext(SAN, seq(dns(OWN)), b"\x01")))))
    good = plain()
    c["bad-der-trailing"] = pem(good + b"\x00\x00")
    c["bad-der-trailing-csr"] = pem(good + plain(OWN, (FOREIGN,)))
    # BER: an indefinite length and a long-form length where a short one fits
    body = good[2:] if good[1] < 0x80 else good[2 + (good[1] & 0x7F):]
    c["bad-ber-indefinite"] = pem(b"\x30\x80" + body + b"\x00\x00")
    c["bad-ber-long-length"] = pem(b"\x30\x84" + len(body).to_bytes(4, "big") + body)
    c["bad-version-2"] = pem(csr(name((CN, UTF8, OWN)), attrs(extreq(san(dns(OWN)))), version=1))
    c["bad-raw-der"] = good  # bytes: no PEM at all
    # the PEM layer
    p = pem(good)
    c["bad-two-blocks"] = p + pem(plain(OWN, (FOREIGN,)))
    c["bad-new-label"] = pem(good, label="NEW CERTIFICATE REQUEST")
    c["bad-headers"] = p.replace("-----\n", "-----\nProc-Type: 4,ENCRYPTED\n\n", 1)
    c["bad-text-before"] = "Certificate Request:\n    Data: see below\n" + p
    c["bad-text-after"] = p + "trailing words\n"
    c["bad-indented-begin"] = "  " + p
    c["bad-space-in-base64"] = p.replace("\n", "\n ", 2).replace("\n -----END", "\n-----END")
    c["bad-empty-line"] = p.replace("\n", "\n\n", 2).replace("\n\n-----BEGIN", "\n-----BEGIN")
    # base64 that ends in "==": a request whose length is 1 more than a multiple of 3
    p = next(pem(d) for d in (plain(OWN, (OWN, "a" * k + "." + OWN)) for k in range(1, 4))
             if len(d) % 3 == 1)
    lines = p.split("\n")
    assert lines[-3].endswith("==")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet.index(lines[-3][-3])
    lines[-3] = lines[-3][:-3] + alphabet[last | 1] + "=="  # an unused bit set
    c["bad-b64-unused-bits"] = "\n".join(lines)
    c["bad-b64-no-padding"] = p.replace("=", "")
    c["bad-empty"] = ""
    return c


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "test", "cases", "csr")
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        c = corpus(tmp)
    for f in os.listdir(out):
        if f.endswith(".pem"):
            os.unlink(os.path.join(out, f))
    for n, v in sorted(c.items()):
        with open(os.path.join(out, n + ".pem"), "wb") as f:
            f.write(v if isinstance(v, bytes) else v.encode())
    print("%d files in %s" % (len(c), out))


if __name__ == "__main__":
    main()
