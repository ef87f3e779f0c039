/*
 * log.c: JSON lines on stderr, the format Kubernetes log collectors expect.
 *
 * Each line is a jansson object, serialized by jansson and written with a
 * single write(2), so lines from different worker threads never interleave.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "kt/json.h"
#include "log.h"

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

/* "2026-01-02T03:04:05.123456Z" */
static void timestamp(char out[64])
{
	/* the date part changes once a second: format it once per second per thread */
	static _Thread_local time_t cached_sec = -1;
	static _Thread_local char cached[32];
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != cached_sec) {
		gmtime_r(&ts.tv_sec, &tm);
		strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
		cached_sec = ts.tv_sec;
	}
	snprintf(out, 64, "%s.%06ldZ", cached, ts.tv_nsec / 1000 % 1000000);
}

/* A value of the line: cut, never invalid UTF-8. */
static json_t *value(const char *s, size_t max)
{
	return kt_json_text(s, strlen(s), max);
}

json_t *kt_log_begin(enum kt_log_level lvl, const char *msg)
{
	char ts[64];

	timestamp(ts);
	kt_json_arena_begin();
	return json_pack("{s:s,s:s,s:o}", "ts", ts, "level", level_names[lvl], "msg",
			 value(msg, MAX_VALUE));
}

/* Keys are the program's own names (jansson checks them: valid UTF-8). */
void kt_log_str(json_t *line, const char *key, const char *val)
{
	if (line)
		json_object_set_new(line, key, val ? value(val, MAX_VALUE) : json_null());
}

void kt_log_num(json_t *line, const char *key, long long val)
{
	if (line)
		json_object_set_new(line, key, json_integer((json_int_t)val));
}

json_t *kt_log_list(json_t *line, const char *key)
{
	json_t *list = line ? json_array() : NULL;

	if (list && json_object_set(line, key, list)) {
		json_decref(list);
		return NULL;
	}
	json_decref(list); /* the line holds it */
	return list;
}

void kt_log_add(json_t *list, const char *s, size_t max)
{
	if (list)
		json_array_append_new(list, value(s, max));
}

enum kt_rc kt_log_format(const json_t *line, struct kt_buf *out)
{
	enum kt_rc rc = line ? kt_json_dump(line, out) : KT_E_NOMEM;

	return rc ? rc : kt_buf_addch(out, '\n');
}

#define HOLD_MAX (64u << 10)

static _Thread_local bool holding;
static _Thread_local struct kt_buf held = KT_BUF_INIT;

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

void kt_log_end(json_t *line)
{
	struct kt_buf b = KT_BUF_INIT;
	size_t mark = held.len;

	if (holding && line && !kt_log_format(line, &held)) {
		if (held.len >= HOLD_MAX)
			kt_log_flush();
	} else if (holding) {
		held.len = mark; /* a line cut short is dropped whole */
	} else if (line && !kt_buf_grow(&b, 512) && !kt_log_format(line, &b)) {
		write_all(b.buf, b.len); /* most lines fit: one allocation */
	}
	kt_buf_release(&b);
	json_decref(line);
	kt_json_arena_end();
}

void kt_log(enum kt_log_level lvl, const char *msg, ...)
{
	json_t *line;
	const char *key;
	va_list ap;

	if (lvl < kt_log_min)
		return;
	line = kt_log_begin(lvl, msg);
	va_start(ap, msg);
	while ((key = va_arg(ap, const char *)))
		kt_log_str(line, key, va_arg(ap, const char *));
	va_end(ap);
	kt_log_end(line);
}
