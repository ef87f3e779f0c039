/*
 * device.c: the device authorization grant (RFC 8628), for a terminal with
 * no browser (SSH): the member opens the URL anywhere and types the code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"

enum kt_login_fail kt_login_device_flow(const struct kt_login_opts *o,
					const struct kt_oidc_endpoints *e,
					struct kt_login_answer *a, struct kt_err *err)
{
	const char *form[] = { "client_id", o->client_id, "scope", o->scopes, NULL };
	struct kt_buf b = KT_BUF_INIT;
	struct kt_login_device d;
	enum kt_login_fail f;
	long long deadline;

	memset(a, 0, sizeof(*a));
	if (!e->device) {
		kt_err_set(err, KT_E_INVALID,
			   "the issuer offers no device login "
			   "(no device_authorization_endpoint); run without --device on a "
			   "machine with a browser");
		return KT_LOGIN_UNREACHABLE;
	}
	f = kt_login_post(o, e->device, form, &b, err);
	if (!f)
		f = kt_login_parse_device(b.buf, b.len, &d, err);
	if (f) {
		kt_buf_release(&b);
		return f;
	}
	/* stderr: kubectl shows it to the member; stdout is the ExecCredential */
	fprintf(stderr, "To log in, open %s and enter the code %s\n", d.verification_uri,
		d.user_code);
	if (d.verification_uri_complete)
		kt_login_open_browser(o->browser, d.verification_uri_complete);
	deadline = (long long)time(NULL) + d.expires_in;
	if (o->timeout > 0 && o->timeout < d.expires_in)
		deadline = (long long)time(NULL) + o->timeout;
	form[0] = "grant_type";
	form[1] = "urn:ietf:params:oauth:grant-type:device_code";
	{
		const char *poll[] = { "grant_type", form[1],      "device_code", d.device_code,
				       "client_id",  o->client_id, NULL };

		for (;;) {
			if ((long long)time(NULL) + d.interval > deadline) {
				kt_err_set(err, KT_E_AUTH,
					   "the device code expired before the login "
					   "was confirmed");
				f = KT_LOGIN_EXPIRED;
				break;
			}
			sleep((unsigned)d.interval);
			f = kt_login_post(o, e->token, poll, &b, err);
			if (!f)
				f = kt_login_parse_token(b.buf, b.len, a, err);
			if (f ==
			    KT_LOGIN_REVOKED) /* invalid_grant here: the code is no longer valid */
				f = KT_LOGIN_EXPIRED;
			if (f || !a->pending)
				break;
			if (a->slow_down)
				d.interval = d.interval + 5 > 60 ? 60 : d.interval + 5;
			kt_login_answer_release(a);
		}
	}
	kt_login_device_release(&d);
	kt_buf_release(&b);
	return f;
}
