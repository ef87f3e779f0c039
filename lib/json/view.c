/*
 * view.c: one view a thread (kt/jview.h), for the webhook: parsing, the
 * buffers and what the view keeps between documents are in simd.cc.
 */
#include <pthread.h>
#include <stdlib.h>
#include "kt/jview.h"

static pthread_key_t thread_key;
static pthread_once_t thread_once = PTHREAD_ONCE_INIT;
static bool thread_key_ok;

static void thread_end(void *p)
{
	kt_jview_release(p);
	free(p);
}

static void thread_init(void)
{
	thread_key_ok = pthread_key_create(&thread_key, thread_end) == 0;
}

struct kt_jview *kt_jview_thread(void)
{
	struct kt_jview *v;

	if (pthread_once(&thread_once, thread_init) || !thread_key_ok)
		return NULL;
	if ((v = pthread_getspecific(thread_key)))
		return v;
	if (!(v = calloc(1, sizeof(*v))))
		return NULL;
	if (pthread_setspecific(thread_key, v)) {
		free(v);
		return NULL;
	}
	return v;
}
