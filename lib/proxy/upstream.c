/*
 * upstream.c: the API server's answer to a tunnel's upgrade request, read
 * off the proxy's own TLS connection (libcurl cannot hand over a socket
 * after a SPDY 101): its head, a chunked body, and the 101 to relay.
 *
 * The bytes come from the network: every walk is bounded by the head's
 * length (memmem, never a string function that looks for a NUL), and a
 * head with a NUL in it is refused.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "kt/proxy.h"

/* The next line of a head: it starts at line; NULL past the head's end. */
static const char *eol_of(const char *line, const char *head_end)
{
	return line < head_end ? memmem(line, (size_t)(head_end - line), "\r\n", 2) : NULL;
}

/* A Content-Length value: digits between optional blanks; -1 otherwise. */
static long long length_of(const char *v, const char *eol)
{
	long long n = 0;

	while (v < eol && (*v == ' ' || *v == '\t'))
		v++;
	if (v == eol)
		return -1;
	for (; v < eol && *v >= '0' && *v <= '9'; v++)
		if (n > (LLONG_MAX - 9) / 10)
			return -1;
		else
			n = n * 10 + (*v - '0');
	while (v < eol && (*v == ' ' || *v == '\t'))
		v++;
	return v == eol ? n : -1;
}

int kt_proxy_parse_head(const char *buf, size_t len, struct kt_http_head *h)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4), *head_end, *line, *eol, *c;
	int i;

	if (!end)
		return len >= 7 && memcmp(buf, "HTTP/1.", 7) ? -1 : 0;
	h->head_len = (size_t)(end - buf) + 4;
	head_end = buf + h->head_len;
	if (h->head_len < 16 || memcmp(buf, "HTTP/1.", 7) || buf[8] != ' ' ||
	    memchr(buf, 0, h->head_len))
		return -1;
	for (i = 9, h->status = 0; i < 12; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -1;
		h->status = h->status * 10 + (unsigned)(buf[i] - '0');
	}
	if (h->status < 100 || h->status > 599 || (buf[12] != ' ' && buf[12] != '\r'))
		return -1;
	h->clen = -1;
	h->chunked = false;
	for (line = eol_of(buf, head_end) + 2; (eol = eol_of(line, head_end)) && eol > line;
	     line = eol + 2) {
		if ((size_t)(eol - line) >= 15 && !strncasecmp(line, "content-length:", 15)) {
			if ((h->clen = length_of(line + 15, eol)) < 0)
				return -1;
		} else if ((size_t)(eol - line) >= 18 &&
			   !strncasecmp(line, "transfer-encoding:", 18)) {
			for (c = line + 18; c + 7 <= eol && !h->chunked; c++)
				h->chunked = !strncasecmp(c, "chunked", 7);
		}
	}
	return 1;
}

bool kt_proxy_dechunk(const char *in, size_t len, struct kt_buf *out)
{
	const char *p = in, *end = in + len;
	char *e;
	unsigned long n;

	for (;;) {
		const char *nl = memmem(p, (size_t)(end - p), "\r\n", 2);

		/* hex digits only: strtoul would take a sign or spaces too */
		if (!nl || *p == '\0' || !strchr("0123456789abcdefABCDEF", *p))
			return false;
		n = strtoul(p, &e, 16);
		if (e > nl)
			return false;
		p = nl + 2;
		if (!n)
			return true;
		if (n > (size_t)(end - p) || (size_t)(end - p) - n < 2 || kt_buf_add(out, p, n))
			return false;
		p += n + 2;
	}
}

void kt_proxy_head_fields(const char *buf, const struct kt_http_head *h,
			  void (*fn)(const char *name, const char *line, size_t line_len,
				     const char *value, size_t value_len, void *arg),
			  void *arg)
{
	const char *head_end = buf + h->head_len, *line, *eol, *colon, *v;
	char name[128];

	for (line = eol_of(buf, head_end) + 2; (eol = eol_of(line, head_end)) && eol > line;
	     line = eol + 2) {
		size_t n = (size_t)(eol - line);

		colon = memchr(line, ':', n);
		/* no name, a long one, or a stray CR or LF: not relayed */
		if (!colon || colon == line || (size_t)(colon - line) >= sizeof(name) ||
		    memchr(line, '\r', n) || memchr(line, '\n', n))
			continue;
		memcpy(name, line, (size_t)(colon - line));
		name[colon - line] = 0;
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		fn(name, line, n, v, (size_t)(eol - v), arg);
	}
}

struct head_out {
	struct kt_buf *out;
	enum kt_rc rc;
};

static void add_line(const char *name, const char *line, size_t line_len, const char *value,
		     size_t value_len, void *arg)
{
	struct head_out *o = arg;

	(void)value;
	(void)value_len;
	if (!o->rc && !kt_proxy_drop_response_header(name, true) &&
	    (kt_buf_add(o->out, line, line_len) || kt_buf_adds(o->out, "\r\n")))
		o->rc = KT_E_NOMEM;
}

enum kt_rc kt_proxy_head_101(const char *buf, const struct kt_http_head *h, struct kt_buf *out)
{
	struct head_out o = { out, kt_buf_adds(out, "HTTP/1.1 101 Switching Protocols\r\n") };

	if (!o.rc)
		kt_proxy_head_fields(buf, h, add_line, &o);
	return o.rc ? o.rc : kt_buf_adds(out, "\r\n");
}
