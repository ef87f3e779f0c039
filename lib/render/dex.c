/*
 * dex.c: `render --dex`, the part of Dex's own config.yaml that kubetenant
 * depends on: the two static clients the proxy accepts as audiences.
 *
 * Both are public clients (no secret: a CLI or a browser page cannot keep
 * one) and use the authorization code flow with PKCE.  kubectl's client
 * (`kubetenant login`) listens on http://127.0.0.1 or http://localhost at
 * a port chosen at random, and also uses the device flow.  Dex accepts any
 * loopback port, and its device callback, only for a public client that
 * lists NO redirectURIs: one listed URI turns Dex to exact matching, and
 * the random port and the device flow both fail.  So kubectl's client
 * lists none, on purpose.  The dashboard comes back to exactly
 * https://<proxyHostname>/ui/.  The scopes both request (openid, email,
 * groups, profile, offline_access) are Dex's defaults for every client,
 * so there is nothing to list: docs/identity.md has them, and what other
 * providers must be told.
 */
#include <stdio.h>
#include "internal.h"

enum kt_rc kt_render_dex(const struct kt_config *cfg, json_t **out, struct kt_err *err)
{
	const struct kt_oidc *o = &cfg->global.oidc;
	json_t *clients, *obj;
	char ui[300];

	if (!o->issuer_url)
		return kt_err_set(err, KT_E_INVALID,
				  "the tenants file has no global.oidc.issuerURL: "
				  "there is no proxy to write Dex clients for");
	clients = json_pack("[{s:s, s:s, s:b}]", "id", o->client_id ? o->client_id : "kubernetes",
			    "name", "kubectl (kubetenant login)", "public", 1);
	/* the dashboard lives behind the proxy: no public name, no dashboard client */
	if (clients && o->hostname) {
		snprintf(ui, sizeof(ui), "https://%s/ui/", o->hostname);
		if (json_array_append_new(clients,
					  json_pack("{s:s, s:s, s:b, s:[s]}", "id",
						    o->dashboard_client_id ? o->dashboard_client_id
									   : "kubetenant-dashboard",
						    "name", "kubetenant dashboard", "public", 1,
						    "redirectURIs", ui))) {
			json_decref(clients);
			clients = NULL;
		}
	}
	obj = clients ? json_pack("{s:o}", "staticClients", clients) : NULL;
	if (!obj)
		return kt_err_set(err, KT_E_NOMEM, "out of memory building the Dex clients");
	*out = obj;
	return KT_OK;
}
