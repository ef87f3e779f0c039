/*
 * exchange.c: what kubetenant login says to the issuer over HTTPS (libcurl),
 * and how it reads the answers.  Answers are hostile input: bounded, parsed
 * with duplicate keys refused, every field type-checked.
 */
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h> /* curl_easy_escape */
#include <jansson.h>
#include "kt/oidc.h"
#include "internal.h"

/* How a failed request reads to the member: only a lack of memory is ours. */
static enum kt_login_fail fetch(const char *ca_file, const char *url, const char *body,
				struct kt_buf *out, long *status, struct kt_err *err)
{
	enum kt_rc rc = kt_oidc_fetch(url, ca_file, body, KT_LOGIN_MAX_ANSWER, out, status, err);

	return !rc ? KT_LOGIN_OK : rc == KT_E_NOMEM ? KT_LOGIN_INTERNAL : KT_LOGIN_UNREACHABLE;
}

char *kt_login_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0), *copy;

	if (!e)
		return NULL;
	copy = strdup(e); /* callers free() what they get */
	curl_free(e);
	return copy;
}

enum kt_login_fail kt_login_post(const struct kt_login_opts *o, const char *url,
				 const char *const *form, struct kt_buf *out, struct kt_err *err)
{
	struct kt_buf body = KT_BUF_INIT;
	enum kt_login_fail f = KT_LOGIN_OK;
	long status;
	size_t i;

	for (i = 0; form[i] && form[i + 1]; i += 2) {
		char *v = kt_login_escape(form[i + 1]);

		if (!v || kt_buf_addf(&body, "%s%s=%s", i ? "&" : "", form[i], v)) {
			free(v);
			kt_buf_release(&body);
			return kt_err_set(err, KT_E_NOMEM, "out of memory"), KT_LOGIN_INTERNAL;
		}
		free(v);
	}
	f = fetch(o->ca_file, url, body.buf, out, &status, err);
	kt_buf_release(&body);
	/* 200 or an OAuth error object (400, 401): the parser decides */
	if (!f && status != 200 && status != 400 && status != 401) {
		kt_err_set(err, KT_E_IO, "'%s' answered HTTP status %ld", url, status);
		f = KT_LOGIN_UNREACHABLE;
	}
	return f;
}

/* A copy of a string member: NULL when absent; *bad when present but not a bounded string. */
static char *str(json_t *doc, const char *name, size_t max, bool *bad)
{
	json_t *v = json_object_get(doc, name);

	if (!v)
		return NULL;
	if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		*bad = true;
		return NULL;
	}
	return strdup(json_string_value(v));
}

void kt_login_answer_release(struct kt_login_answer *a)
{
	free(a->id_token);
	free(a->refresh_token);
	memset(a, 0, sizeof(*a));
}

enum kt_login_fail kt_login_parse_token(const char *json, size_t len, struct kt_login_answer *a,
					struct kt_err *err)
{
	json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	const char *e = json_string_value(json_object_get(doc, "error"));
	enum kt_login_fail f = KT_LOGIN_UNREACHABLE;
	bool bad = false;

	memset(a, 0, sizeof(*a));
	if (!json_is_object(doc)) {
		kt_err_set(err, KT_E_PARSE, "the token endpoint's answer is not a JSON object");
	} else if (e) {
		/* RFC 6749 5.2 and RFC 8628 3.5; error_description is the issuer's to show */
		if (!strcmp(e, "authorization_pending") || !strcmp(e, "slow_down")) {
			a->pending = true;
			a->slow_down = e[0] == 's';
			f = KT_LOGIN_OK;
		} else if (!strcmp(e, "invalid_grant")) {
			f = KT_LOGIN_REVOKED;
		} else if (!strcmp(e, "access_denied")) {
			f = KT_LOGIN_DENIED;
		} else if (!strcmp(e, "expired_token")) {
			f = KT_LOGIN_EXPIRED;
		}
		kt_err_set(err, KT_E_AUTH, "the issuer answered '%.64s'", e);
	} else {
		a->id_token = str(doc, "id_token", KT_LOGIN_MAX_ANSWER, &bad);
		a->refresh_token = str(doc, "refresh_token", 4096, &bad);
		if (bad || !a->id_token) {
			kt_err_set(err, KT_E_INVALID,
				   "the token endpoint's answer has no id_token: "
				   "is 'openid' among the scopes?");
			kt_login_answer_release(a);
		} else {
			f = KT_LOGIN_OK;
		}
	}
	json_decref(doc);
	return f;
}

void kt_login_device_release(struct kt_login_device *d)
{
	free(d->device_code);
	free(d->user_code);
	free(d->verification_uri);
	free(d->verification_uri_complete);
	memset(d, 0, sizeof(*d));
}

static long long num(json_t *doc, const char *name, long long dflt, long long max, bool *bad)
{
	json_t *v = json_object_get(doc, name);

	if (!v)
		return dflt;
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > max) {
		*bad = true;
		return dflt;
	}
	return json_integer_value(v);
}

/* The member types what is printed: nothing but printable ASCII. */
static bool printable(const char *s)
{
	for (; s && *s; s++)
		if (*s < 0x21 || *s > 0x7e)
			return false;
	return true;
}

enum kt_login_fail kt_login_parse_device(const char *json, size_t len, struct kt_login_device *d,
					 struct kt_err *err)
{
	json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	enum kt_login_fail f = KT_LOGIN_UNREACHABLE;
	bool bad = false;

	memset(d, 0, sizeof(*d));
	if (!json_is_object(doc)) {
		kt_err_set(err, KT_E_PARSE, "the device endpoint's answer is not a JSON object");
		goto out;
	}
	if (json_string_value(json_object_get(doc, "error"))) {
		kt_err_set(err, KT_E_AUTH, "the device endpoint answered '%.64s'",
			   json_string_value(json_object_get(doc, "error")));
		goto out;
	}
	d->device_code = str(doc, "device_code", 4096, &bad);
	d->user_code = str(doc, "user_code", 64, &bad);
	d->verification_uri = str(doc, "verification_uri", 2048, &bad);
	d->verification_uri_complete = str(doc, "verification_uri_complete", 2048, &bad);
	/* RFC 8628 3.2: interval defaults to 5 s; both bounded so a hostile issuer cannot park us */
	d->expires_in = num(doc, "expires_in", 0, 3600, &bad);
	d->interval = num(doc, "interval", 5, 60, &bad);
	if (bad || !d->device_code || !d->user_code || !d->verification_uri || !d->expires_in ||
	    strncmp(d->verification_uri, "https://", 8) || !printable(d->user_code) ||
	    !printable(d->verification_uri) || !printable(d->verification_uri_complete) ||
	    (d->verification_uri_complete &&
	     strncmp(d->verification_uri_complete, "https://", 8))) {
		kt_err_set(err, KT_E_INVALID, "the device endpoint's answer is malformed");
		kt_login_device_release(d);
		goto out;
	}
	f = KT_LOGIN_OK;
out:
	json_decref(doc);
	return f;
}
