/*
 * prom.c: the Prometheus text format (0.0.4) both servers' /metrics use,
 * and the latency histogram they observe into.
 */
#include <string.h>
#include "core.h"

void kt_histogram_init(struct kt_histogram *h, const unsigned long *bounds_us, size_t n)
{
	memset(h, 0, sizeof(*h));
	h->bounds_us = bounds_us;
	h->n = n < KT_HISTOGRAM_MAX ? n : KT_HISTOGRAM_MAX;
}

void kt_histogram_observe(struct kt_histogram *h, uint64_t micros)
{
	size_t b = 0;

	while (b < h->n && micros > h->bounds_us[b])
		b++;
	atomic_fetch_add_explicit(&h->bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, micros, memory_order_relaxed);
}

void kt_prom_help(struct kt_buf *o, const char *name, const char *type, const char *text)
{
	kt_buf_addf(o, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

void kt_prom_scalar(struct kt_buf *o, const char *name, const char *type, const char *text,
		    unsigned long v)
{
	kt_prom_help(o, name, type, text);
	kt_buf_addf(o, "%s %lu\n", name, v);
}

void kt_prom_histogram(struct kt_buf *o, const char *name, const char *label,
		       const struct kt_histogram *h)
{
	const char *l = label ? label : "", *comma = label ? "," : "";
	unsigned long cum = 0;
	size_t b;

	/* a scrape may see one observation in a bucket and not yet in the sum: never torn */
	for (b = 0; b <= h->n; b++) {
		cum += atomic_load_explicit(&h->bucket[b], memory_order_relaxed);
		if (b < h->n)
			kt_buf_addf(o, "%s_bucket{%s%sle=\"%g\"} %lu\n", name, l, comma,
				    (double)h->bounds_us[b] / 1e6, cum);
		else
			kt_buf_addf(o, "%s_bucket{%s%sle=\"+Inf\"} %lu\n", name, l, comma, cum);
	}
	kt_buf_addf(o, "%s_sum%s%s%s %.6f\n", name, label ? "{" : "", l, label ? "}" : "",
		    (double)atomic_load_explicit(&h->sum_us, memory_order_relaxed) / 1e6);
	kt_buf_addf(o, "%s_count%s%s%s %lu\n", name, label ? "{" : "", l, label ? "}" : "", cum);
}
