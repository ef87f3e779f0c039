/*
 * fuzz_upstream.c: the API server's answer to a tunnel's upgrade request
 * (lib/proxy/upstream.c) from hostile bytes.  The input is copied to a
 * buffer of exactly its size, so any read past the answer is reported.
 * Whatever comes in, what is accepted must hold:
 *  - a parsed head ends with its blank line, inside the input, and has a
 *    status of 100-599;
 *  - a chunked body decodes to no more bytes than it had;
 *  - the 101 relayed to the client is a status line, whole CRLF-ended
 *    lines without a stray CR or LF, and a blank line, no longer than the
 *    head it came from (plus its own status line), and without the
 *    hop-by-hop headers the proxy must drop.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "kt/proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_101(const struct kt_buf *out, size_t head_len)
{
	static const char status[] = "HTTP/1.1 101 Switching Protocols\r\n";
	const char *s = out->buf, *end = out->buf + out->len, *eol;

	if (out->len < sizeof(status) + 1 || memcmp(s, status, sizeof(status) - 1) ||
	    memcmp(end - 4, "\r\n\r\n", 4) || out->len > head_len + sizeof(status))
		abort();
	for (s += sizeof(status) - 1; s < end - 2; s = eol + 2) {
		eol = memchr(s, '\r', (size_t)(end - s));
		if (!eol || eol[1] != '\n' || memchr(s, '\n', (size_t)(eol - s)))
			abort();
		if (!strncasecmp(s, "content-length:", 15) ||
		    !strncasecmp(s, "transfer-encoding:", 18) ||
		    !strncasecmp(s, "keep-alive:", 11) || !strncasecmp(s, "date:", 5))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	struct kt_http_head h;
	struct kt_buf body = KT_BUF_INIT, relay = KT_BUF_INIT;
	int r;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	r = kt_proxy_parse_head(buf, size, &h);
	if (r == 1) {
		if (h.head_len > size || h.head_len < 4 ||
		    memcmp(buf + h.head_len - 4, "\r\n\r\n", 4) || h.status < 100 || h.status > 599)
			abort();
		body.max = 1u << 20;
		kt_proxy_dechunk(buf + h.head_len, size - h.head_len, &body);
		if (body.len > size - h.head_len)
			abort();
		if (kt_proxy_head_101(buf, &h, &relay) == KT_OK)
			check_101(&relay, h.head_len);
	} else if (r != 0 && r != -1) {
		abort();
	}
	kt_buf_release(&body);
	kt_buf_release(&relay);
	free(buf);
	return 0;
}
