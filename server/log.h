/*
 * log.h: JSON lines on stderr (server/log.c), for `serve` and `proxy`.
 */
#ifndef KT_LOG_H
#define KT_LOG_H

#include <stdbool.h>
#include <jansson.h>
#include "kt/buf.h"
#include "kt/err.h"

enum kt_log_level { KT_LOG_DEBUG, KT_LOG_INFO, KT_LOG_WARN, KT_LOG_ERROR };
extern enum kt_log_level kt_log_min;

/* "debug", "info", "warn" or "error"; KT_E_INVALID otherwise. */
enum kt_rc kt_log_parse_level(const char *s, enum kt_log_level *out);

/*
 * Build a line as a jansson object: kt_log_begin() (a new object, NULL when
 * out of memory: the calls below then do nothing), fields in the order they
 * are added, kt_log_end() (serializes it with jansson, writes it with one
 * write(2) and frees it).  Strings are cut at 512 bytes ("..." appended)
 * and invalid UTF-8 becomes U+FFFD, so a hostile value can neither break
 * the line nor grow it without bound.  A NULL string is written as null.
 * Between the two, this thread's jansson values come from its arena
 * (kt/json.h): every begin must meet its end, and no value made in between
 * may outlive the line.
 */
json_t *kt_log_begin(enum kt_log_level lvl, const char *msg);
void kt_log_str(json_t *line, const char *key, const char *val);
void kt_log_num(json_t *line, const char *key, long long val);
/* An empty list under key (borrowed; NULL when line is); kt_log_add() appends s cut at max. */
json_t *kt_log_list(json_t *line, const char *key);
void kt_log_add(json_t *list, const char *s, size_t max);
/* The line as it is written: compact JSON and a newline, appended to out. */
enum kt_rc kt_log_format(const json_t *line, struct kt_buf *out);
void kt_log_end(json_t *line);

/*
 * An event loop that ends many requests per pass holds this thread's lines
 * (kt_log_hold(true)) and writes them with one write(2) in kt_log_flush(),
 * before it waits again.  Held lines are written at once past 64 KiB; other
 * threads' lines are never held.  kt_log_hold(false) flushes.
 */
void kt_log_hold(bool on);
void kt_log_flush(void);

/* A line with string fields: kt_log(KT_LOG_WARN, "msg", "key", "value", ..., NULL). */
void kt_log(enum kt_log_level lvl, const char *msg, ...) __attribute__((sentinel));

#endif
