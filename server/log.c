/*
 * log.c: JSON lines on stderr, the format Kubernetes log collectors expect.
 *
 * A line is written as it is built, straight into a per-thread buffer (no
 * tree; one allocation, the buffer, freed once the line is written), the bytes jansson's
 * compact dump of the same object would give: values are escaped by
 * kt_jw_chars(), which replaces invalid UTF-8 the way kt_json_text() does.
 * Each line goes out with a single write(2), so lines from different
 * worker threads never interleave.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "kt/jwrite.h"
#include "log.h"

#define MAX_VALUE 512
#define HOLD_MAX (64u << 10)

enum kt_log_level kt_log_min = KT_LOG_INFO;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

struct kt_log_line {
	struct kt_buf *out; /* held, or own */
	size_t start;       /* where the line begins in out */
	bool open, failed;  /* failed: out of memory, the line is dropped */
	bool list, items;   /* a list is open; it has items */
};

static _Thread_local struct kt_log_line cur;
static _Thread_local struct kt_buf own = KT_BUF_INIT;
static _Thread_local bool holding;
static _Thread_local struct kt_buf held = KT_BUF_INIT;

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

static void add(struct kt_log_line *l, const char *s, size_t n)
{
	if (!l->failed && kt_buf_add(l->out, s, n))
		l->failed = true;
}

/* A value: its first max bytes, repaired and escaped, and "..." when cut. */
static void value(struct kt_log_line *l, const char *s, size_t max)
{
	size_t len = strlen(s), n = len < max ? len : max;

	add(l, "\"", 1);
	if (!l->failed && kt_jw_chars(l->out, s, n))
		l->failed = true;
	if (n < len)
		add(l, "...", 3);
	add(l, "\"", 1);
}

/* ,"key": -- closing the open list first; keys are the program's own names, plain ASCII */
static void key(struct kt_log_line *l, const char *k)
{
	size_t n = strlen(k), at;
	struct kt_buf *b = l->out;

	if (l->failed || kt_buf_grow(b, n + 5)) {
		l->failed = true;
		return;
	}
	at = b->len;
	if (l->list)
		b->buf[at++] = ']';
	l->list = false;
	b->buf[at++] = ',';
	b->buf[at++] = '"';
	memcpy(b->buf + at, k, n);
	at += n;
	b->buf[at++] = '"';
	b->buf[at++] = ':';
	b->buf[at] = '\0';
	b->len = at;
}

/* "2026-01-02T03:04:05.123456Z" */
static void timestamp(char out[27])
{
	/* the date part changes once a second: format it once per second per thread */
	static _Thread_local time_t cached_sec = -1;
	static _Thread_local char cached[20];
	struct timespec ts;
	struct tm tm;
	long us;
	int i;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != cached_sec) {
		gmtime_r(&ts.tv_sec, &tm);
		strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
		cached_sec = ts.tv_sec;
	}
	memcpy(out, cached, 19);
	out[19] = '.';
	for (us = ts.tv_nsec / 1000 % 1000000, i = 25; i > 19; i--, us /= 10)
		out[i] = (char)('0' + us % 10);
	out[26] = 'Z';
}

struct kt_log_line *kt_log_begin(enum kt_log_level lvl, const char *msg)
{
	struct kt_log_line *l = &cur;
	char ts[27];

	if (l->open)
		return NULL;
	*l = (struct kt_log_line){ .out = holding ? &held : &own, .open = true };
	l->start = l->out->len;
	if (!holding && kt_buf_grow(&own, 512)) /* most lines fit: one allocation */
		l->failed = true;
	timestamp(ts);
	add(l, "{\"ts\":\"", 7);
	add(l, ts, sizeof(ts));
	add(l, "\",\"level\":\"", 11);
	add(l, level_names[lvl], strlen(level_names[lvl]));
	add(l, "\",\"msg\":", 8);
	value(l, msg, MAX_VALUE);
	return l;
}

void kt_log_str(struct kt_log_line *line, const char *k, const char *val)
{
	if (!line)
		return;
	key(line, k);
	if (val)
		value(line, val, MAX_VALUE);
	else
		add(line, "null", 4);
}

void kt_log_num(struct kt_log_line *line, const char *k, long long val)
{
	if (!line)
		return;
	key(line, k);
	if (!line->failed && kt_jw_int(line->out, val))
		line->failed = true;
}

struct kt_log_line *kt_log_list(struct kt_log_line *line, const char *k)
{
	if (!line)
		return NULL;
	key(line, k);
	add(line, "[", 1);
	line->list = true;
	line->items = false;
	return line;
}

void kt_log_add(struct kt_log_line *list, const char *s, size_t max)
{
	if (!list || !list->list)
		return;
	if (list->items)
		add(list, ",", 1);
	list->items = true;
	value(list, s, max);
}

/* The line's bytes taken out of its buffer, once written or copied or failed. */
static void drop(struct kt_log_line *l)
{
	if (l->out == &own) {
		kt_buf_release(&own); /* a worker thread that ends leaves nothing behind */
	} else if (held.alloc) {
		held.len = l->start;
		held.buf[held.len] = '\0';
	}
}

/* Close the line; false when it failed (then it is dropped whole). */
static bool finish(struct kt_log_line *l)
{
	if (l->list)
		add(l, "]", 1);
	add(l, "}\n", 2);
	l->open = false;
	if (l->failed)
		drop(l);
	return !l->failed;
}

enum kt_rc kt_log_format(struct kt_log_line *line, struct kt_buf *out)
{
	enum kt_rc rc;

	if (!line || !finish(line))
		return KT_E_NOMEM;
	rc = kt_buf_add(out, line->out->buf + line->start, line->out->len - line->start);
	drop(line);
	return rc;
}

static void write_all(const char *p, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = write(STDERR_FILENO, p + off, len - off);
		if (n <= 0)
			break; /* nowhere to report a failing stderr */
		off += (size_t)n;
	}
}

void kt_log_flush(void)
{
	write_all(held.buf, held.len);
	kt_buf_reset(&held);
}

void kt_log_hold(bool on)
{
	holding = on;
	if (!on) {
		kt_log_flush();
		kt_buf_release(&held);
	}
}

void kt_log_end(struct kt_log_line *line)
{
	if (!line || !finish(line))
		return;
	if (line->out == &held) {
		if (held.len >= HOLD_MAX)
			kt_log_flush();
		return;
	}
	write_all(own.buf, own.len);
	drop(line);
}

void kt_log(enum kt_log_level lvl, const char *msg, ...)
{
	struct kt_log_line *line;
	const char *k;
	va_list ap;

	if (lvl < kt_log_min)
		return;
	line = kt_log_begin(lvl, msg);
	va_start(ap, msg);
	while ((k = va_arg(ap, const char *)))
		kt_log_str(line, k, va_arg(ap, const char *));
	va_end(ap);
	kt_log_end(line);
}
