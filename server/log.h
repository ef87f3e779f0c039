/*
 * log.h: JSON lines on stderr (server/log.c), for `serve` and `proxy`.
 */
#ifndef KT_LOG_H
#define KT_LOG_H

#include <stdbool.h>
#include "kt/buf.h"
#include "kt/err.h"

enum kt_log_level { KT_LOG_DEBUG, KT_LOG_INFO, KT_LOG_WARN, KT_LOG_ERROR };
extern enum kt_log_level kt_log_min;

/* "debug", "info", "warn" or "error"; KT_E_INVALID otherwise. */
enum kt_rc kt_log_parse_level(const char *s, enum kt_log_level *out);

/*
 * A line is written as it is built, into this thread's buffer:
 * kt_log_begin() ("ts", "level" and "msg"), fields in the order they are
 * added (distinct keys, the program's own), kt_log_end() (one write(2)).
 * A thread builds one line at a time: a begin before the previous end
 * returns NULL, and every call below does nothing with a NULL line.
 * Strings are cut at 512 bytes ("..." appended) and each byte that is not
 * valid UTF-8 becomes U+FFFD (kt/jwrite.h), so a hostile value can neither
 * break the line nor grow it without bound.  A NULL string is written as
 * null.  A line that runs out of memory is dropped whole.  The level is
 * the caller's to check first (if (lvl < kt_log_min) return): begin does
 * not, so a line the operator must see is written at any level.
 */
struct kt_log_line;
struct kt_log_line *kt_log_begin(enum kt_log_level lvl, const char *msg);
void kt_log_str(struct kt_log_line *line, const char *key, const char *val);
void kt_log_num(struct kt_log_line *line, const char *key, long long val);
/* A list under key: the kt_log_add() calls that follow at once are its items, cut at max. */
struct kt_log_line *kt_log_list(struct kt_log_line *line, const char *key);
void kt_log_add(struct kt_log_line *list, const char *s, size_t max);
void kt_log_end(struct kt_log_line *line);
/* Ends the line without writing it: its text and a newline appended to out. */
enum kt_rc kt_log_format(struct kt_log_line *line, struct kt_buf *out);

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
