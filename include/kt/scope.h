/*
 * scope.h: tenant-scoped lists of cluster-scoped objects (what capsule-proxy
 * does), the pure part of `kubetenant proxy -f`.
 *
 * A member may not list namespaces, nodes or classes: RBAC cannot grant
 * "the ones of my tenants" on a cluster-scoped list.  The proxy lists them
 * with its own identity and keeps only what the member's tenants own or
 * may use (docs/proxy-scope.md).  Everything here works on the API
 * server's answer, without sockets, so it is unit tested and fuzzed
 * (test/fuzz/fuzz_scope.c); server/proxy_scope.c does the I/O.
 */
#ifndef KT_SCOPE_H
#define KT_SCOPE_H

#include <stdbool.h>
#include <stddef.h>
#include "kt/buf.h"
#include "kt/config.h"
#include "kt/err.h"

#define KT_SCOPE_MAX_LIST (64u << 20) /* bytes of one list answer */
#define KT_SCOPE_MAX_EVENT (8u << 20) /* bytes of one watch event */

enum kt_scope_res {
	KT_SCOPE_NONE = 0, /* any other request: forwarded as the member */
	KT_SCOPE_NAMESPACES,
	KT_SCOPE_NODES,
	KT_SCOPE_INGRESSCLASSES,
	KT_SCOPE_PRIORITYCLASSES,
	KT_SCOPE_RUNTIMECLASSES,
	KT_SCOPE_STORAGECLASSES,
};

/*
 * Which scoped list or watch a request is: a GET of exactly one of the six
 * collection paths, with *watch set from its watch parameter.  A query that
 * could be read two ways (watch given twice or with a value that is not a
 * boolean, a percent-encoded name) is KT_SCOPE_NONE: forwarded as the
 * member, so RBAC decides.
 */
enum kt_scope_res kt_scope_match(const char *method, const char *uri, bool *watch);

/* What one member may see of one resource; built once per request. */
struct kt_scope;

/*
 * The member's view: groups are the impersonated group names (with the
 * proxy's --groups-prefix); a group names a tenant's operatorEdGroup or a
 * readOnlyGroup once cfg->global.groupPrefix is taken off.  Nothing is
 * borrowed from cfg.  No tenant: an empty view, not an error.
 */
enum kt_rc kt_scope_new(const struct kt_config *cfg, enum kt_scope_res res, char *const *groups,
			size_t n_groups, struct kt_scope **out);
void kt_scope_free(struct kt_scope *s);
/* How many tenants the member belongs to (for the audit log and the tests). */
size_t kt_scope_tenants(const struct kt_scope *s);

/*
 * A whole list answer (a *List with items, a meta.k8s.io Table whose rows
 * carry their object's metadata, or a Status, passed as is) into out, less
 * what the member may not see and less metadata.remainingItemCount (a count
 * of the others).  Anything else is KT_E_PARSE: the caller answers 502
 * rather than relay what it cannot filter.
 */
enum kt_rc kt_scope_filter_list(const struct kt_scope *s, const char *in, size_t len,
				struct kt_buf *out);

/*
 * A watch stream, filtered event by event as bytes arrive: a sequence of
 * JSON objects {"type", "object"} (the API server puts a newline after
 * each; none is needed).  BOOKMARK and ERROR pass; ADDED, MODIFIED and
 * DELETED pass when their object (or, for a Table, a row of it) is one the
 * member may see; others are dropped.  A Table event dropped for having no
 * row left hands its columnDefinitions to the next one that lacks them.
 */
struct kt_scope_watch {
	struct kt_buf part; /* the event being received */
	size_t scanned;     /* bytes of part already scanned */
	int depth;
	bool in_str, esc;
	void *cols; /* json_t *: columnDefinitions not yet delivered */
};
void kt_scope_watch_init(struct kt_scope_watch *w);
void kt_scope_watch_release(struct kt_scope_watch *w);
/* Append what passes to out; KT_E_PARSE or KT_E_LIMIT end the stream. */
enum kt_rc kt_scope_watch_feed(const struct kt_scope *s, struct kt_scope_watch *w, const char *data,
			       size_t len, struct kt_buf *out);

/*
 * The Accept header to send upstream: the client's application/json media
 * ranges (parameters kept: as=Table;v=v1;g=meta.k8s.io), others (protobuf,
 * YAML) left out, "application/json" when none is left.
 */
enum kt_rc kt_scope_accept(const char *client, struct kt_buf *out);

#endif
