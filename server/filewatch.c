/*
 * filewatch.c: notice that a file was replaced, by polling.
 *
 * Kubernetes mounts ConfigMaps and Secrets as symlinks into a timestamped
 * directory and swaps a `..data` symlink to update them atomically, so the
 * path keeps its name while everything behind it changes.  stat() (which
 * follows the links) gives the identity of the file now served, and
 * realpath() the directory it lives in; a change of either, or of size,
 * mtime or ctime (an in-place write), counts.  Polling every few seconds
 * costs two system calls and, unlike inotify, survives the whole directory
 * being swapped underneath the watch.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "http.h"

static bool ts_eq(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

enum kt_file_change kt_file_sig_update(const char *path, struct kt_file_sig *sig)
{
	struct stat st;
	char *target;
	bool same;

	if (stat(path, &st)) {
		sig->err = errno;
		return KT_FILE_GONE;
	}
	target = realpath(path, NULL);
	if (!target) {
		sig->err = errno;
		return KT_FILE_GONE;
	}
	sig->err = 0;
	same = sig->valid && sig->dev == st.st_dev && sig->ino == st.st_ino &&
	       sig->size == st.st_size && ts_eq(sig->mtime, st.st_mtim) &&
	       ts_eq(sig->ctime, st.st_ctim) && sig->target && !strcmp(sig->target, target);
	free(sig->target);
	sig->target = target;
	sig->valid = true;
	sig->dev = st.st_dev;
	sig->ino = st.st_ino;
	sig->size = st.st_size;
	sig->mtime = st.st_mtim;
	sig->ctime = st.st_ctim;
	return same ? KT_FILE_SAME : KT_FILE_CHANGED;
}

void kt_file_sig_release(struct kt_file_sig *sig)
{
	free(sig->target);
	memset(sig, 0, sizeof(*sig));
}
