/*
 * clusterinfo.c: what a cluster publishes for its members to log in, read
 * from kube-public/kubetenant-info without credentials.
 *
 * The ConfigMap is public by design (no secret in it), but its content
 * decides where the member sends their login: every URL must be https://,
 * names must be plain text, and the CA must be PEM certificates only.
 */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "kt/oidc.h"
#include "internal.h"

#define KT_CLUSTER_INFO_PATH "/api/v1/namespaces/kube-public/configmaps/kubetenant-info"

void kt_cluster_info_release(struct kt_cluster_info *ci)
{
	free(ci->issuer);
	free(ci->client_id);
	free(ci->proxy_url);
	free(ci->ca_pem);
	free(ci->cluster);
	memset(ci, 0, sizeof(*ci));
}

/* A data value: printable ASCII (newlines too when `lines`), bounded */
static char *value(json_t *data, const char *key, size_t max, bool lines, bool *bad)
{
	json_t *v = json_object_get(data, key);
	const char *s = json_string_value(v);
	size_t i, n = json_string_length(v);

	if (!v)
		return NULL;
	if (!s || !n || n > max) {
		*bad = true;
		return NULL;
	}
	for (i = 0; i < n; i++)
		if ((s[i] < 0x20 || s[i] > 0x7e) && !(lines && (s[i] == '\n' || s[i] == '\r'))) {
			*bad = true;
			return NULL;
		}
	return strdup(s);
}

enum kt_rc kt_cluster_info_parse(const char *json, size_t len, struct kt_cluster_info *ci,
				 struct kt_err *err)
{
	json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *data = json_object_get(doc, "data");
	enum kt_rc rc = KT_OK;
	bool bad = false;

	memset(ci, 0, sizeof(*ci));
	if (!json_is_object(data)) {
		json_decref(doc);
		return kt_err_set(err, KT_E_PARSE, "kubetenant-info: not a ConfigMap with data");
	}
	ci->issuer = value(data, "issuerURL", 2048, false, &bad);
	ci->client_id = value(data, "clientID", 256, false, &bad);
	ci->proxy_url = value(data, "proxyURL", 2048, false, &bad);
	ci->cluster = value(data, "cluster", 253, false, &bad);
	ci->ca_pem = value(data, "ca.crt", 64 << 10, true, &bad);
	if (bad || !ci->issuer || !ci->client_id || !ci->proxy_url || !ci->cluster)
		rc = kt_err_set(err, KT_E_INVALID,
				"kubetenant-info: data.issuerURL, clientID, "
				"proxyURL and cluster must be set, as plain text");
	else if (strncmp(ci->issuer, "https://", 8) || strncmp(ci->proxy_url, "https://", 8))
		rc = kt_err_set(err, KT_E_INVALID,
				"kubetenant-info: issuerURL and proxyURL must "
				"be https:// URLs");
	else if (ci->ca_pem && strncmp(ci->ca_pem, "-----BEGIN CERTIFICATE-----", 27))
		rc = kt_err_set(err, KT_E_INVALID,
				"kubetenant-info: ca.crt is not a PEM certificate");
	if (rc)
		kt_cluster_info_release(ci);
	json_decref(doc);
	return rc;
}

enum kt_rc kt_cluster_info_fetch(const char *api, const char *ca_file, struct kt_cluster_info *ci,
				 struct kt_err *err)
{
	struct kt_buf url = KT_BUF_INIT, b = KT_BUF_INIT;
	size_t n = strlen(api);
	enum kt_rc rc;
	long status = 0;

	memset(ci, 0, sizeof(*ci));
	if (strncmp(api, "https://", 8))
		return kt_err_set(err, KT_E_INVALID, "'%s' is not an https:// URL", api);
	if (n && api[n - 1] == '/')
		n--;
	if (kt_buf_add(&url, api, n) || kt_buf_adds(&url, KT_CLUSTER_INFO_PATH))
		return kt_err_set(err, KT_E_NOMEM, "out of memory");
	rc = kt_oidc_fetch(url.buf, ca_file, NULL, KT_LOGIN_MAX_ANSWER, &b, &status, err);
	if (!rc && status != 200)
		rc = kt_err_set(err, KT_E_IO,
				"'%s' answered HTTP status %ld: does the cluster run "
				"kubetenant with global.oidc, and allow anonymous reads of it?",
				url.buf, status);
	if (!rc)
		rc = kt_cluster_info_parse(b.buf, b.len, ci, err);
	kt_buf_release(&url);
	kt_buf_release(&b);
	return rc;
}
