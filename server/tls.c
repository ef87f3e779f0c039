/*
 * tls.c: the server's certificate and key, hot-reloaded (GnuTLS).
 *
 * cert-manager rotates the webhook certificate well before it expires and
 * the kubelet swaps the mounted Secret; a restart to pick it up would drop
 * every connection the API server holds.  Instead libmicrohttpd asks us for
 * the certificate at each handshake (MHD_OPTION_HTTPS_CERT_CALLBACK), and
 * we answer with the newest pair that loaded and matched.
 *
 * Lifetime of a pair: GnuTLS keeps using the pair it got for the rest of
 * that session, so an old pair may be freed only when no connection can
 * still hold it.  Each connection pins the pair that is current when it
 * opens; its handshake, which comes later, can only get that pair or a
 * newer one.  Retired pairs form a list, oldest first, and the oldest is
 * freed once no connection pins it: nothing older is left, so nobody can
 * be using it.  The mutex is taken once per connection and per handshake,
 * next to the cost of a key exchange.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/x509.h>
#include "kt/buf.h"
#include "log.h"
#include "tls.h"

#define MAX_CHAIN 16
#define MAX_PEM (1u << 20)

struct pair {
	gnutls_pcert_st pcert[MAX_CHAIN];
	unsigned n;
	gnutls_privkey_t key;
	unsigned long conns; /* open connections that pinned this pair */
	uint64_t hash;       /* of the certificate and key files: unchanged files are no reload */
	char serial[2 * 20 + 1];
	struct pair *newer; /* in the retired list */
};

struct kt_tls {
	char *cert_path, *key_path;
	struct kt_file_sig cert_sig, key_sig;
	pthread_mutex_t lock;
	struct pair *cur;
	struct pair *retired, *retired_tail; /* oldest first */
};

static struct kt_tls *active;

static void pair_free(struct pair *p)
{
	unsigned i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++)
		gnutls_pcert_deinit(&p->pcert[i]);
	if (p->key)
		gnutls_privkey_deinit(p->key);
	free(p);
}

static enum kt_rc tls_fail(struct kt_err *err, enum kt_rc rc, const char *path, const char *what,
			   int gerr)
{
	return kt_err_set(err, rc, "'%s': %s: %s", path, what, gnutls_strerror(gerr));
}

/* Do the certificate's public key and the private key belong together? */
static bool key_matches(struct pair *p)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t a = { 0 }, b = { 0 };
	bool ok = false;

	if (gnutls_pubkey_init(&pub) || gnutls_pubkey_import_privkey(pub, p->key, 0, 0) ||
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &a) ||
	    gnutls_pubkey_export2(p->pcert[0].pubkey, GNUTLS_X509_FMT_DER, &b))
		goto out;
	ok = a.size == b.size && !memcmp(a.data, b.data, a.size);
out:
	gnutls_free(a.data);
	gnutls_free(b.data);
	if (pub)
		gnutls_pubkey_deinit(pub);
	return ok;
}

static void read_serial(struct pair *p)
{
	gnutls_x509_crt_t crt;
	unsigned char raw[20];
	size_t len = sizeof(raw), i, j;

	p->serial[0] = '\0';
	if (gnutls_x509_crt_init(&crt))
		return;
	if (!gnutls_x509_crt_import(crt, &p->pcert[0].cert, GNUTLS_X509_FMT_DER) &&
	    !gnutls_x509_crt_get_serial(crt, raw, &len)) {
		/* DER may add a leading zero byte; openssl prints without it */
		for (i = 0; i + 1 < len && !raw[i]; i++)
			;
		for (j = 0; i < len && i < sizeof(raw); i++, j++)
			snprintf(p->serial + 2 * j, 3, "%02x", raw[i]);
	}
	gnutls_x509_crt_deinit(crt);
}

static enum kt_rc pair_load(const char *cert_path, const char *key_path, struct pair **out,
			    struct kt_err *err)
{
	struct kt_buf cert = KT_BUF_INIT, key = KT_BUF_INIT;
	struct pair *p;
	gnutls_datum_t d;
	enum kt_rc rc;
	int g;

	p = calloc(1, sizeof(*p));
	if (!p)
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	rc = kt_buf_read_file(&cert, cert_path, MAX_PEM, err);
	if (rc)
		goto out;
	rc = kt_buf_read_file(&key, key_path, MAX_PEM, err);
	if (rc)
		goto out;
	d = (gnutls_datum_t){ (unsigned char *)cert.buf, (unsigned)cert.len };
	p->n = MAX_CHAIN;
	g = gnutls_pcert_list_import_x509_raw(p->pcert, &p->n, &d, GNUTLS_X509_FMT_PEM, 0);
	if (g < 0 || !p->n) {
		p->n = 0;
		rc = tls_fail(err, KT_E_PARSE, cert_path, "not a PEM certificate chain",
			      g < 0 ? g : GNUTLS_E_BASE64_DECODING_ERROR);
		goto out;
	}
	g = gnutls_privkey_init(&p->key);
	if (!g) {
		d = (gnutls_datum_t){ (unsigned char *)key.buf, (unsigned)key.len };
		g = gnutls_privkey_import_x509_raw(p->key, &d, GNUTLS_X509_FMT_PEM, NULL, 0);
	}
	if (g < 0) {
		rc = tls_fail(err, KT_E_PARSE, key_path, "not a PEM private key", g);
		goto out;
	}
	if (!key_matches(p)) {
		rc = kt_err_set(err, KT_E_INVALID, "'%s' is not the key of certificate '%s'",
				key_path, cert_path);
		goto out;
	}
	read_serial(p);
	p->hash = kt_hash_bytes(key.buf, key.len, kt_hash_bytes(cert.buf, cert.len, 0));
	*out = p;
	p = NULL;
out:
	pair_free(p);
	/* the key's PEM must not linger in freed memory */
	if (key.alloc)
		memset(key.buf, 0, key.alloc);
	kt_buf_release(&key);
	kt_buf_release(&cert);
	return rc;
}

/* Free retired pairs that nobody can use any more; lock held. */
static void sweep(struct kt_tls *tls)
{
	struct pair *p;

	while ((p = tls->retired) && !p->conns) {
		tls->retired = p->newer;
		if (!tls->retired)
			tls->retired_tail = NULL;
		pair_free(p);
	}
}

enum kt_rc kt_tls_new(const char *cert_path, const char *key_path, struct kt_tls **out,
		      struct kt_err *err)
{
	struct kt_tls *tls;
	enum kt_rc rc;

	tls = calloc(1, sizeof(*tls));
	if (!tls)
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	pthread_mutex_init(&tls->lock, NULL);
	tls->cert_path = strdup(cert_path);
	tls->key_path = strdup(key_path);
	if (!tls->cert_path || !tls->key_path) {
		rc = kt_err_set(err, KT_E_NOMEM, "out of memory");
		goto fail;
	}
	kt_file_sig_update(cert_path, &tls->cert_sig);
	kt_file_sig_update(key_path, &tls->key_sig);
	rc = pair_load(cert_path, key_path, &tls->cur, err);
	if (rc)
		goto fail;
	*out = tls;
	return KT_OK;
fail:
	kt_tls_free(tls);
	return rc;
}

enum kt_rc kt_tls_reload(struct kt_tls *tls, bool force, bool *changed, struct kt_err *err)
{
	enum kt_file_change c1, c2;
	struct pair *p = NULL, *old;
	enum kt_rc rc;
	int prev1 = tls->cert_sig.err, prev2 = tls->key_sig.err;

	*changed = false;
	c1 = kt_file_sig_update(tls->cert_path, &tls->cert_sig);
	c2 = kt_file_sig_update(tls->key_path, &tls->key_sig);
	if (c1 == KT_FILE_GONE || c2 == KT_FILE_GONE) {
		const char *path = c1 == KT_FILE_GONE ? tls->cert_path : tls->key_path;
		int e = c1 == KT_FILE_GONE ? tls->cert_sig.err : tls->key_sig.err;

		if (!force && e == (c1 == KT_FILE_GONE ? prev1 : prev2))
			return KT_OK; /* already reported */
		return kt_err_set(err, KT_E_IO, "cannot read '%s': %s", path, strerror(e));
	}
	if (!force && c1 == KT_FILE_SAME && c2 == KT_FILE_SAME)
		return KT_OK;
	rc = pair_load(tls->cert_path, tls->key_path, &p, err);
	if (rc)
		return rc;
	if (p->hash == tls->cur->hash) {
		pair_free(p); /* the same files again (a SIGHUP, a kubelet re-sync) */
		return KT_OK;
	}
	pthread_mutex_lock(&tls->lock);
	old = tls->cur;
	tls->cur = p;
	if (tls->retired_tail)
		tls->retired_tail->newer = old;
	else
		tls->retired = old;
	tls->retired_tail = old;
	sweep(tls);
	pthread_mutex_unlock(&tls->lock);
	*changed = true;
	return KT_OK;
}

void kt_tls_poll(struct kt_tls *tls, bool force, atomic_ulong *ok, atomic_ulong *failed)
{
	struct kt_err err = { 0 };
	char serial[64];
	bool changed;

	if (kt_tls_reload(tls, force, &changed, &err)) {
		if (failed)
			atomic_fetch_add(failed, 1);
		kt_log(KT_LOG_ERROR, "certificate rejected; the previous one keeps serving", "cert",
		       tls->cert_path, "error", err.msg, NULL);
	} else if (changed) {
		if (ok)
			atomic_fetch_add(ok, 1);
		kt_tls_serial(tls, serial, sizeof(serial));
		kt_log(KT_LOG_INFO, "certificate reloaded", "cert", tls->cert_path, "serial",
		       serial, NULL);
	}
}

void kt_tls_serial(struct kt_tls *tls, char *out, size_t n)
{
	pthread_mutex_lock(&tls->lock);
	snprintf(out, n, "%s", tls->cur ? tls->cur->serial : "");
	pthread_mutex_unlock(&tls->lock);
}

void kt_tls_free(struct kt_tls *tls)
{
	struct pair *p;

	if (!tls)
		return;
	if (active == tls)
		active = NULL;
	while ((p = tls->retired)) {
		tls->retired = p->newer;
		pair_free(p);
	}
	pair_free(tls->cur);
	kt_file_sig_release(&tls->cert_sig);
	kt_file_sig_release(&tls->key_sig);
	free(tls->cert_path);
	free(tls->key_path);
	pthread_mutex_destroy(&tls->lock);
	free(tls);
}

void kt_tls_activate(struct kt_tls *tls)
{
	active = tls;
}

int kt_tls_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
		    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
		    gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *privkey)
{
	struct kt_tls *tls = active;
	struct pair *p;

	(void)session;
	(void)req_ca_rdn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	if (!tls)
		return -1;
	pthread_mutex_lock(&tls->lock);
	p = tls->cur;
	pthread_mutex_unlock(&tls->lock);
	*pcert = p->pcert;
	*pcert_length = p->n;
	*privkey = p->key;
	return 0;
}

void *kt_tls_conn_open(struct kt_tls *tls)
{
	struct pair *p;

	pthread_mutex_lock(&tls->lock);
	p = tls->cur;
	p->conns++;
	pthread_mutex_unlock(&tls->lock);
	return p;
}

void kt_tls_conn_close(struct kt_tls *tls, void *token)
{
	struct pair *p = token;

	pthread_mutex_lock(&tls->lock);
	p->conns--;
	sweep(tls);
	pthread_mutex_unlock(&tls->lock);
}
