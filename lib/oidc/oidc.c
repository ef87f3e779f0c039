/*
 * oidc.c: issuer discovery and JWKS fetching (libcurl).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <jansson.h>
#include "kt/buf.h"
#include "kt/oidc.h"

struct kt_oidc {
	char *issuer, *ca_file;
	char *jwks_uri;              /* from discovery; NULL until it succeeded */
	struct kt_oidc_endpoints ep; /* from discovery too, for login */
	pthread_mutex_t lock;        /* guards keys, loaded_at, last_try */
	pthread_mutex_t fetching;    /* one fetch at a time */
	struct kt_jwks *keys;
	long long loaded_at, last_try;
};

static size_t on_data(char *p, size_t size, size_t n, void *cls)
{
	return kt_buf_add(cls, p, size * n) ? 0 : size * n; /* 0 aborts: over the cap */
}

enum kt_rc kt_oidc_fetch(const char *url, const char *ca_file, const char *body, size_t max,
			 struct kt_buf *out, long *status, struct kt_err *err)
{
	char ebuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
	CURL *c = h ? curl_easy_init() : NULL;
	CURLcode cc;

	*status = 0;
	if (!c) {
		curl_slist_free_all(h);
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	}
	kt_buf_reset(out);
	out->max = max;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, KT_OIDC_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, KT_OIDC_TIMEOUT_MS / 2);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	if (ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	if (cc == CURLE_WRITE_ERROR || cc == CURLE_FILESIZE_EXCEEDED)
		return kt_err_set(err, KT_E_LIMIT, "the answer of '%s' is larger than %zu bytes",
				  url, max);
	if (cc)
		return kt_err_set(err, KT_E_IO, "cannot reach '%s': %s", url,
				  ebuf[0] ? ebuf : curl_easy_strerror(cc));
	return KT_OK;
}

enum kt_rc kt_oidc_new(const char *issuer, const char *ca_file, struct kt_oidc **out,
		       struct kt_err *err)
{
	struct kt_oidc *o;

	if (!issuer || strncmp(issuer, "https://", 8))
		return kt_err_set(err, KT_E_INVALID, "issuer '%s' is not an https:// URL",
				  issuer ? issuer : "");
	o = calloc(1, sizeof(*o));
	if (!o)
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	o->issuer = strdup(issuer);
	o->ca_file = ca_file ? strdup(ca_file) : NULL;
	if (!o->issuer || (ca_file && !o->ca_file)) {
		kt_oidc_free(o);
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	}
	pthread_mutex_init(&o->lock, NULL);
	pthread_mutex_init(&o->fetching, NULL);
	*out = o;
	return KT_OK;
}

void kt_oidc_free(struct kt_oidc *o)
{
	if (!o)
		return;
	kt_jwks_unref(o->keys);
	free(o->issuer);
	free(o->ca_file);
	free(o->jwks_uri);
	free(o->ep.authorization);
	free(o->ep.token);
	free(o->ep.device);
	pthread_mutex_destroy(&o->lock);
	pthread_mutex_destroy(&o->fetching);
	free(o);
}

static char *https_field(json_t *doc, const char *name)
{
	const char *v = json_string_value(json_object_get(doc, name));

	return v && !strncmp(v, "https://", 8) ? strdup(v) : NULL;
}

static enum kt_rc discover(struct kt_oidc *o, struct kt_buf *b, struct kt_err *err)
{
	struct kt_buf url = KT_BUF_INIT;
	size_t n = strlen(o->issuer);
	const char *iss;
	json_t *doc = NULL;
	enum kt_rc rc;
	long status;

	if (n && o->issuer[n - 1] == '/')
		n--; /* "https://x/" and "https://x" share one discovery URL */
	if (kt_buf_add(&url, o->issuer, n) ||
	    kt_buf_adds(&url, "/.well-known/openid-configuration"))
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	rc = kt_oidc_fetch(url.buf, o->ca_file, NULL, KT_OIDC_MAX_DISCOVERY, b, &status, err);
	if (!rc && status != 200)
		rc = kt_err_set(err, KT_E_IO, "'%s' answered HTTP status %ld: is '%s' the issuer?",
				url.buf, status, o->issuer);
	if (rc)
		goto out;
	doc = json_loadb(b->buf, b->len, JSON_REJECT_DUPLICATES, NULL);
	iss = json_string_value(json_object_get(doc, "issuer"));
	if (!json_is_object(doc)) {
		rc = kt_err_set(err, KT_E_PARSE, "'%s' is not a JSON object", url.buf);
	} else if (!iss || strcmp(iss, o->issuer)) {
		rc = kt_err_set(err, KT_E_INVALID, "'%s' names issuer '%s', expected '%s'", url.buf,
				iss ? iss : "", o->issuer);
	} else if (!(o->jwks_uri = https_field(doc, "jwks_uri"))) {
		rc = kt_err_set(err, KT_E_INVALID, "'%s' has no https:// jwks_uri", url.buf);
	} else {
		o->ep.authorization = https_field(doc, "authorization_endpoint");
		o->ep.token = https_field(doc, "token_endpoint");
		o->ep.device = https_field(doc, "device_authorization_endpoint");
	}
out:
	json_decref(doc);
	kt_buf_release(&url);
	return rc;
}

enum kt_rc kt_oidc_refresh(struct kt_oidc *o, long long now, struct kt_err *err)
{
	struct kt_buf b = KT_BUF_INIT;
	struct kt_jwks *keys = NULL, *old;
	enum kt_rc rc = KT_OK;
	long status = 0;

	pthread_mutex_lock(&o->fetching);
	pthread_mutex_lock(&o->lock);
	o->last_try = now;
	pthread_mutex_unlock(&o->lock);
	if (!o->jwks_uri)
		rc = discover(o, &b, err);
	if (!rc)
		rc = kt_oidc_fetch(o->jwks_uri, o->ca_file, NULL, KT_JWKS_MAX_BYTES, &b, &status,
				   err);
	if (!rc && status != 200)
		rc = kt_err_set(err, KT_E_IO, "'%s' answered HTTP status %ld", o->jwks_uri, status);
	if (!rc)
		rc = kt_jwks_parse(b.buf, b.len, &keys, err);
	if (!rc) {
		pthread_mutex_lock(&o->lock);
		old = o->keys;
		o->keys = keys;
		o->loaded_at = now;
		pthread_mutex_unlock(&o->lock);
		kt_jwks_unref(old);
	}
	pthread_mutex_unlock(&o->fetching);
	kt_buf_release(&b);
	return rc;
}

bool kt_oidc_refresh_limited(struct kt_oidc *o, long long now, long long min_interval,
			     struct kt_err *err)
{
	bool due;

	pthread_mutex_lock(&o->lock);
	due = now - o->last_try >= min_interval;
	if (due)
		o->last_try = now; /* claim the slot before the slow fetch */
	pthread_mutex_unlock(&o->lock);
	return due && kt_oidc_refresh(o, now, err) == KT_OK;
}

struct kt_jwks *kt_oidc_keys(struct kt_oidc *o)
{
	struct kt_jwks *k;

	pthread_mutex_lock(&o->lock);
	k = kt_jwks_ref(o->keys);
	pthread_mutex_unlock(&o->lock);
	return k;
}

const struct kt_oidc_endpoints *kt_oidc_endpoints(const struct kt_oidc *o)
{
	return &o->ep;
}

long long kt_oidc_loaded_at(struct kt_oidc *o)
{
	long long t;

	pthread_mutex_lock(&o->lock);
	t = o->loaded_at;
	pthread_mutex_unlock(&o->lock);
	return t;
}
