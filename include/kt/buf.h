/*
 * buf.h: growable byte buffer (git's strbuf with curl's size cap).
 *
 *  - `buf` is never NULL and always NUL-terminated; initialise with KT_BUF_INIT.
 *  - `max` caps growth (0 = no cap); an append past it fails with KT_E_LIMIT
 *    and leaves the buffer unchanged.  Always set it for untrusted input.
 *  - kt_buf_detach() hands the malloc'd storage to the caller; the buffer is
 *    empty and reusable after.
 */
#ifndef KT_BUF_H
#define KT_BUF_H

#include <stddef.h>
#include "kt/err.h"

struct kt_buf {
	char *buf;
	size_t len, alloc, max;
};

extern char kt_buf_empty[];
/* clang-format off */
#define KT_BUF_INIT { .buf = kt_buf_empty }
/* clang-format on */

enum kt_rc kt_buf_grow(struct kt_buf *b, size_t extra);
enum kt_rc kt_buf_add(struct kt_buf *b, const void *data, size_t n);
enum kt_rc kt_buf_adds(struct kt_buf *b, const char *s);
enum kt_rc kt_buf_addch(struct kt_buf *b, char c);
enum kt_rc kt_buf_addf(struct kt_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void kt_buf_reset(struct kt_buf *b);                /* length 0, keeps storage */
char *kt_buf_detach(struct kt_buf *b, size_t *len); /* caller frees */
void kt_buf_release(struct kt_buf *b);              /* frees; back to empty */

/*
 * Read a whole file (or stdin for "-") into b, failing with KT_E_LIMIT when
 * it is larger than max bytes and KT_E_IO when it cannot be read.
 */
enum kt_rc kt_buf_read_file(struct kt_buf *b, const char *path, size_t max, struct kt_err *err);

/* Write the whole buffer to a file, atomically (temporary file + rename). */
enum kt_rc kt_buf_write_file(const struct kt_buf *b, const char *path, struct kt_err *err);

#endif
