/*
 * replay.c: a main() for libFuzzer targets, so every `make check` feeds each
 * committed corpus file to its target without libFuzzer (h2o's CI does the
 * same).  Prints one TAP line per file; a crash is caught by the sanitizers.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kt/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, i;
	DIR *d;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS-DIR\n", argv[0]);
		return 2;
	}
	d = opendir(argv[1]);
	if (!d) {
		printf("not ok 1 - cannot open corpus '%s'\n", argv[1]);
		return 1;
	}
	while ((de = readdir(d))) {
		char **grown;

		if (de->d_name[0] == '.')
			continue;
		grown = realloc(names, (n + 1) * sizeof(*names));
		if (!grown)
			return 1;
		names = grown;
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp);
	printf("1..%zu\n", n);
	for (i = 0; i < n; i++) {
		struct kt_buf b = KT_BUF_INIT;
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", argv[1], names[i]);
		if (kt_buf_read_file(&b, path, 16u << 20, NULL)) {
			printf("not ok %zu - cannot read %s\n", i + 1, names[i]);
			continue;
		}
		LLVMFuzzerTestOneInput((const uint8_t *)b.buf, b.len);
		kt_buf_release(&b);
		printf("ok %zu - %s\n", i + 1, names[i]);
		free(names[i]);
	}
	free(names);
	return 0;
}
