/*
 * log.c: JSON lines on stderr, the format Kubernetes log collectors expect.
 *
 * Each line is built in memory and written with a single write(2), so lines
 * from different worker threads never interleave.  Values are escaped here
 * rather than through jansson: this runs once per request and needs no
 * allocation beyond the line itself.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "kt/serve.h"

#define MAX_VALUE 512

enum kt_log_level kt_log_min = KT_LOG_INFO;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

enum kt_rc kt_log_parse_level(const char *s, enum kt_log_level *out)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (!strcmp(s, level_names[i])) {
			*out = (enum kt_log_level)i;
			return KT_OK;
		}
	}
	if (!strcmp(s, "warning")) {
		*out = KT_LOG_WARN;
		return KT_OK;
	}
	return KT_E_INVALID;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong, surrogates, beyond U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Printable ASCII that JSON takes as it is. */
static bool plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

void kt_json_escape(struct kt_buf *b, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t full = strlen(s), n = full < max ? full : max, i = 0, run, len;
	char esc[8];

	kt_buf_addch(b, '"');
	while (i < n) {
		unsigned char c = p[i];

		/* the common case: a run of printable ASCII, copied at once */
		run = i;
		while (run < n && plain(p[run]))
			run++;
		if (run > i) {
			kt_buf_add(b, p + i, run - i);
			i = run;
		} else if (c == '"' || c == '\\') {
			esc[0] = '\\', esc[1] = (char)c;
			kt_buf_add(b, esc, 2);
			i++;
		} else if (c == '\n') {
			kt_buf_add(b, "\\n", 2), i++;
		} else if (c == '\t') {
			kt_buf_add(b, "\\t", 2), i++;
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			kt_buf_add(b, esc, 6);
			i++;
		} else if ((len = utf8_len(p + i, n - i))) {
			kt_buf_add(b, p + i, len);
			i += len;
		} else {
			kt_buf_add(b, "\\ufffd", 6);
			i++;
		}
	}
	if (n < full)
		kt_buf_add(b, "...", 3);
	kt_buf_addch(b, '"');
}

/* Decimal digits of v into out (at least 24 bytes); returns the length. */
static size_t format_num(char *out, long long v)
{
	char tmp[24];
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
	size_t n = 0, i = 0;

	do
		tmp[n++] = (char)('0' + u % 10);
	while ((u /= 10));
	if (v < 0)
		out[i++] = '-';
	while (n)
		out[i++] = tmp[--n];
	return i;
}

void kt_log_begin(struct kt_buf *b, enum kt_log_level lvl, const char *msg)
{
	/* the date part changes once a second: format it once per second per thread */
	static _Thread_local time_t cached_sec = -1;
	static _Thread_local char cached[32];
	struct timespec ts;
	struct tm tm;
	char us[8];
	long frac;
	int i;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != cached_sec) {
		gmtime_r(&ts.tv_sec, &tm);
		strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S.", &tm);
		cached_sec = ts.tv_sec;
	}
	for (frac = ts.tv_nsec / 1000, i = 5; i >= 0; i--, frac /= 10)
		us[i] = (char)('0' + frac % 10);
	kt_buf_reset(b);
	kt_buf_grow(b, 512); /* most lines fit: one allocation */
	kt_buf_adds(b, "{\"ts\":\"");
	kt_buf_adds(b, cached);
	kt_buf_add(b, us, 6);
	kt_buf_adds(b, "Z\",\"level\":\"");
	kt_buf_adds(b, level_names[lvl]);
	kt_buf_adds(b, "\",\"msg\":");
	kt_json_escape(b, msg, MAX_VALUE);
}

void kt_log_str(struct kt_buf *b, const char *key, const char *val)
{
	kt_buf_addch(b, ',');
	kt_json_escape(b, key, MAX_VALUE);
	kt_buf_addch(b, ':');
	if (val)
		kt_json_escape(b, val, MAX_VALUE);
	else
		kt_buf_add(b, "null", 4);
}

void kt_log_num(struct kt_buf *b, const char *key, long long val)
{
	char num[32];

	kt_buf_addch(b, ',');
	num[0] = ':';
	kt_json_escape(b, key, MAX_VALUE);
	kt_buf_add(b, num, 1 + format_num(num + 1, val));
}

void kt_log_end(struct kt_buf *b)
{
	size_t off = 0;
	ssize_t n;

	kt_buf_add(b, "}\n", 2);
	while (off < b->len) {
		n = write(STDERR_FILENO, b->buf + off, b->len - off);
		if (n <= 0)
			break; /* nowhere to report a failing stderr */
		off += (size_t)n;
	}
	kt_buf_release(b);
}

void kt_log(enum kt_log_level lvl, const char *msg, ...)
{
	struct kt_buf b = KT_BUF_INIT;
	const char *key;
	va_list ap;

	if (lvl < kt_log_min)
		return;
	kt_log_begin(&b, lvl, msg);
	va_start(ap, msg);
	while ((key = va_arg(ap, const char *)))
		kt_log_str(&b, key, va_arg(ap, const char *));
	va_end(ap);
	kt_log_end(&b);
}
