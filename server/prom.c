/*
 * prom.c: the one Prometheus registry both servers' /metrics render
 * (text format 0.0.4), and the latency histogram they observe into.
 */
#include <math.h>
#include <stdio.h>
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

struct kt_prom_family *kt_prom_add(struct kt_prom *r, enum kt_prom_type type, const char *name,
				   const char *help)
{
	struct kt_prom_family *f;

	if (r->n == KT_PROM_FAMILIES) {
		r->full = true;
		return NULL;
	}
	f = &r->f[r->n++];
	memset(f, 0, sizeof(*f));
	f->type = type;
	f->name = name;
	f->help = help;
	f->n = 1;
	return f;
}

void kt_prom_value(struct kt_prom *r, enum kt_prom_type type, const char *name, const char *help,
		   atomic_ulong *v)
{
	struct kt_prom_family *f = kt_prom_add(r, type, name, help);

	if (f) {
		f->v = v;
		f->zeros = true;
	}
}

void kt_prom_func(struct kt_prom *r, enum kt_prom_type type, const char *name, const char *help,
		  double (*read)(void *ctx, size_t i), void *ctx)
{
	struct kt_prom_family *f = kt_prom_add(r, type, name, help);

	if (f) {
		f->read = read;
		f->ctx = ctx;
		f->zeros = true;
	}
}

/* HELP escapes \ and newline; label values also ". */
static void add_escaped(struct kt_buf *o, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			kt_buf_adds(o, "\\\\");
		else if (*s == '\n')
			kt_buf_adds(o, "\\n");
		else if (*s == '"' && quote)
			kt_buf_adds(o, "\\\"");
		else
			kt_buf_addch(o, *s);
	}
}

/* "{a=\"x\",b=\"y\"" without the closing brace (le may follow), or "" with none. */
static void add_labels(struct kt_buf *o, const struct kt_prom_family *f, const char **values)
{
	size_t l;

	for (l = 0; l < KT_PROM_LABELS && f->labels[l]; l++) {
		kt_buf_addf(o, "%s%s=\"", l ? "," : "{", f->labels[l]);
		add_escaped(o, values[l] ? values[l] : "", true);
		kt_buf_addch(o, '"');
	}
}

static void add_series(struct kt_buf *o, const struct kt_prom_family *f, const char *suffix,
		       const char **values, const char *le)
{
	kt_buf_adds(o, f->name);
	kt_buf_adds(o, suffix);
	add_labels(o, f, values);
	if (le)
		kt_buf_addf(o, "%sle=\"%s\"", f->labels[0] ? "," : "{", le);
	if (le || f->labels[0])
		kt_buf_addch(o, '}');
	kt_buf_addch(o, ' ');
}

/* a scrape may see one observation in a bucket and not yet in the sum: never torn */
static void add_histogram(struct kt_buf *o, const struct kt_prom_family *f, const char **values,
			  const struct kt_histogram *h)
{
	unsigned long cum = 0;
	char le[32];
	size_t b;

	for (b = 0; b <= h->n; b++) {
		cum += atomic_load_explicit(&h->bucket[b], memory_order_relaxed);
		if (b < h->n)
			snprintf(le, sizeof(le), "%g", (double)h->bounds_us[b] / 1e6);
		add_series(o, f, "_bucket", values, b < h->n ? le : "+Inf");
		kt_buf_addf(o, "%lu\n", cum);
	}
	add_series(o, f, "_sum", values, NULL);
	kt_buf_addf(o, "%.6f\n",
		    (double)atomic_load_explicit(&h->sum_us, memory_order_relaxed) / 1e6);
	add_series(o, f, "_count", values, NULL);
	kt_buf_addf(o, "%lu\n", cum);
}

static const char *const type_names[] = { "counter", "gauge", "histogram" };

/* HELP and TYPE come with the first series: a family with none is left out. */
static void add_family(struct kt_buf *o, const struct kt_prom_family *f)
{
	const char *values[KT_PROM_LABELS] = { 0 };
	bool head = false;
	char scratch[32];
	size_t i;

	for (i = 0; i < f->n; i++) {
		unsigned long u = 0;
		double d = 0;

		if (f->v)
			u = atomic_load_explicit(&f->v[i], memory_order_relaxed);
		else if (f->read && isnan(d = f->read(f->ctx, i)))
			continue;
		if (!f->hist && !f->zeros && !u && !(d > 0 || d < 0))
			continue; /* before the label: most of a sparse family is zeros */
		if (f->label && !f->label(f->ctx, i, values, scratch, sizeof(scratch)))
			continue;
		if (!f->label && f->names)
			values[0] = f->names[i];
		if (!head) {
			kt_buf_addf(o, "# HELP %s ", f->name);
			add_escaped(o, f->help, false);
			kt_buf_addf(o, "\n# TYPE %s %s\n", f->name, type_names[f->type]);
			head = true;
		}
		if (f->hist) {
			add_histogram(o, f, values, &f->hist[i]);
			continue;
		}
		add_series(o, f, "", values, NULL);
		if (f->v)
			kt_buf_addf(o, "%lu\n", u);
		else
			kt_buf_addf(o, "%.15g\n", d);
	}
}

enum kt_rc kt_prom_render(const struct kt_prom *r, struct kt_buf *o)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		add_family(o, &r->f[i]);
	return !r->full && o->len && o->buf[o->len - 1] == '\n' ? KT_OK : KT_E_NOMEM;
}

int kt_prom_answer(const struct kt_prom *r, const char *method, struct kt_http_resp *resp)
{
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		resp->allow = "GET, HEAD";
		return kt_http_text(resp, 405, "method '%.32s' is not allowed; use GET", method);
	}
	kt_buf_reset(&resp->body);
	if (kt_prom_render(r, &resp->body))
		return -1;
	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return 0;
}
