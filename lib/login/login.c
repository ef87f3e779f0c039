/*
 * login.c: kt_login_token(), the order of the attempts: cached ID token,
 * refresh token, new login.  Every ID token, cached or fresh, is verified
 * with kt_jwt_verify() against the keys the issuer publishes now.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "kt/jwt.h"
#include "kt/oidc.h"
#include "internal.h"

/* A cached token this close to its expiry is refreshed instead: kubectl needs time to use it. */
#define KT_LOGIN_MARGIN 10

struct session {
	const struct kt_login_opts *o;
	const struct kt_oidc_endpoints *ep; /* the oidc fetcher's */
	struct kt_oidc *oidc;
	bool discovered;
};

static enum kt_login_fail discover(struct session *s, struct kt_err *err)
{
	if (s->discovered)
		return KT_LOGIN_OK;
	if (kt_oidc_new(s->o->issuer, s->o->ca_file, &s->oidc, err) ||
	    kt_oidc_refresh(s->oidc, (long long)time(NULL), err))
		return KT_LOGIN_UNREACHABLE;
	s->ep = kt_oidc_endpoints(s->oidc);
	if (!s->ep->authorization || !s->ep->token)
		return kt_err_set(err, KT_E_INVALID,
				  "the discovery of '%s' has no https:// authorization_endpoint "
				  "and token_endpoint",
				  s->o->issuer),
		       KT_LOGIN_UNREACHABLE;
	s->discovered = true;
	return KT_LOGIN_OK;
}

/*
 * Verify an ID token as the proxy would, plus the nonce of a new login.
 * `fresh`: the token was just issued, so "expired" or "not yet valid"
 * means this machine's clock is off, not that the session ended.
 */
static enum kt_login_fail verify(struct session *s, const char *token, const char *nonce,
				 bool fresh, long long *exp, enum kt_jwt_fail *whyp,
				 struct kt_err *err)
{
	struct kt_jwt_claim want = { "nonce", nonce };
	struct kt_identity id = { 0 };
	struct kt_jwt_policy p;
	enum kt_jwt_fail why = KT_JWT_OK;
	struct kt_jwks *keys;
	long long now = (long long)time(NULL);
	enum kt_rc rc;

	kt_jwt_policy_init(&p);
	p.issuer = s->o->issuer;
	p.audience = s->o->client_id;
	p.algs = KT_JWT_RS256 | KT_JWT_RS384 | KT_JWT_RS512 | KT_JWT_PS256 | KT_JWT_PS384 |
		 KT_JWT_PS512 | KT_JWT_ES256 | KT_JWT_ES384 | KT_JWT_ES512;
	p.skew = s->o->skew;
	p.username_prefix = p.groups_prefix = "";
	if (nonce) {
		p.required = &want;
		p.n_required = 1;
	}
	keys = kt_oidc_keys(s->oidc);
	/* verified at now + margin: a token about to expire is as good as expired */
	rc = kt_jwt_verify(&p, keys, token, strlen(token), fresh ? now : now + KT_LOGIN_MARGIN, &id,
			   &why, err);
	if (rc == KT_E_AUTH && why == KT_JWT_UNKNOWN_KID &&
	    kt_oidc_refresh_limited(s->oidc, now, 0, err)) { /* rotated keys */
		kt_jwks_unref(keys);
		keys = kt_oidc_keys(s->oidc);
		rc = kt_jwt_verify(&p, keys, token, strlen(token),
				   fresh ? now : now + KT_LOGIN_MARGIN, &id, &why, err);
	}
	kt_jwks_unref(keys);
	if (whyp)
		*whyp = why;
	*exp = id.exp;
	kt_identity_release(&id);
	if (rc == KT_OK)
		return KT_LOGIN_OK;
	if (rc != KT_E_AUTH)
		return KT_LOGIN_INTERNAL;
	if (fresh && (why == KT_JWT_EXPIRED || why == KT_JWT_NOT_YET_VALID)) {
		kt_err_set(err, KT_E_AUTH,
			   "the issuer's new ID token is %s by this machine's "
			   "clock: the clock is off; set it right (timedatectl, NTP)",
			   why == KT_JWT_EXPIRED ? "already expired" : "not valid yet");
		return KT_LOGIN_SKEW;
	}
	if (why == KT_JWT_CLAIM && nonce)
		kt_err_set(err, KT_E_AUTH,
			   "the ID token does not carry this login's nonce: "
			   "a replayed or forged answer");
	return KT_LOGIN_REFUSED; /* err says which check failed, without the token */
}

static enum kt_login_fail refresh(struct session *s, const char *rt, struct kt_login_answer *a,
				  struct kt_err *err)
{
	const char *form[] = { "grant_type", "refresh_token", "refresh_token",
			       rt,           "client_id",     s->o->client_id,
			       NULL };
	struct kt_buf b = KT_BUF_INIT;
	enum kt_login_fail f = kt_login_post(s->o, s->ep->token, form, &b, err);

	if (!f)
		f = kt_login_parse_token(b.buf, b.len, a, err);
	if (!f && a->pending) {
		kt_login_answer_release(a);
		f = KT_LOGIN_UNREACHABLE;
	}
	kt_buf_release(&b);
	return f;
}

/* The authorization code flow with PKCE on a loopback redirect. */
static enum kt_login_fail browser(struct session *s, const char *state, const char *nonce,
				  struct kt_login_answer *a, struct kt_err *err)
{
	const struct kt_login_opts *o = s->o;
	char *verifier = kt_login_random(32),
	     *challenge = verifier ? kt_login_s256(verifier) : NULL;
	char *esc[4] = { NULL }, *code = NULL, redirect[64];
	struct kt_buf url = KT_BUF_INIT, b = KT_BUF_INIT;
	enum kt_login_fail f = KT_LOGIN_INTERNAL;
	int port = 0, fd = -1;
	size_t i;

	if (!challenge) {
		kt_err_set(err, KT_E_INTERNAL, "no random bytes for the login");
		goto out;
	}
	fd = kt_login_loopback_open(&port, err);
	if (fd < 0)
		goto out;
	snprintf(redirect, sizeof(redirect), "http://127.0.0.1:%d/callback", port);
	esc[0] = kt_login_escape(o->client_id);
	esc[1] = kt_login_escape(redirect);
	esc[2] = kt_login_escape(o->scopes);
	if (!esc[0] || !esc[1] || !esc[2] ||
	    kt_buf_addf(&url,
			"%s%sresponse_type=code&client_id=%s&redirect_uri=%s&scope=%s"
			"&state=%s&nonce=%s&code_challenge=%s&code_challenge_method=S256",
			s->ep->authorization, strchr(s->ep->authorization, '?') ? "&" : "?", esc[0],
			esc[1], esc[2], state, nonce, challenge)) {
		kt_err_set(err, KT_E_NOMEM, "out of memory");
		goto out;
	}
	if (!kt_login_open_browser(o->browser, url.buf))
		fprintf(stderr, "To log in, open this page in a browser on this machine:\n  %s\n",
			url.buf);
	else
		fprintf(stderr, "Logging in through the browser (waiting up to %lld s)...\n",
			o->timeout);
	f = kt_login_loopback_wait(fd, state, (long long)time(NULL) + o->timeout, &code, err);
	if (f)
		goto out;
	{
		const char *form[] = { "grant_type",
				       "authorization_code",
				       "code",
				       code,
				       "redirect_uri",
				       redirect,
				       "client_id",
				       o->client_id,
				       "code_verifier",
				       verifier,
				       NULL };

		f = kt_login_post(o, s->ep->token, form, &b, err);
		if (!f)
			f = kt_login_parse_token(b.buf, b.len, a, err);
		if (!f && a->pending) {
			kt_login_answer_release(a);
			f = KT_LOGIN_UNREACHABLE;
		}
		if (f == KT_LOGIN_REVOKED) /* invalid_grant for a code: replayed or PKCE mismatch */
			f = KT_LOGIN_REFUSED;
	}
out:
	if (fd >= 0)
		close(fd);
	for (i = 0; i < 4; i++)
		free(esc[i]);
	free(verifier);
	free(challenge);
	free(code);
	kt_buf_release(&url);
	kt_buf_release(&b);
	return f;
}

static enum kt_login_fail fresh_login(struct session *s, struct kt_login_answer *a, long long *exp,
				      struct kt_err *err)
{
	char *state = kt_login_random(24), *nonce = kt_login_random(24);
	enum kt_login_fail f = KT_LOGIN_INTERNAL;

	if (!state || !nonce) {
		kt_err_set(err, KT_E_INTERNAL, "no random bytes for the login");
	} else if (s->o->device || (!s->o->browser && !s->o->print_url && s->ep->device)) {
		f = kt_login_device_flow(s->o, s->ep, a, err);
		if (!f)
			f = verify(s, a->id_token, NULL, true, exp, NULL, err);
	} else {
		f = browser(s, state, nonce, a, err);
		if (!f)
			f = verify(s, a->id_token, nonce, true, exp, NULL, err);
	}
	free(state);
	free(nonce);
	return f;
}

/* The member's cache file into path, locked: the lock's fd, -1 on error. */
static int lock_cache(const struct kt_login_opts *o, char *path, size_t size, struct kt_err *err)
{
	if (!kt_login_cache_path(o, path, size)) {
		kt_err_set(err, KT_E_INVALID,
			   "no cache directory: set XDG_CACHE_HOME or HOME, or give --cache-dir");
		return -1;
	}
	return kt_login_cache_lock(path, err);
}

enum kt_login_fail kt_login_token(const struct kt_login_opts *o, struct kt_login_token *out,
				  struct kt_err *err)
{
	struct session s = { .o = o };
	struct kt_login_cached c;
	struct kt_login_answer a = { 0 };
	enum kt_login_fail f;
	char path[4096];
	long long exp = 0;
	int lock;

	memset(out, 0, sizeof(*out));
	/* held until the end: a second kubectl waits, then finds this one's tokens */
	lock = lock_cache(o, path, sizeof(path), err);
	if (lock < 0)
		return KT_LOGIN_CACHE;
	kt_login_cache_read(path, &c);
	f = discover(&s, err);
	if (f)
		goto out;
	if (c.id_token) {
		enum kt_jwt_fail why = KT_JWT_OK;

		if (!verify(&s, c.id_token, NULL, false, &exp, &why, err)) {
			out->id_token = c.id_token;
			c.id_token = NULL;
			goto out;
		}
		/*
		 * Only an expired token sends us to its refresh token.  A forged
		 * or altered one means someone else wrote the file: its refresh
		 * token could log the member in as someone else, so the whole
		 * file goes.
		 */
		if (why != KT_JWT_EXPIRED) {
			free(c.refresh_token);
			c.refresh_token = NULL;
		}
	}
	if (c.refresh_token) {
		f = refresh(&s, c.refresh_token, &a, err);
		if (!f) {
			f = verify(&s, a.id_token, NULL, true, &exp, NULL, err);
		} else if (f == KT_LOGIN_REVOKED) {
			if (o->no_login)
				goto out;
			fprintf(stderr, "kubetenant: the issuer refused the saved session "
					"(revoked or expired); logging in again\n");
		}
		if (f == KT_LOGIN_OK && !a.refresh_token) /* not rotated: keep the one we had */
			a.refresh_token = strdup(c.refresh_token);
		if (f)
			kt_login_answer_release(&a);
		if (f && f != KT_LOGIN_REVOKED && f != KT_LOGIN_REFUSED)
			goto out;
	}
	if (!a.id_token) {
		if (o->no_login) {
			kt_err_set(err, KT_E_AUTH, "no valid session in the cache");
			f = KT_LOGIN_REVOKED;
			goto out;
		}
		f = fresh_login(&s, &a, &exp, err);
		if (f)
			goto out;
	}
	f = kt_login_cache_write(path, a.id_token, a.refresh_token, err);
	if (!f) {
		out->id_token = a.id_token;
		a.id_token = NULL;
	}
out:
	out->exp = exp;
	if (f)
		out->exp = 0;
	kt_login_answer_release(&a);
	kt_login_cached_release(&c);
	kt_oidc_free(s.oidc);
	close(lock);
	return out->id_token ? KT_LOGIN_OK : f ? f : KT_LOGIN_INTERNAL;
}

enum kt_login_fail kt_login_logout(const struct kt_login_opts *o, struct kt_err *err)
{
	char path[4096];
	int lock;

	lock = lock_cache(o, path, sizeof(path), err);
	if (lock < 0)
		return KT_LOGIN_CACHE;
	if (unlink(path) && errno != ENOENT) {
		kt_err_set(err, KT_E_IO, "cannot remove '%s': %s", path, strerror(errno));
		close(lock);
		return KT_LOGIN_CACHE;
	}
	close(lock);
	return KT_LOGIN_OK;
}
