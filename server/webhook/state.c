/*
 * state.c: the webhook's shared state and the tenants-file hot reload.
 *
 * A reload never makes things worse: the new file must read and validate
 * completely before it replaces the one in use, and a file that does not
 * is logged with every diagnostic, counted, and otherwise ignored.  An
 * unchanged file (same bytes) is not reloaded, so a kubelet re-sync or a
 * SIGHUP does not churn the generation.
 */
#include <stdio.h>
#include <string.h>
#include "webhook.h"

void kt_serve_init(struct kt_serve *s, const char *tenants_path, const char *version)
{
	memset(s, 0, sizeof(*s));
	kt_conf_slot_init(&s->conf);
	kt_metrics_init(s);
	atomic_init(&s->draining, false);
	s->tenants_path = tenants_path;
	s->version = version;
}

void kt_serve_release(struct kt_serve *s)
{
	kt_conf_slot_release(&s->conf);
	kt_file_sig_release(&s->tenants_sig);
}

static void installed(struct kt_serve *s, struct kt_config *cfg, const char *msg)
{
	unsigned long n = cfg->n_tenants, gen = kt_conf_slot_set(&s->conf, cfg);
	struct kt_log_line *line;

	if (!gen)
		return;
	atomic_store(&s->metrics.config_generation, gen);
	atomic_store(&s->metrics.config_tenants, n);
	if (KT_LOG_INFO < kt_log_min)
		return;
	line = kt_log_begin(KT_LOG_INFO, msg);
	kt_log_str(line, "file", s->tenants_path);
	kt_log_num(line, "generation", (long long)gen);
	kt_log_num(line, "tenants", (long long)n);
	kt_log_end(line);
}

/*
 * The file is not read again here: it may have changed since cfg was read,
 * and hashing the new bytes would mark them as loaded.  The hash is the one
 * of the text cfg came from, and the file's signature stays unknown, so the
 * first poll reads the file and reloads it if it differs.
 */
void kt_serve_set_config(struct kt_serve *s, struct kt_config *cfg)
{
	s->tenants_hash = cfg->hash;
	installed(s, cfg, "tenants file loaded");
}

static void rejected(struct kt_serve *s, const struct kt_err *err, const struct kt_diags *d)
{
	struct kt_log_line *line, *list;
	size_t i;

	atomic_fetch_add(&s->metrics.config_reload_failures, 1);
	line = kt_log_begin(KT_LOG_ERROR, "tenants file rejected; the previous one keeps serving");
	kt_log_str(line, "file", s->tenants_path);
	if (err && err->msg[0])
		kt_log_str(line, "error", err->msg);
	if (d && d->n) {
		list = kt_log_list(line, "diagnostics");
		for (i = 0; list && i < d->n && i < 100; i++) {
			struct kt_buf text = KT_BUF_INIT;

			if (!kt_buf_addf(&text, "%d:%d: %s", d->v[i].line, d->v[i].col,
					 d->v[i].msg ? d->v[i].msg : ""))
				kt_log_add(list, text.buf, 1024);
			kt_buf_release(&text);
		}
	}
	kt_log_end(line);
}

enum kt_rc kt_serve_reload(struct kt_serve *s, bool force)
{
	struct kt_buf text = KT_BUF_INIT;
	struct kt_diags diags = { 0 };
	struct kt_err err = { 0 };
	struct kt_config *cfg = NULL;
	enum kt_file_change c;
	int prev_err = s->tenants_sig.err;
	uint64_t h;
	enum kt_rc rc;

	c = kt_file_sig_update(s->tenants_path, &s->tenants_sig);
	if (c == KT_FILE_GONE) {
		/* a missing file is reported when it goes missing, not at every poll */
		if (force || s->tenants_sig.err != prev_err) {
			kt_err_set(&err, KT_E_IO, "cannot read '%s': %s", s->tenants_path,
				   strerror(s->tenants_sig.err));
			rejected(s, &err, NULL);
		}
		return KT_E_IO;
	}
	if (c == KT_FILE_SAME && !force)
		return KT_OK;
	rc = kt_buf_read_file(&text, s->tenants_path, KT_CONFIG_MAX_BYTES, &err);
	if (rc) {
		rejected(s, &err, NULL);
		goto out;
	}
	h = kt_hash_bytes(text.buf, text.len, 0);
	if (h == s->tenants_hash) {
		kt_log(KT_LOG_DEBUG, "tenants file unchanged", "file", s->tenants_path, NULL);
		goto out;
	}
	rc = kt_config_parse(text.buf, text.len, s->tenants_path, &cfg, &diags, &err);
	if (rc) {
		rejected(s, &err, &diags);
		goto out;
	}
	s->tenants_hash = h;
	atomic_fetch_add(&s->metrics.config_reloads, 1);
	installed(s, cfg, "tenants file reloaded");
out:
	kt_diags_release(&diags);
	kt_buf_release(&text);
	return rc;
}

void kt_serve_on_response(void *ctx, const struct kt_http_req *req, int status)
{
	struct kt_serve *s = ctx;

	(void)req;
	kt_metrics_http(&s->metrics, status);
}

void kt_serve_on_log(void *ctx, const char *msg)
{
	(void)ctx;
	kt_log(KT_LOG_DEBUG, "http", "detail", msg, NULL);
}
