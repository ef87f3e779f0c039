/*
 * bench_curl.c: libcurl alone, doing the proxy's upstream hop and nothing
 * else: GETs over N kept-alive TLS connections, with the transfer options
 * and the identity headers proxy_fwd.c sets, driven by one multi handle.
 * It prints requests/s and the CPU microseconds per request of this
 * process (user + system), the floor under what `kubetenant proxy` can
 * spend per request on its libcurl side.  bench/proxy.sh runs it against
 * the same upstream as the proxy and nginx.
 *
 * usage: bench_curl URL CA-FILE CONNECTIONS SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <curl/curl.h>

static size_t discard(char *data, size_t size, size_t n, void *cls)
{
	(void)data;
	(void)cls;
	return size * n;
}

static void start(CURLM *m, CURL *e, const char *url, const char *ca, struct curl_slist *h)
{
	curl_easy_reset(e); /* as the proxy does when a handle goes back to its pool */
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CAINFO, ca);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 64L * 1024);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_multi_add_handle(m, e);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu(void)
{
	struct rusage u;

	getrusage(RUSAGE_SELF, &u);
	return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
	       (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
	static const char *const fwd[] = {
		"Authorization: Bearer bench-sa-token",
		"Impersonate-User: oidc:bench",
		"Impersonate-Group: oidc:team-a-devs",
		"Impersonate-Group: system:authenticated",
		"Accept:",
		"Content-Type:",
		"Expect:",
	};
	struct curl_slist *h = NULL;
	double secs, t0 = 0, c0 = 0, t1, c1;
	long done = 0, counted = 0;
	int conns, running, left, i;
	CURL *e[64];
	CURLMsg *msg;
	CURLM *m;

	if (argc != 5 || (conns = atoi(argv[3])) < 1 || conns > 64 || (secs = atof(argv[4])) <= 0) {
		fprintf(stderr, "usage: bench_curl URL CA-FILE CONNECTIONS SECONDS\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	m = curl_multi_init();
	for (i = 0; i < (int)(sizeof(fwd) / sizeof(fwd[0])); i++)
		h = curl_slist_append(h, fwd[i]);
	for (i = 0; i < conns; i++) {
		e[i] = curl_easy_init();
		start(m, e[i], argv[1], argv[2], h);
	}
	for (;;) {
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			if (msg->data.result != CURLE_OK) {
				fprintf(stderr, "bench_curl: %s\n",
					curl_easy_strerror(msg->data.result));
				return 1;
			}
			curl_multi_remove_handle(m, msg->easy_handle);
			if (++done == 4L * conns) { /* connections made and warm: start counting */
				t0 = now();
				c0 = cpu();
			} else if (done > 4L * conns) {
				counted++;
			}
			start(m, msg->easy_handle, argv[1], argv[2], h);
		}
		if (counted && now() - t0 >= secs)
			break;
		curl_multi_poll(m, NULL, 0, 1000, NULL);
	}
	t1 = now();
	c1 = cpu();
	printf("%.2f %.1f\n", (double)counted / (t1 - t0), (c1 - c0) * 1e6 / (double)counted);
	for (i = 0; i < conns; i++) {
		curl_multi_remove_handle(m, e[i]);
		curl_easy_cleanup(e[i]);
	}
	curl_slist_free_all(h);
	curl_multi_cleanup(m);
	curl_global_cleanup();
	return 0;
}
