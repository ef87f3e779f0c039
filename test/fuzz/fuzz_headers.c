/*
 * fuzz_headers.c: the proxy's header filter on hostile header lists.
 *
 * Input: the first byte's low bit says "upgrade request"; the rest is
 * "Name: value" lines.  Whatever comes in, what goes out must hold:
 *  - a request with any Impersonate-* header is refused, never forwarded;
 *  - no output line is Authorization, X-Remote-* or Cookie, no WebSocket
 *    subprotocol carries a bearer token, and no line carries CR or LF;
 *  - exactly one Impersonate-User line, ours, and our groups after it.
 * kt_proxy_bearer and kt_proxy_verb get the same bytes.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "kt/proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool has_impersonate(const struct kt_hdr *h, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		char f[13];

		for (j = 0; j < 12 && h[i].name[j]; j++)
			f[j] = h[i].name[j] == '_' ? '-'
						   : (char)tolower((unsigned char)h[i].name[j]);
		f[j] = 0;
		if (!strcmp(f, "impersonate-"))
			return true;
	}
	return false;
}

static void check_output(const struct kt_buf *out, size_t count)
{
	const char *s = out->buf;
	size_t i, users = 0;

	for (i = 0; i < count; i++, s += strlen(s) + 1) {
		if (strpbrk(s, "\r\n"))
			abort();
		if (!strncasecmp(s, "authorization:", 14) || !strncasecmp(s, "x-remote-", 9) ||
		    !strncasecmp(s, "cookie:", 7) || !strncasecmp(s, "host:", 5))
			abort();
		if (!strncasecmp(s, "sec-websocket-protocol:", 23) &&
		    strcasestr(s, "bearer.authorization.k8s.io"))
			abort();
		if (!strncasecmp(s, "impersonate-user:", 17)) {
			if (strcmp(s, "Impersonate-User: oidc:fuzz"))
				abort();
			users++;
		} else if (!strncasecmp(s, "impersonate-", 12) && users != 1) {
			abort(); /* an Impersonate-* line that is not ours */
		}
	}
	if (users != 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *groups[] = { "oidc:g" };
	static const struct kt_jwt_claim extra[] = { { "k e/y", "v" } };
	struct kt_identity id = { .user = "oidc:fuzz", .groups = groups, .n_groups = 1 };
	struct kt_proxy_ident ident = { .id = &id,
					.extra = extra,
					.n_extra = 1,
					.client_ip = "192.0.2.1",
					.extra_client_ip = true };
	struct kt_hdr h[KT_PROXY_MAX_HEADERS + 8];
	struct kt_buf out = KT_BUF_INIT;
	const char *reason, *tok;
	char *text, *line, *save = NULL;
	size_t n = 0, count = 0, len;
	enum kt_rc rc;

	if (size < 1 || size > 65536)
		return 0;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = 0;
	kt_proxy_bearer(text, &tok, &len, &reason);
	kt_proxy_verb(size & 2 ? "GET" : "DELETE", text, strchr(text, '?'));
	for (line = strtok_r(text, "\n", &save); line && n < sizeof(h) / sizeof(h[0]);
	     line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		*colon = 0;
		h[n].name = line;
		h[n].value = colon[1] == ' ' ? colon + 2 : colon + 1;
		n++;
	}
	rc = kt_proxy_filter_headers(h, n, data[0] & 1, &ident, &out, &count, &reason);
	if (has_impersonate(h, n) && rc != KT_E_AUTH)
		abort();
	if (rc == KT_OK)
		check_output(&out, count);
	kt_buf_release(&out);
	free(text);
	return 0;
}
