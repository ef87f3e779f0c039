/*
 * fuzz_oidc_answers.c: what an issuer (or whoever answers in its name)
 * sends `kubetenant login`, and the cluster's kubetenant-info.
 *
 * The first byte picks the reader of the rest:
 *   0: the token endpoint's answer (kt_login_parse_token);
 *   1: the device authorization endpoint's answer (kt_login_parse_device);
 *   2: the kube-public/kubetenant-info ConfigMap (kt_cluster_info_parse).
 * Besides no crash, leak or undefined behaviour: an accepted token answer
 * has an id_token and is never both a token and "pending"; an accepted
 * device answer has https:// URLs, printable codes and bounded timers; an
 * accepted ConfigMap has https:// URLs; a refusal always says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kt/login.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void printable(const char *s)
{
	for (; s && *s; s++)
		if (*s < 0x21 || *s > 0x7e)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *json = (const char *)data + 1;
	struct kt_err err = { 0 };

	if (size < 1 || size > KT_LOGIN_MAX_ANSWER)
		return 0;
	size--;
	if (data[0] % 3 == 0) {
		struct kt_login_answer a;
		enum kt_login_fail f = kt_login_parse_token(json, size, &a, &err);

		if (!f && !a.pending && !a.id_token)
			abort();
		if (a.pending && (a.id_token || a.refresh_token || f))
			abort();
		if (f && (a.id_token || a.refresh_token || !err.msg[0]))
			abort();
		kt_login_answer_release(&a);
	} else if (data[0] % 3 == 1) {
		struct kt_login_device d;
		enum kt_login_fail f = kt_login_parse_device(json, size, &d, &err);

		if (!f) {
			if (!d.device_code || !d.user_code ||
			    strncmp(d.verification_uri, "https://", 8) || d.interval < 1 ||
			    d.interval > 60 || d.expires_in < 1 || d.expires_in > 3600)
				abort();
			printable(d.user_code);
			printable(d.verification_uri);
			printable(d.verification_uri_complete);
		} else if (d.device_code || !err.msg[0]) {
			abort();
		}
		kt_login_device_release(&d);
	} else {
		struct kt_cluster_info ci;

		if (!kt_cluster_info_parse(json, size, &ci, &err)) {
			if (strncmp(ci.issuer, "https://", 8) ||
			    strncmp(ci.proxy_url, "https://", 8) || !ci.client_id || !ci.cluster)
				abort();
		} else if (ci.issuer || !err.msg[0]) {
			abort();
		}
		kt_cluster_info_release(&ci);
	}
	return 0;
}
