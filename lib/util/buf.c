#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include "kt/buf.h"

char kt_buf_empty[1];

enum kt_rc kt_buf_grow(struct kt_buf *b, size_t extra)
{
	size_t need, alloc;
	char *p;

	if (extra > SIZE_MAX - b->len - 1)
		return KT_E_NOMEM;
	need = b->len + extra + 1;
	if (b->max && need > b->max + 1)
		return KT_E_LIMIT;
	if (need <= b->alloc)
		return KT_OK;
	alloc = b->alloc ? b->alloc : 64;
	while (alloc < need)
		alloc = alloc > SIZE_MAX / 2 ? need : alloc * 2;
	p = realloc(b->alloc ? b->buf : NULL, alloc);
	if (!p)
		return KT_E_NOMEM;
	if (!b->alloc)
		p[0] = '\0';
	b->buf = p;
	b->alloc = alloc;
	return KT_OK;
}

enum kt_rc kt_buf_add(struct kt_buf *b, const void *data, size_t n)
{
	enum kt_rc rc = kt_buf_grow(b, n);

	if (rc)
		return rc;
	if (n)
		memcpy(b->buf + b->len, data, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return KT_OK;
}

enum kt_rc kt_buf_adds(struct kt_buf *b, const char *s)
{
	return kt_buf_add(b, s, strlen(s));
}

enum kt_rc kt_buf_addch(struct kt_buf *b, char c)
{
	return kt_buf_add(b, &c, 1);
}

enum kt_rc kt_buf_addf(struct kt_buf *b, const char *fmt, ...)
{
	enum kt_rc rc;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return KT_E_INTERNAL;
	if ((rc = kt_buf_grow(b, (size_t)n)))
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return KT_OK;
}

void kt_buf_reset(struct kt_buf *b)
{
	b->len = 0;
	if (b->alloc)
		b->buf[0] = '\0';
}

char *kt_buf_detach(struct kt_buf *b, size_t *len)
{
	char *p = b->alloc ? b->buf : strdup("");

	if (len)
		*len = b->alloc ? b->len : 0;
	b->buf = kt_buf_empty;
	b->len = b->alloc = 0;
	return p;
}

void kt_buf_release(struct kt_buf *b)
{
	if (b->alloc)
		free(b->buf);
	b->buf = kt_buf_empty;
	b->len = b->alloc = 0;
}

enum kt_rc kt_buf_read_file(struct kt_buf *b, const char *path, size_t max, struct kt_err *err)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	enum kt_rc rc = KT_OK;
	char chunk[65536];

	if (fd < 0) {
		if (err)
			err->sys_errno = errno;
		return kt_err_at(err, KT_E_IO, path, "cannot open '%s': %s", path, strerror(errno));
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (err)
				err->sys_errno = errno;
			rc = kt_err_at(err, KT_E_IO, path, "cannot read '%s': %s", path,
				       strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (max && (b->len > max || (size_t)n > max - b->len)) {
			rc = kt_err_at(err, KT_E_LIMIT, path, "'%s' is larger than %zu bytes", path,
				       max);
			break;
		}
		if (kt_buf_add(b, chunk, (size_t)n)) {
			rc = kt_err_at(err, KT_E_NOMEM, path, "out of memory reading '%s'", path);
			break;
		}
	}
	if (fd != STDIN_FILENO)
		close(fd);
	return rc;
}

enum kt_rc kt_buf_write_file(const struct kt_buf *b, const char *path, struct kt_err *err)
{
	struct kt_buf tmp = KT_BUF_INIT;
	enum kt_rc rc = KT_OK;
	size_t off = 0;
	int fd;

	if (kt_buf_addf(&tmp, "%s.tmp.%ld", path, (long)getpid()))
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = kt_err_at(err, KT_E_IO, path, "cannot create '%s': %s", tmp.buf,
			       strerror(errno));
		goto out;
	}
	while (off < b->len) {
		ssize_t n = write(fd, b->buf + off, b->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = kt_err_at(err, KT_E_IO, path, "cannot write '%s': %s", path,
				       strerror(errno));
			break;
		}
		off += (size_t)n;
	}
	if (close(fd) && !rc)
		rc = kt_err_at(err, KT_E_IO, path, "cannot write '%s': %s", path, strerror(errno));
	if (!rc && rename(tmp.buf, path))
		rc = kt_err_at(err, KT_E_IO, path, "cannot rename to '%s': %s", path,
			       strerror(errno));
	if (rc)
		unlink(tmp.buf);
out:
	kt_buf_release(&tmp);
	return rc;
}
