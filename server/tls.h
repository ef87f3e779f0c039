/*
 * tls.h: what server/http.c needs from server/tls.c (private to server/).
 */
#ifndef KT_SERVER_TLS_H
#define KT_SERVER_TLS_H

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include "http.h"

/* Cipher suites and versions: TLS 1.2 with AEAD and ECDHE only, and TLS 1.3. */
#define KT_TLS_PRIORITIES                                                                 \
	"SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:"         \
	"+AES-256-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:" \
	"%SERVER_PRECEDENCE"

/*
 * The GnuTLS retrieve callback has no closure argument, so one TLS identity
 * is active per process: kt_tls_activate() makes tls the one the callback
 * serves (a server process has one HTTPS listener).
 */
void kt_tls_activate(struct kt_tls *tls);
int kt_tls_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
		    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
		    gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *privkey);

/*
 * A connection pins the pair that is current when it opens (and so every
 * newer one); the token is given back when it closes.
 */
void *kt_tls_conn_open(struct kt_tls *tls);
void kt_tls_conn_close(struct kt_tls *tls, void *token);

#endif
