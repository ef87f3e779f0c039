/*
 * cache.c: the session cache, one JSON file per issuer/client/user under
 * $XDG_CACHE_HOME/kubetenant (or ~/.cache/kubetenant).
 *
 * The directory is 0700 and the file 0600, written to a temporary file in
 * the same directory and renamed over, so a reader sees the old file or
 * the new one, never half of one.  A file that is not ours, readable by
 * others, or malformed is treated as absent: the next login replaces it.
 * A lock file next to it serialises kubectl processes started together.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/sha.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <jansson.h>
#include "internal.h"

bool kt_login_cache_path(const struct kt_login_opts *o, char *buf, size_t size)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	unsigned char md[SHA256_DIGEST_LENGTH];
	char hexs[2 * 16 + 1];
	struct kt_buf key = KT_BUF_INIT;
	size_t i;
	int n;

	/* the key is hashed: an issuer URL makes no safe file name */
	if (kt_buf_add(&key, o->issuer, strlen(o->issuer) + 1) ||
	    kt_buf_add(&key, o->client_id, strlen(o->client_id) + 1) ||
	    kt_buf_adds(&key, o->user ? o->user : "")) {
		kt_buf_release(&key);
		return false;
	}
	SHA256((const unsigned char *)key.buf, key.len, md);
	kt_buf_release(&key);
	for (i = 0; i < 16; i++)
		snprintf(hexs + 2 * i, 3, "%02x", md[i]);
	if (o->cache_dir)
		n = snprintf(buf, size, "%s/%s.json", o->cache_dir, hexs);
	else if (xdg && xdg[0] == '/') /* XDG Base Directory: relative paths are ignored */
		n = snprintf(buf, size, "%s/kubetenant/%s.json", xdg, hexs);
	else if (home && home[0] == '/')
		n = snprintf(buf, size, "%s/.cache/kubetenant/%s.json", home, hexs);
	else
		return false;
	return n > 0 && (size_t)n < size;
}

/* mkdir -p with 0700 for what we create; existing directories stay as they are */
static int mkdirs(char *path)
{
	char *p;

	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return 0;
}

int kt_login_cache_lock(const char *path, struct kt_err *err)
{
	char lock[4096];
	int fd;

	snprintf(lock, sizeof(lock), "%s.lock", path);
	if (mkdirs(lock)) {
		kt_err_set(err, KT_E_IO, "cannot create the directory of '%s': %s", path,
			   strerror(errno));
		return -1;
	}
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		kt_err_set(err, KT_E_IO, "cannot lock '%s': %s", lock, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd; /* closing it releases the lock */
}

void kt_login_cached_release(struct kt_login_cached *c)
{
	free(c->id_token);
	free(c->refresh_token);
	memset(c, 0, sizeof(*c));
}

static char *member(json_t *doc, const char *name)
{
	const char *v = json_string_value(json_object_get(doc, name));

	return v && *v && strlen(v) == json_string_length(json_object_get(doc, name)) ? strdup(v)
										      : NULL;
}

void kt_login_cache_read(const char *path, struct kt_login_cached *c)
{
	struct kt_buf b = KT_BUF_INIT;
	struct stat st;
	json_t *doc;
	int fd;

	memset(c, 0, sizeof(*c));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) || st.st_size > (off_t)KT_LOGIN_MAX_CACHE) {
		close(fd);
		return; /* someone else's file, or one others could read or plant */
	}
	b.max = KT_LOGIN_MAX_CACHE;
	for (;;) {
		char chunk[4096];
		ssize_t r = read(fd, chunk, sizeof(chunk));

		if (r <= 0 || kt_buf_add(&b, chunk, (size_t)r))
			break;
	}
	close(fd);
	doc = json_loadb(b.buf, b.len, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(doc)) {
		c->id_token = member(doc, "id_token");
		c->refresh_token = member(doc, "refresh_token");
	}
	json_decref(doc);
	kt_buf_release(&b);
}

enum kt_login_fail kt_login_cache_write(const char *path, const char *id_token,
					const char *refresh_token, struct kt_err *err)
{
	char tmp[4096];
	json_t *doc = json_pack("{s:s}", "id_token", id_token);
	char *text = NULL;
	size_t len;
	int fd = -1, ok = 0;

	if (doc && refresh_token)
		json_object_set_new(doc, "refresh_token", json_string(refresh_token));
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (!text)
		return kt_err_set(err, KT_E_NOMEM, "out of memory"), KT_LOGIN_INTERNAL;
	len = strlen(text);
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) < (int)sizeof(tmp))
		fd = mkostemp(tmp, O_CLOEXEC); /* 0600 */
	if (fd >= 0) {
		ok = write(fd, text, len) == (ssize_t)len && !fsync(fd);
		ok = !close(fd) && ok && !rename(tmp, path);
		if (!ok)
			unlink(tmp);
	}
	free(text);
	if (!ok)
		return kt_err_set(err, KT_E_IO, "cannot write '%s': %s", path, strerror(errno)),
		       KT_LOGIN_CACHE;
	return KT_LOGIN_OK;
}
