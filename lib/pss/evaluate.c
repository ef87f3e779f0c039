/*
 * evaluate.c: kt_pss_evaluate(): decode the pod spec once into flat views,
 * decide which checks the level and version put in force, run them, and only
 * when something is violated run them again to word the messages.
 *
 * Upstream (k8s.io/pod-security-admission/policy) registers each check with
 * the policy versions at which its behaviour changes; a restricted check may
 * override a baseline one (restrictedVolumes replaces hostPathVolumes, and so
 * on).  active_checks() is that registry, flattened into one function.
 */
#include <stdlib.h>
#include <string.h>
#include "kt/json.h"
#include "internal.h"

#define KEYEQ(k, kl, lit) ((kl) == sizeof(lit) - 1 && !memcmp((k), (lit), sizeof(lit) - 1))
#define MEMBER_IS(m, lit) member_is(m, lit, sizeof(lit) - 1)

/* The member m has the key lit (n bytes); the key read once. */
static bool member_is(struct kt_jv m, const char *lit, size_t n)
{
	size_t kl = 0;
	const char *k = kt_jv_key(m, &kl);

	return k && kl == n && !memcmp(k, lit, n);
}

/* The checks in force at a level and (resolved) policy version. */
static uint32_t active_checks(enum kt_pss_level level, int v)
{
	uint32_t m;

	if (level != KT_PSS_BASELINE && level != KT_PSS_RESTRICTED)
		return 0;
	m = CK_BIT(CK_INVALID) | CK_BIT(CK_APPARMOR) | CK_BIT(CK_CAPS_BASELINE) |
	    CK_BIT(CK_HOST_NAMESPACES) | CK_BIT(CK_HOSTPATH_VOLUMES) | CK_BIT(CK_HOST_PORTS) |
	    CK_BIT(CK_PRIVILEGED) | CK_BIT(CK_PROC_MOUNT) | CK_BIT(CK_SELINUX) |
	    CK_BIT(CK_SECCOMP_BASELINE) | CK_BIT(CK_SYSCTLS) | CK_BIT(CK_WINDOWS_HOST_PROCESS);
	if (v >= 34)
		m |= CK_BIT(CK_HOST_PROBES);
	if (level == KT_PSS_BASELINE)
		return m;
	/* restricted: every baseline check, minus the overridden ones, plus these */
	m |= CK_BIT(CK_RESTRICTED_VOLUMES) | CK_BIT(CK_RUN_AS_NON_ROOT);
	m &= ~CK_BIT(CK_HOSTPATH_VOLUMES);
	if (v >= 8)
		m |= CK_BIT(CK_ALLOW_PRIV_ESC);
	if (v >= 19)
		m = (m | CK_BIT(CK_SECCOMP_RESTRICTED)) & ~CK_BIT(CK_SECCOMP_BASELINE);
	if (v >= 22)
		m = (m | CK_BIT(CK_CAPS_RESTRICTED)) & ~CK_BIT(CK_CAPS_BASELINE);
	if (v >= 23)
		m |= CK_BIT(CK_RUN_AS_USER);
	if (v >= 35)
		m = (m | CK_BIT(CK_PROC_MOUNT_RESTRICTED)) & ~CK_BIT(CK_PROC_MOUNT);
	return m;
}

/*
 * "latest" and any version newer than this build knows mean the newest
 * policy, as upstream clamps to its newest registered version.
 */
static int resolve_minor(int minor)
{
	if (minor < 0 || minor > KT_PSS_LATEST_MINOR)
		return KT_PSS_LATEST_MINOR;
	return minor;
}

/*
 * Typed field readers.  null (or absence) is "unset", as Go decodes it into
 * a nil pointer or a zero value; any other type mismatch is a malformed pod.
 * A string with an embedded NUL is malformed too, so strcmp() on it can never
 * be fooled.
 */
static signed char get_bool(struct pss_eval *e, const struct ctr_view *c, const char *field,
			    struct kt_jv v)
{
	if (kt_jv_true(v))
		return T_TRUE;
	if (kt_jv_is(v, KT_J_FALSE))
		return T_FALSE;
	if (!kt_jv_absent(v))
		kt_pss_invalid(e, c, field, "a boolean");
	return T_UNSET;
}

static const char *get_str(struct pss_eval *e, const struct ctr_view *c, const char *field,
			   struct kt_jv v, const char *dflt)
{
	if (kt_jv_is(v, KT_J_STRING)) {
		const char *s = kt_jv_str(v);

		if (strlen(s) == kt_jv_len(v))
			return s;
	} else if (kt_jv_absent(v)) {
		return dflt;
	}
	kt_pss_invalid(e, c, field, "a string");
	return dflt;
}

/* An object or a list (want says which, for the message), or NULL. */
static struct kt_jv get_kind(struct pss_eval *e, const struct ctr_view *c, const char *field,
			     struct kt_jv v, enum kt_jtype type, const char *want)
{
	static const struct kt_jv none;

	if (kt_jv_absent(v))
		return none;
	if (kt_jv_type(v) == type)
		return v;
	kt_pss_invalid(e, c, field, want);
	return none;
}

#define get_obj(e, c, field, v) get_kind(e, c, field, v, KT_J_OBJECT, "an object")
#define get_arr(e, c, field, v) get_kind(e, c, field, v, KT_J_ARRAY, "a list")

/* A list of strings (capabilities.add/drop): every element must be a string. */
static struct kt_jv get_str_arr(struct pss_eval *e, const struct ctr_view *c, const char *field,
				struct kt_jv v)
{
	size_t i;
	struct kt_jv x;

	v = get_arr(e, c, field, v);
	if (!kt_jv_ok(v))
		return v;
	for (i = 0, x = kt_jv_first_elem(v); kt_jv_ok(x); i++, x = kt_jv_next(x)) {
		if (!kt_jv_is(x, KT_J_STRING) || strlen(kt_jv_str(x)) != kt_jv_len(x)) {
			kt_pss_invalid(e, c, field, "a list of strings");
			return (struct kt_jv){ 0 };
		}
	}
	return v;
}

/* "type" of a seccompProfile / appArmorProfile object. */
static const char *profile_type(struct pss_eval *e, const struct ctr_view *c, const char *field,
				struct kt_jv o)
{
	struct kt_jv t = kt_jv_get(o, "type");

	return kt_jv_ok(t) ? get_str(e, c, field, t, "") : "";
}

/*
 * Read a securityContext (pod level when c is NULL).  Field names are
 * relative to the pod spec or the container, so a malformed pod names the
 * exact field.
 */
static void scan_sc(struct pss_eval *e, const struct ctr_view *c, struct kt_jv o,
		    struct sc_view *sc)
{
	struct kt_jv it;

	for (it = kt_jv_first_member(o); kt_jv_ok(it); it = kt_jv_next(it)) {
		size_t kl = 0;
		const char *k = kt_jv_key(it, &kl);
		struct kt_jv v = it, x;
		struct kt_jv j;

		switch (kl) {
		case 7:
			if (!c && KEYEQ(k, kl, "sysctls"))
				sc->sysctls = get_arr(e, c, "securityContext.sysctls", v);
			break;
		case 9:
			if (KEYEQ(k, kl, "runAsUser")) {
				if (kt_jv_is_int(v)) {
					sc->has_run_as_user = true;
					sc->run_as_user = kt_jv_ll(v);
				} else if (!kt_jv_is(v, KT_J_NULL)) {
					kt_pss_invalid(e, c, "securityContext.runAsUser",
						       "an integer");
				}
			} else if (c && KEYEQ(k, kl, "procMount")) {
				sc->proc_mount =
					get_str(e, c, "securityContext.procMount", v, NULL);
			}
			break;
		case 10:
			if (c && KEYEQ(k, kl, "privileged"))
				sc->privileged = get_bool(e, c, "securityContext.privileged", v);
			break;
		case 12:
			if (KEYEQ(k, kl, "runAsNonRoot")) {
				sc->run_as_non_root =
					get_bool(e, c, "securityContext.runAsNonRoot", v);
			} else if (c && KEYEQ(k, kl, "capabilities")) {
				x = get_obj(e, c, "securityContext.capabilities", v);
				if (!kt_jv_ok(x))
					break;
				sc->has_caps = true;
				for (j = kt_jv_first_member(x); kt_jv_ok(j); j = kt_jv_next(j)) {
					size_t ckl = 0;
					const char *ck = kt_jv_key(j, &ckl);

					if (KEYEQ(ck, ckl, "add"))
						sc->caps_add =
							get_str_arr(e, c,
								    "securityContext.capabilities.add",
								    j);
					else if (KEYEQ(ck, ckl, "drop"))
						sc->caps_drop =
							get_str_arr(e, c,
								    "securityContext.capabilities.drop",
								    j);
				}
			}
			break;
		case 14:
			if (KEYEQ(k, kl, "seccompProfile")) {
				x = get_obj(e, c, "securityContext.seccompProfile", v);
				if (kt_jv_ok(x)) {
					sc->has_seccomp = true;
					sc->seccomp_type =
						profile_type(e, c,
							     "securityContext.seccompProfile.type",
							     x);
				}
			} else if (KEYEQ(k, kl, "seLinuxOptions")) {
				x = get_obj(e, c, "securityContext.seLinuxOptions", v);
				if (!kt_jv_ok(x))
					break;
				sc->has_selinux = true;
				for (j = kt_jv_first_member(x); kt_jv_ok(j); j = kt_jv_next(j)) {
					size_t skl = 0;
					const char *sk = kt_jv_key(j, &skl);
					struct kt_jv sv = j;

					if (KEYEQ(sk, skl, "type"))
						sc->se_type =
							get_str(e, c,
								"securityContext.seLinuxOptions.type",
								sv, "");
					else if (KEYEQ(sk, skl, "user"))
						sc->se_user =
							get_str(e, c,
								"securityContext.seLinuxOptions.user",
								sv, "");
					else if (KEYEQ(sk, skl, "role"))
						sc->se_role =
							get_str(e, c,
								"securityContext.seLinuxOptions.role",
								sv, "");
				}
			} else if (KEYEQ(k, kl, "windowsOptions")) {
				x = get_obj(e, c, "securityContext.windowsOptions", v);
				if (!kt_jv_ok(x))
					break;
				for (j = kt_jv_first_member(x); kt_jv_ok(j); j = kt_jv_next(j))
					if (MEMBER_IS(j, "hostProcess"))
						sc->host_process = get_bool(
							e, c,
							"securityContext.windowsOptions.hostProcess",
							j);
			}
			break;
		case 15:
			if (KEYEQ(k, kl, "appArmorProfile")) {
				x = get_obj(e, c, "securityContext.appArmorProfile", v);
				if (kt_jv_ok(x)) {
					sc->has_apparmor = true;
					sc->apparmor_type =
						profile_type(e, c,
							     "securityContext.appArmorProfile.type",
							     x);
				}
			}
			break;
		case 24:
			if (c && KEYEQ(k, kl, "allowPrivilegeEscalation"))
				sc->allow_priv_esc =
					get_bool(e, c, "securityContext.allowPrivilegeEscalation",
						 v);
			break;
		}
	}
}

static void sc_init(struct sc_view *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->privileged = sc->allow_priv_esc = sc->run_as_non_root = sc->host_process = T_UNSET;
	sc->se_type = sc->se_user = sc->se_role = sc->seccomp_type = sc->apparmor_type = "";
}

static void scan_container(struct pss_eval *e, struct kt_jv o, struct ctr_view *c)
{
	struct kt_jv it;

	for (it = kt_jv_first_member(o); kt_jv_ok(it); it = kt_jv_next(it)) {
		size_t kl = 0;
		const char *k = kt_jv_key(it, &kl);
		struct kt_jv v = it, x;
		struct kt_jv j;

		switch (kl) {
		case 4:
			if (KEYEQ(k, kl, "name"))
				c->name = get_str(e, c, "name", v, "");
			break;
		case 5:
			if (KEYEQ(k, kl, "ports"))
				c->ports = get_arr(e, c, "ports", v);
			break;
		case 9:
			if (!KEYEQ(k, kl, "lifecycle"))
				break;
			x = get_obj(e, c, "lifecycle", v);
			if (!kt_jv_ok(x))
				break;
			for (j = kt_jv_first_member(x); kt_jv_ok(j); j = kt_jv_next(j)) {
				size_t hkl = 0;
				const char *hk = kt_jv_key(j, &hkl);

				if (KEYEQ(hk, hkl, "postStart"))
					c->handlers[0] = get_obj(e, c, "lifecycle.postStart", j);
				else if (KEYEQ(hk, hkl, "preStop"))
					c->handlers[1] = get_obj(e, c, "lifecycle.preStop", j);
			}
			break;
		case 12:
			if (KEYEQ(k, kl, "startupProbe"))
				c->probes[2] = get_obj(e, c, "startupProbe", v);
			break;
		case 13:
			if (KEYEQ(k, kl, "livenessProbe"))
				c->probes[0] = get_obj(e, c, "livenessProbe", v);
			break;
		case 14:
			if (KEYEQ(k, kl, "readinessProbe"))
				c->probes[1] = get_obj(e, c, "readinessProbe", v);
			break;
		case 15:
			if (KEYEQ(k, kl, "securityContext")) {
				x = get_obj(e, c, "securityContext", v);
				if (kt_jv_ok(x))
					scan_sc(e, c, x, &c->sc);
			}
			break;
		}
	}
}

static void scan_spec(struct pss_eval *e, struct kt_jv spec)
{
	struct pod_view *p = &e->pod;
	struct kt_jv it;

	for (it = kt_jv_first_member(spec); kt_jv_ok(it); it = kt_jv_next(it)) {
		size_t kl = 0;
		const char *k = kt_jv_key(it, &kl);
		struct kt_jv v = it, x;
		struct kt_jv j;

		switch (kl) {
		case 2:
			if (!KEYEQ(k, kl, "os"))
				break;
			x = get_obj(e, NULL, "spec.os", v);
			if (!kt_jv_ok(x))
				break;
			for (j = kt_jv_first_member(x); kt_jv_ok(j); j = kt_jv_next(j))
				if (MEMBER_IS(j, "name"))
					p->windows =
						!strcmp(get_str(e, NULL, "spec.os.name", j, ""),
							"windows");
			break;
		case 7:
			if (KEYEQ(k, kl, "hostPID"))
				p->host_pid = get_bool(e, NULL, "spec.hostPID", v) == T_TRUE;
			else if (KEYEQ(k, kl, "hostIPC"))
				p->host_ipc = get_bool(e, NULL, "spec.hostIPC", v) == T_TRUE;
			else if (KEYEQ(k, kl, "volumes"))
				p->volumes = get_arr(e, NULL, "spec.volumes", v);
			break;
		case 9:
			if (KEYEQ(k, kl, "hostUsers"))
				p->host_users = get_bool(e, NULL, "spec.hostUsers", v);
			break;
		case 10:
			if (KEYEQ(k, kl, "containers"))
				p->lists[L_MAIN] = get_arr(e, NULL, "spec.containers", v);
			break;
		case 11:
			if (KEYEQ(k, kl, "hostNetwork"))
				p->host_network =
					get_bool(e, NULL, "spec.hostNetwork", v) == T_TRUE;
			break;
		case 14:
			if (KEYEQ(k, kl, "initContainers"))
				p->lists[L_INIT] = get_arr(e, NULL, "spec.initContainers", v);
			break;
		case 15:
			if (KEYEQ(k, kl, "securityContext")) {
				x = get_obj(e, NULL, "spec.securityContext", v);
				if (kt_jv_ok(x))
					scan_sc(e, NULL, x, &p->sc);
			}
			break;
		case 19:
			if (KEYEQ(k, kl, "ephemeralContainers"))
				p->lists[L_EPHEMERAL] =
					get_arr(e, NULL, "spec.ephemeralContainers", v);
			break;
		}
	}
}

/* One full pass over the pod: every check in e->active. */
static void run(struct pss_eval *e, struct kt_jv meta, struct kt_jv spec)
{
	struct pod_view *p = &e->pod;
	struct ctr_view c;
	struct kt_jv x;
	size_t i;
	int l;

	memset(p, 0, sizeof(*p));
	p->host_users = T_UNSET;
	sc_init(&p->sc);
	if (!kt_jv_absent(meta)) {
		if (!kt_jv_is(meta, KT_J_OBJECT))
			kt_pss_invalid(e, NULL, "metadata", "an object");
		else
			p->annotations = get_obj(e, NULL, "metadata.annotations",
						 kt_jv_get(meta, "annotations"));
	}
	if (!kt_jv_is(spec, KT_J_OBJECT)) {
		kt_pss_invalid(e, NULL, "spec", "an object");
		return;
	}
	scan_spec(e, spec);
	kt_pss_check_pod(e);
	for (l = 0; l < L_COUNT; l++) {
		for (i = 0, x = kt_jv_first_elem(p->lists[l]); kt_jv_ok(x);
		     i++, x = kt_jv_next(x)) {
			memset(&c, 0, sizeof(c));
			c.name = "";
			c.list = l;
			c.index = i;
			sc_init(&c.sc);
			if (kt_jv_is(x, KT_J_OBJECT))
				scan_container(e, x, &c);
			else if (!kt_jv_is(x, KT_J_NULL)) {
				kt_pss_invalid(e, &c, "", "an object");
				continue;
			}
			kt_pss_check_container(e, &c);
		}
	}
}

static void coll_release(struct coll *c)
{
	kt_strvec_release(&c->names);
	kt_strvec_release(&c->names2);
	kt_strvec_release(&c->values);
	kt_strvec_release(&c->values2);
}

void kt_pss_result_release(struct kt_pss_result *res)
{
	size_t i;

	if (!res)
		return;
	for (i = 0; i < res->n; i++) {
		free(res->v[i].reason);
		free(res->v[i].detail);
	}
	free(res->v);
	res->v = NULL;
	res->n = 0;
	res->allowed = true;
}

/* Second pass: word every violated check, in upstream order. */
static enum kt_rc explain(struct pss_eval *e, struct kt_jv meta, struct kt_jv spec,
			  struct kt_pss_result *res)
{
	struct coll c[CK_COUNT];
	enum kt_rc rc = KT_OK;
	int ck, n = 0;

	memset(c, 0, sizeof(c));
	e->bad = 0;
	e->collect = true;
	e->c = c;
	run(e, meta, spec);
	for (ck = 0; ck < CK_COUNT; ck++)
		n += !!(e->bad & CK_BIT(ck));
	res->v = calloc((size_t)n, sizeof(*res->v));
	if (!res->v || e->nomem) {
		rc = KT_E_NOMEM;
		goto out;
	}
	for (ck = 0; ck < CK_COUNT; ck++) {
		struct kt_pss_violation *v = &res->v[res->n];

		if (!(e->bad & CK_BIT(ck)))
			continue;
		v->check = kt_pss_check_id(ck);
		if (!kt_pss_check_format(e, ck, &v->reason, &v->detail)) {
			free(v->reason);
			free(v->detail);
			rc = KT_E_NOMEM;
			goto out;
		}
		res->n++;
	}
out:
	for (ck = 0; ck < CK_COUNT; ck++)
		coll_release(&c[ck]);
	if (rc)
		kt_pss_result_release(res);
	res->allowed = false;
	return rc;
}

enum kt_rc kt_pss_evaluate_view(const struct kt_pss_policy *pol, struct kt_jv pod_metadata,
				struct kt_jv pod_spec, struct kt_pss_result *res)
{
	struct pss_eval e;

	res->allowed = true;
	res->v = NULL;
	res->n = 0;
	memset(&e, 0, sizeof(e));
	e.minor = resolve_minor(pol->minor);
	e.active = active_checks(pol->level, e.minor);
	if (!e.active)
		return KT_OK;
	run(&e, pod_metadata, pod_spec);
	if (!(e.bad & e.active))
		return KT_OK;
	return explain(&e, pod_metadata, pod_spec, res);
}

/*
 * A tree the view refuses (a NUL character in a string or a key, deeper or
 * larger than any decision reads): no pod the API server would run, so an
 * invalid pod spec, whatever the level.
 */
static enum kt_rc unreadable(struct kt_pss_result *res, const struct kt_err *err)
{
	const char *why = strstr(err->msg, "\\u0000") ? "a string contains a NUL character"
			  : strstr(err->msg, ": ")    ? strstr(err->msg, ": ") + 2
						      : err->msg;

	if (!(res->v = calloc(1, sizeof(*res->v))) ||
	    !(res->v->reason = strdup("invalid pod spec")) || !(res->v->detail = strdup(why))) {
		kt_pss_result_release(res);
		return KT_E_NOMEM;
	}
	res->v->check = kt_pss_check_id(CK_INVALID);
	res->n = 1;
	res->allowed = false;
	return KT_OK;
}

enum kt_rc kt_pss_evaluate(const struct kt_pss_policy *pol, json_t *pod_metadata, json_t *pod_spec,
			   struct kt_pss_result *res)
{
	struct kt_buf text[2] = { KT_BUF_INIT, KT_BUF_INIT };
	struct kt_jview view[2] = { KT_JVIEW_INIT, KT_JVIEW_INIT };
	struct kt_jv meta = { 0 }, spec = { 0 }; /* set by kt_json_view() when it succeeds */
	struct kt_err err;
	enum kt_rc rc;

	res->allowed = true;
	res->v = NULL;
	res->n = 0;
	rc = kt_json_view(pod_metadata, &text[0], &view[0], &meta, &err);
	if (!rc)
		rc = kt_json_view(pod_spec, &text[1], &view[1], &spec, &err);
	if (!rc)
		rc = kt_pss_evaluate_view(pol, meta, spec, res);
	else if (rc == KT_E_PARSE)
		rc = unreadable(res, &err);
	for (int i = 0; i < 2; i++) {
		kt_jview_release(&view[i]);
		kt_buf_release(&text[i]);
	}
	return rc;
}

char *kt_pss_result_message(const struct kt_pss_result *res)
{
	struct kt_buf b = KT_BUF_INIT;
	size_t i;

	for (i = 0; i < res->n; i++) {
		const struct kt_pss_violation *v = &res->v[i];

		if (kt_buf_addf(&b, "%s%s", i ? ", " : "", v->reason) ||
		    (v->detail && *v->detail && kt_buf_addf(&b, " (%s)", v->detail))) {
			kt_buf_release(&b);
			return NULL;
		}
	}
	return kt_buf_detach(&b, NULL);
}
