/*
 * checks.c: every Pod Security Standards check, with its version history
 * and its message, following k8s.io/pod-security-admission/policy.
 *
 * Each check appears in up to three places below, always in the same order:
 * the pod-level part (pss_check_pod), the per-container part
 * (pss_check_container, which visits initContainers, containers, then
 * ephemeralContainers, as upstream does) and the wording (pss_check_format).
 * Reasons and details use upstream's exact phrasing, so a user who has seen
 * the API server's "violates PodSecurity" message recognises ours.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

/* Check-specific collection flags. */
#define F_HOST_NETWORK 1u
#define F_HOST_PID 2u
#define F_HOST_IPC 4u
#define F_SE_USER 1u
#define F_SE_ROLE 2u

static const char *const check_ids[CK_COUNT] = {
	[CK_INVALID] = "invalidPodSpec",
	[CK_APPARMOR] = "appArmorProfile",
	[CK_CAPS_BASELINE] = "capabilities_baseline",
	[CK_HOST_NAMESPACES] = "hostNamespaces",
	[CK_HOSTPATH_VOLUMES] = "hostPathVolumes",
	[CK_HOST_PORTS] = "hostPorts",
	[CK_HOST_PROBES] = "hostProbesAndHostLifecycle",
	[CK_PRIVILEGED] = "privileged",
	[CK_PROC_MOUNT] = "procMount",
	[CK_SELINUX] = "seLinuxOptions",
	[CK_SECCOMP_BASELINE] = "seccompProfile_baseline",
	[CK_SYSCTLS] = "sysctls",
	[CK_WINDOWS_HOST_PROCESS] = "windowsHostProcess",
	[CK_ALLOW_PRIV_ESC] = "allowPrivilegeEscalation",
	[CK_CAPS_RESTRICTED] = "capabilities_restricted",
	[CK_PROC_MOUNT_RESTRICTED] = "procMount_restricted",
	[CK_RESTRICTED_VOLUMES] = "restrictedVolumes",
	[CK_RUN_AS_NON_ROOT] = "runAsNonRoot",
	[CK_RUN_AS_USER] = "runAsUser",
	[CK_SECCOMP_RESTRICTED] = "seccompProfile_restricted",
};

const char *kt_pss_check_id(enum pss_check ck)
{
	return ck < CK_COUNT ? check_ids[ck] : "unknown";
}

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* Mark ck violated; in the slow pass remember a name (container, volume). */
static void hit(struct pss_eval *e, enum pss_check ck, const char *name)
{
	e->bad |= CK_BIT(ck);
	if (e->collect && name)
		kt_strvec_add(e, &e->c[ck].names, name);
}

static struct coll *coll_of(struct pss_eval *e, enum pss_check ck)
{
	return e->collect ? &e->c[ck] : NULL;
}

/* ---- tables, with the policy version each entry appeared in ---- */

static const char *const caps_baseline_allowed[] = {
	"AUDIT_WRITE",      "CHOWN",   "DAC_OVERRIDE", "FOWNER",  "FSETID", "KILL",       "MKNOD",
	"NET_BIND_SERVICE", "SETFCAP", "SETGID",       "SETPCAP", "SETUID", "SYS_CHROOT", NULL,
};

static const struct {
	const char *name;
	int since;
} safe_sysctls[] = {
	{ "kernel.shm_rmid_forced", 0 },
	{ "net.ipv4.ip_local_port_range", 0 },
	{ "net.ipv4.tcp_syncookies", 0 },
	{ "net.ipv4.ping_group_range", 0 },
	{ "net.ipv4.ip_unprivileged_port_start", 0 },
	{ "net.ipv4.ip_local_reserved_ports", 27 },
	{ "net.ipv4.tcp_keepalive_time", 29 },
	{ "net.ipv4.tcp_fin_timeout", 29 },
	{ "net.ipv4.tcp_keepalive_intvl", 29 },
	{ "net.ipv4.tcp_keepalive_probes", 29 },
	{ "net.ipv4.tcp_rmem", 32 },
	{ "net.ipv4.tcp_wmem", 32 },
	{ "net.ipv4.tcp_slow_start_after_idle", 37 },
	{ "net.ipv4.tcp_notsent_lowat", 37 },
};

static bool sysctl_safe(const char *name, int v)
{
	size_t i;

	for (i = 0; i < sizeof(safe_sysctls) / sizeof(safe_sysctls[0]); i++)
		if (v >= safe_sysctls[i].since && !strcmp(name, safe_sysctls[i].name))
			return true;
	return false;
}

static bool selinux_type_ok(const char *t, int v)
{
	static const char *const ok[] = { "", "container_t", "container_init_t", "container_kvm_t",
					  NULL };

	return in_list(t, ok) || (v >= 31 && !strcmp(t, "container_engine_t"));
}

/* Volume sources the restricted level allows; image since Kubernetes 1.33, at every version. */
static const char *const volumes_allowed[] = {
	"configMap", "csi",   "downwardAPI",           "emptyDir",
	"ephemeral", "image", "persistentVolumeClaim", "projected",
	"secret",    NULL,
};

/* The rest of VolumeSource, in upstream's order (which names the type). */
static const char *const volumes_restricted[] = {
	"hostPath",
	"gcePersistentDisk",
	"awsElasticBlockStore",
	"gitRepo",
	"nfs",
	"iscsi",
	"glusterfs",
	"rbd",
	"flexVolume",
	"cinder",
	"cephfs",
	"flocker",
	"fc",
	"azureFile",
	"vsphereVolume",
	"quobyte",
	"azureDisk",
	"photonPersistentDisk",
	"portworxVolume",
	"scaleIO",
	"storageos",
	NULL,
};

static bool seccomp_type_ok(const char *t)
{
	return !strcmp(t, "RuntimeDefault") || !strcmp(t, "Localhost");
}

static bool seccomp_annotation_ok(const char *v)
{
	return !strcmp(v, "runtime/default") || !strcmp(v, "docker/default") ||
	       has_prefix(v, "localhost/");
}

static bool apparmor_type_ok(const char *t)
{
	return !strcmp(t, "RuntimeDefault") || !strcmp(t, "Localhost");
}

static bool apparmor_annotation_ok(const char *v)
{
	return !*v || !strcmp(v, "runtime/default") || has_prefix(v, "localhost/");
}

#define APPARMOR_PREFIX "container.apparmor.security.beta.kubernetes.io/"
#define SECCOMP_POD_ANNOTATION "seccomp.security.alpha.kubernetes.io/pod"
#define SECCOMP_CTR_PREFIX "container.seccomp.security.alpha.kubernetes.io/"

/*
 * Go's %q: the annotation values appear as key="value" in the messages.
 * Valid UTF-8 above ASCII is kept (jansson strings are always valid UTF-8);
 * control characters are escaped, as strconv.Quote does.
 */
static void add_go_quoted(struct pss_eval *e, struct strvec *s, const char *key, const char *val)
{
	struct kt_buf b = KT_BUF_INIT;
	const unsigned char *p;
	bool fail = kt_buf_addf(&b, "%s=\"", key) != KT_OK;

	for (p = (const unsigned char *)val; *p && !fail; p++) {
		static const char esc[] = "\a\b\f\n\r\t\v";
		static const char name[] = "abfnrtv";
		const char *x = *p ? strchr(esc, *p) : NULL;

		if (*p == '"' || *p == '\\')
			fail = kt_buf_addch(&b, '\\') || kt_buf_addch(&b, (char)*p);
		else if (x)
			fail = kt_buf_addch(&b, '\\') || kt_buf_addch(&b, name[x - esc]);
		else if (*p < 0x20 || *p == 0x7f)
			fail = kt_buf_addf(&b, "\\x%02x", *p) != KT_OK;
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			fail = kt_buf_addf(&b, "\\u%04x", p[1]) != KT_OK, p++;
		else
			fail = kt_buf_addch(&b, (char)*p) != KT_OK;
	}
	if (!fail && !kt_buf_addch(&b, '"'))
		kt_strvec_addn(e, s, b.buf, b.len);
	else
		e->nomem = true;
	kt_buf_release(&b);
}

/* ---- pod-level parts ---- */

static void check_volumes(struct pss_eval *e)
{
	struct kt_jv vol;
	size_t i;

	for (i = 0, vol = kt_jv_first_elem(e->pod.volumes); kt_jv_ok(vol);
	     i++, vol = kt_jv_next(vol)) {
		const char *name = "", *restricted = NULL;
		bool host_path = false;
		int rank = -1;
		struct kt_jv v;

		if (kt_jv_is(vol, KT_J_NULL))
			continue; /* decodes to a volume without source: emptyDir */
		if (!kt_jv_is(vol, KT_J_OBJECT)) {
			kt_pss_invalid(e, NULL, "spec.volumes[]", "objects");
			continue;
		}
		for (v = kt_jv_first(vol); kt_jv_ok(v); v = kt_jv_next(v)) {
			const char *k = kt_jv_key(v, NULL);
			int r;

			if (!strcmp(k, "name")) {
				if (kt_jv_is(v, KT_J_STRING))
					name = kt_jv_str(v);
				else if (!kt_jv_is(v, KT_J_NULL))
					kt_pss_invalid(e, NULL, "spec.volumes[].name", "a string");
				continue;
			}
			if (kt_jv_is(v, KT_J_NULL))
				continue; /* a nil source */
			if (in_list(k, volumes_allowed))
				continue;
			for (r = 0; volumes_restricted[r] && strcmp(k, volumes_restricted[r]); r++)
				;
			if (r == 0)
				host_path = true;
			if (rank < 0 || r < rank) {
				rank = r;
				restricted =
					volumes_restricted[r] ? volumes_restricted[r] : "unknown";
			}
		}
		if (host_path && ev_on(e, CK_HOSTPATH_VOLUMES))
			hit(e, CK_HOSTPATH_VOLUMES, name);
		/*
		 * Upstream lets a volume with both an allowed and a restricted
		 * source through (the API server rejects such a volume anyway);
		 * we deny it, so an offline check never passes a volume that
		 * validation would refuse for a different reason.
		 */
		if (restricted && ev_on(e, CK_RESTRICTED_VOLUMES)) {
			hit(e, CK_RESTRICTED_VOLUMES, name);
			if (e->collect)
				kt_strvec_add(e, &e->c[CK_RESTRICTED_VOLUMES].values, restricted);
		}
	}
}

static void check_sysctls(struct pss_eval *e)
{
	struct kt_jv x;
	size_t i;

	if (!ev_on(e, CK_SYSCTLS))
		return;
	for (i = 0, x = kt_jv_first_elem(e->pod.sc.sysctls); kt_jv_ok(x); i++, x = kt_jv_next(x)) {
		const char *name = "";

		if (kt_jv_is(x, KT_J_OBJECT)) {
			struct kt_jv n = kt_jv_get(x, "name");

			if (kt_jv_is(n, KT_J_STRING) && strlen(kt_jv_str(n)) == kt_jv_len(n))
				name = kt_jv_str(n);
			else if (!kt_jv_absent(n))
				kt_pss_invalid(e, NULL, "spec.securityContext.sysctls[].name",
					       "a string");
		} else if (!kt_jv_is(x, KT_J_NULL)) {
			kt_pss_invalid(e, NULL, "spec.securityContext.sysctls[]", "objects");
			continue;
		}
		if (!sysctl_safe(name, e->minor))
			hit(e, CK_SYSCTLS, name);
	}
}

/* Annotations: AppArmor at every version, seccomp before policy v1.19. */
static void check_annotations(struct pss_eval *e)
{
	struct kt_jv ann = e->pod.annotations, v;
	const char *k;

	if (!kt_jv_ok(ann))
		return;
	if (ev_on(e, CK_APPARMOR)) {
		for (v = kt_jv_first(ann); kt_jv_ok(v) && (k = kt_jv_key(v, NULL));
		     v = kt_jv_next(v)) {
			if (!has_prefix(k, APPARMOR_PREFIX))
				continue;
			if (!kt_jv_is(v, KT_J_STRING)) {
				kt_pss_invalid(e, NULL, "metadata.annotations values", "strings");
				continue;
			}
			if (apparmor_annotation_ok(kt_jv_str(v)))
				continue;
			e->bad |= CK_BIT(CK_APPARMOR);
			if (e->collect)
				add_go_quoted(e, &e->c[CK_APPARMOR].values2, k, kt_jv_str(v));
		}
	}
	if (ev_on(e, CK_SECCOMP_BASELINE) && e->minor < 19) {
		v = kt_jv_get(ann, SECCOMP_POD_ANNOTATION);
		if (kt_jv_ok(v) && !kt_jv_is(v, KT_J_STRING))
			kt_pss_invalid(e, NULL, "metadata.annotations values", "strings");
		else if (kt_jv_ok(v) && !seccomp_annotation_ok(kt_jv_str(v))) {
			e->bad |= CK_BIT(CK_SECCOMP_BASELINE);
			if (e->collect)
				add_go_quoted(e, &e->c[CK_SECCOMP_BASELINE].values,
					      SECCOMP_POD_ANNOTATION, kt_jv_str(v));
		}
	}
}

static bool userns(const struct pss_eval *e)
{
	return e->pod.host_users == T_FALSE;
}

/* From policy v1.25, Windows pods are exempt from the Linux-only restricted checks. */
static bool windows_exempt(const struct pss_eval *e)
{
	return e->minor >= 25 && e->pod.windows;
}

void kt_pss_check_pod(struct pss_eval *e)
{
	const struct pod_view *p = &e->pod;
	const struct sc_view *sc = &p->sc;
	struct coll *c;

	if (ev_on(e, CK_HOST_NAMESPACES) && (p->host_network || p->host_pid || p->host_ipc)) {
		hit(e, CK_HOST_NAMESPACES, NULL);
		if ((c = coll_of(e, CK_HOST_NAMESPACES)))
			c->flags = (p->host_network ? F_HOST_NETWORK : 0) |
				   (p->host_pid ? F_HOST_PID : 0) | (p->host_ipc ? F_HOST_IPC : 0);
	}
	check_volumes(e);
	check_sysctls(e);
	check_annotations(e);

	if (ev_on(e, CK_APPARMOR) && sc->has_apparmor && !apparmor_type_ok(sc->apparmor_type)) {
		hit(e, CK_APPARMOR, NULL);
		if ((c = coll_of(e, CK_APPARMOR))) {
			c->pod = true;
			kt_strvec_add(e, &c->values, sc->apparmor_type);
		}
	}
	if (ev_on(e, CK_SELINUX) && sc->has_selinux) {
		bool bad_type = !selinux_type_ok(sc->se_type, e->minor);

		if (bad_type || *sc->se_user || *sc->se_role) {
			hit(e, CK_SELINUX, NULL);
			if ((c = coll_of(e, CK_SELINUX))) {
				c->pod = true;
				if (bad_type)
					kt_strvec_add(e, &c->values, sc->se_type);
				c->flags |= (*sc->se_user ? F_SE_USER : 0) |
					    (*sc->se_role ? F_SE_ROLE : 0);
			}
		}
	}
	if (sc->has_seccomp && !seccomp_type_ok(sc->seccomp_type)) {
		enum pss_check ck = CK_COUNT;

		if (ev_on(e, CK_SECCOMP_BASELINE) && e->minor >= 19)
			ck = CK_SECCOMP_BASELINE;
		else if (ev_on(e, CK_SECCOMP_RESTRICTED) && !windows_exempt(e))
			ck = CK_SECCOMP_RESTRICTED;
		if (ck != CK_COUNT) {
			hit(e, ck, NULL);
			if ((c = coll_of(e, ck))) {
				c->pod = true;
				kt_strvec_add(e, &c->values, sc->seccomp_type);
			}
		}
	}
	if (ev_on(e, CK_WINDOWS_HOST_PROCESS) && sc->host_process == T_TRUE) {
		hit(e, CK_WINDOWS_HOST_PROCESS, NULL);
		if ((c = coll_of(e, CK_WINDOWS_HOST_PROCESS)))
			c->pod = true;
	}
	if (ev_on(e, CK_RUN_AS_NON_ROOT) && sc->run_as_non_root == T_FALSE &&
	    !(e->minor >= 35 && userns(e))) {
		hit(e, CK_RUN_AS_NON_ROOT, NULL);
		if ((c = coll_of(e, CK_RUN_AS_NON_ROOT)))
			c->pod = true;
	}
	if (ev_on(e, CK_RUN_AS_USER) && sc->has_run_as_user && sc->run_as_user == 0 &&
	    !(e->minor >= 35 && userns(e))) {
		hit(e, CK_RUN_AS_USER, NULL);
		if ((c = coll_of(e, CK_RUN_AS_USER)))
			c->pod = true;
	}
}

/* ---- per-container parts ---- */

/* The hosts a probe or lifecycle handler sends to (httpGet.host, tcpSocket.host). */
static bool handler_hosts(struct pss_eval *e, const struct ctr_view *c, struct kt_jv h)
{
	static const char *const kinds[] = { "httpGet", "tcpSocket" };
	bool bad = false;
	size_t i;

	for (i = 0; i < 2; i++) {
		struct kt_jv x = kt_jv_get(h, kinds[i]), host;

		if (kt_jv_absent(x))
			continue;
		if (!kt_jv_is(x, KT_J_OBJECT)) {
			kt_pss_invalid(e, c, "probes and lifecycle handlers", "objects");
			continue;
		}
		host = kt_jv_get(x, "host");
		if (kt_jv_absent(host))
			continue;
		if (!kt_jv_is(host, KT_J_STRING)) {
			kt_pss_invalid(e, c, "probe and lifecycle handler hosts", "strings");
			continue;
		}
		if (!kt_jv_len(host))
			continue;
		bad = true;
		if (e->collect)
			kt_strvec_add(e, &e->c[CK_HOST_PROBES].values, kt_jv_str(host));
	}
	return bad;
}

static void check_host_ports(struct pss_eval *e, const struct ctr_view *c)
{
	bool bad = false;
	struct kt_jv port;
	size_t i;

	for (i = 0, port = kt_jv_first_elem(c->ports); kt_jv_ok(port);
	     i++, port = kt_jv_next(port)) {
		struct kt_jv hp;

		if (kt_jv_is(port, KT_J_NULL))
			continue;
		if (!kt_jv_is(port, KT_J_OBJECT)) {
			kt_pss_invalid(e, c, "ports[]", "objects");
			continue;
		}
		hp = kt_jv_get(port, "hostPort");
		if (kt_jv_absent(hp))
			continue;
		if (!kt_jv_is_int(hp)) {
			kt_pss_invalid(e, c, "ports[].hostPort", "an integer");
			continue;
		}
		if (kt_jv_ll(hp) == 0)
			continue;
		bad = true;
		if (e->collect) {
			char num[32];

			snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, kt_jv_ll(hp));
			kt_strvec_add(e, &e->c[CK_HOST_PORTS].values, num);
		}
	}
	if (bad)
		hit(e, CK_HOST_PORTS, c->name);
}

static void check_caps(struct pss_eval *e, const struct ctr_view *c)
{
	const struct sc_view *sc = &c->sc;
	bool bad = false, dropped_all = false;
	struct kt_jv x;
	size_t i;

	if (ev_on(e, CK_CAPS_BASELINE) && sc->has_caps) {
		for (i = 0, x = kt_jv_first_elem(sc->caps_add); kt_jv_ok(x);
		     i++, x = kt_jv_next(x)) {
			if (in_list(kt_jv_str(x), caps_baseline_allowed))
				continue;
			bad = true;
			if (e->collect)
				kt_strvec_add(e, &e->c[CK_CAPS_BASELINE].values, kt_jv_str(x));
		}
		if (bad)
			hit(e, CK_CAPS_BASELINE, c->name);
	}
	if (!ev_on(e, CK_CAPS_RESTRICTED) || windows_exempt(e))
		return;
	for (i = 0, x = kt_jv_first_elem(sc->caps_drop); kt_jv_ok(x); i++, x = kt_jv_next(x))
		if (!strcmp(kt_jv_str(x), "ALL"))
			dropped_all = true;
	if (!dropped_all)
		hit(e, CK_CAPS_RESTRICTED, c->name);
	bad = false;
	for (i = 0, x = kt_jv_first_elem(sc->caps_add); kt_jv_ok(x); i++, x = kt_jv_next(x)) {
		if (!strcmp(kt_jv_str(x), "NET_BIND_SERVICE"))
			continue;
		bad = true;
		if (e->collect)
			kt_strvec_add(e, &e->c[CK_CAPS_RESTRICTED].values, kt_jv_str(x));
	}
	if (bad) {
		e->bad |= CK_BIT(CK_CAPS_RESTRICTED);
		if (e->collect)
			kt_strvec_add(e, &e->c[CK_CAPS_RESTRICTED].names2, c->name);
	}
}

static void check_seccomp(struct pss_eval *e, const struct ctr_view *c)
{
	const struct sc_view *sc = &c->sc, *psc = &e->pod.sc;
	struct kt_jv ann = e->pod.annotations, v;
	const char *k;

	if (ev_on(e, CK_SECCOMP_BASELINE) && e->minor < 19 && kt_jv_ok(ann)) {
		/* container.seccomp.security.alpha.kubernetes.io/<container name> */
		for (v = kt_jv_first(ann); kt_jv_ok(v) && (k = kt_jv_key(v, NULL));
		     v = kt_jv_next(v)) {
			if (!has_prefix(k, SECCOMP_CTR_PREFIX) ||
			    strcmp(k + strlen(SECCOMP_CTR_PREFIX), c->name))
				continue;
			if (!kt_jv_is(v, KT_J_STRING)) {
				kt_pss_invalid(e, NULL, "metadata.annotations values", "strings");
				continue;
			}
			if (seccomp_annotation_ok(kt_jv_str(v)))
				continue;
			e->bad |= CK_BIT(CK_SECCOMP_BASELINE);
			if (e->collect)
				add_go_quoted(e, &e->c[CK_SECCOMP_BASELINE].values, k,
					      kt_jv_str(v));
		}
	}
	if (ev_on(e, CK_SECCOMP_BASELINE) && e->minor >= 19 && sc->has_seccomp &&
	    !seccomp_type_ok(sc->seccomp_type)) {
		hit(e, CK_SECCOMP_BASELINE, c->name);
		if (e->collect)
			kt_strvec_add(e, &e->c[CK_SECCOMP_BASELINE].values, sc->seccomp_type);
	}
	if (!ev_on(e, CK_SECCOMP_RESTRICTED) || windows_exempt(e))
		return;
	if (sc->has_seccomp) {
		if (!seccomp_type_ok(sc->seccomp_type)) {
			hit(e, CK_SECCOMP_RESTRICTED, c->name);
			if (e->collect)
				kt_strvec_add(e, &e->c[CK_SECCOMP_RESTRICTED].values,
					      sc->seccomp_type);
		}
	} else if (!(psc->has_seccomp && seccomp_type_ok(psc->seccomp_type))) {
		e->bad |= CK_BIT(CK_SECCOMP_RESTRICTED);
		if (e->collect)
			kt_strvec_add(e, &e->c[CK_SECCOMP_RESTRICTED].names2, c->name);
	}
}

void kt_pss_check_container(struct pss_eval *e, const struct ctr_view *c)
{
	const struct sc_view *sc = &c->sc;
	size_t i;

	if (ev_on(e, CK_APPARMOR) && sc->has_apparmor && !apparmor_type_ok(sc->apparmor_type)) {
		hit(e, CK_APPARMOR, c->name);
		if (e->collect)
			kt_strvec_add(e, &e->c[CK_APPARMOR].values, sc->apparmor_type);
	}
	check_caps(e, c);
	if (ev_on(e, CK_HOST_PORTS))
		check_host_ports(e, c);
	if (ev_on(e, CK_HOST_PROBES)) {
		bool bad = false;

		for (i = 0; i < 3; i++)
			if (kt_jv_ok(c->probes[i]))
				bad |= handler_hosts(e, c, c->probes[i]);
		for (i = 0; i < 2; i++)
			if (kt_jv_ok(c->handlers[i]))
				bad |= handler_hosts(e, c, c->handlers[i]);
		if (bad)
			hit(e, CK_HOST_PROBES, c->name);
	}
	if (ev_on(e, CK_PRIVILEGED) && sc->privileged == T_TRUE)
		hit(e, CK_PRIVILEGED, c->name);
	if (sc->proc_mount && strcmp(sc->proc_mount, "Default")) {
		enum pss_check ck = CK_COUNT;

		/* baseline relaxed for user-namespace pods from v1.35; restricted never */
		if (ev_on(e, CK_PROC_MOUNT) && !(e->minor >= 35 && userns(e)))
			ck = CK_PROC_MOUNT;
		else if (ev_on(e, CK_PROC_MOUNT_RESTRICTED))
			ck = CK_PROC_MOUNT_RESTRICTED;
		if (ck != CK_COUNT) {
			hit(e, ck, c->name);
			if (e->collect)
				kt_strvec_add(e, &e->c[ck].values, sc->proc_mount);
		}
	}
	if (ev_on(e, CK_SELINUX) && sc->has_selinux) {
		bool bad_type = !selinux_type_ok(sc->se_type, e->minor);

		if (bad_type || *sc->se_user || *sc->se_role) {
			hit(e, CK_SELINUX, c->name);
			if (e->collect) {
				if (bad_type)
					kt_strvec_add(e, &e->c[CK_SELINUX].values, sc->se_type);
				e->c[CK_SELINUX].flags |= (*sc->se_user ? F_SE_USER : 0) |
							  (*sc->se_role ? F_SE_ROLE : 0);
			}
		}
	}
	check_seccomp(e, c);
	if (ev_on(e, CK_WINDOWS_HOST_PROCESS) && sc->host_process == T_TRUE)
		hit(e, CK_WINDOWS_HOST_PROCESS, c->name);
	if (ev_on(e, CK_ALLOW_PRIV_ESC) && sc->allow_priv_esc != T_FALSE && !windows_exempt(e))
		hit(e, CK_ALLOW_PRIV_ESC, c->name);
	if (ev_on(e, CK_RUN_AS_NON_ROOT) && !(e->minor >= 35 && userns(e))) {
		if (sc->run_as_non_root == T_FALSE) {
			hit(e, CK_RUN_AS_NON_ROOT, c->name);
		} else if (sc->run_as_non_root == T_UNSET && e->pod.sc.run_as_non_root != T_TRUE) {
			e->bad |= CK_BIT(CK_RUN_AS_NON_ROOT);
			if (e->collect)
				kt_strvec_add(e, &e->c[CK_RUN_AS_NON_ROOT].names2, c->name);
		}
	}
	if (ev_on(e, CK_RUN_AS_USER) && sc->has_run_as_user && sc->run_as_user == 0 &&
	    !(e->minor >= 35 && userns(e)))
		hit(e, CK_RUN_AS_USER, c->name);
}

/* ---- wording (slow path) ---- */

struct out {
	struct kt_buf b;
	bool fail;
};

static void put(struct out *o, const char *s)
{
	if (!o->fail && kt_buf_adds(&o->b, s))
		o->fail = true;
}

static const char *plural(const char *one, const char *many, size_t n)
{
	return n == 1 ? one : many;
}

/* Go's joinQuote: "a", "b" (no escaping, as upstream) */
static void put_quoted(struct out *o, const struct strvec *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		put(o, i ? ", \"" : "\"");
		put(o, s->v[i]);
		put(o, "\"");
	}
}

static void put_joined(struct out *o, const struct strvec *s, const char *sep)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (i)
			put(o, sep);
		put(o, s->v[i]);
	}
}

/* "container \"a\"" / "containers \"a\", \"b\"" */
static void put_containers(struct out *o, const struct strvec *names)
{
	put(o, plural("container ", "containers ", names->n));
	put_quoted(o, names);
}

/* "pod and containers \"a\", \"b\"" */
static void put_setters(struct out *o, const struct coll *c)
{
	if (c->pod)
		put(o, "pod");
	if (c->pod && c->names.n)
		put(o, " and ");
	if (c->names.n)
		put_containers(o, &c->names);
}

static void word_apparmor(struct out *o, struct coll *c, const char **reason)
{
	struct strvec *ann = &c->values2;
	size_t n;

	kt_strvec_sort_unique(&c->values);
	kt_strvec_sort_unique(ann);
	n = c->values.n + ann->n;
	*reason = plural("forbidden AppArmor profile", "forbidden AppArmor profiles", n);
	put_setters(o, c);
	if (ann->n) {
		if (c->pod || c->names.n)
			put(o, " and ");
		put(o, plural("annotation", "annotations", ann->n));
	}
	put(o, " must not set AppArmor profile type to ");
	put_quoted(o, &c->values);
	if (c->values.n && ann->n)
		put(o, ", ");
	put_quoted(o, ann);
}

static void word_selinux(struct out *o, struct coll *c)
{
	bool sep = false;

	kt_strvec_sort_unique(&c->values);
	put_setters(o, c);
	put(o, " set forbidden securityContext.seLinuxOptions: ");
	if (c->values.n) {
		put(o, plural("type ", "types ", c->values.n));
		put_quoted(o, &c->values);
		sep = true;
	}
	if (c->flags & F_SE_USER) {
		put(o, sep ? "; user may not be set" : "user may not be set");
		sep = true;
	}
	if (c->flags & F_SE_ROLE)
		put(o, sep ? "; role may not be set" : "role may not be set");
}

/* seccompProfile_baseline and _restricted share their "explicitly bad" wording. */
static void word_seccomp(struct out *o, struct coll *c, bool annotations)
{
	kt_strvec_sort_unique(&c->values);
	if (annotations) {
		put(o, plural("forbidden annotation ", "forbidden annotations ", c->values.n));
		put_joined(o, &c->values, ", ");
		return;
	}
	if (c->pod || c->names.n) {
		put_setters(o, c);
		put(o, " must not set securityContext.seccompProfile.type to ");
		put_quoted(o, &c->values);
		return;
	}
	put(o, "pod or ");
	put_containers(o, &c->names2);
	put(o,
	    " must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"");
}

static void word_caps_restricted(struct out *o, struct coll *c)
{
	kt_strvec_sort_unique(&c->values);
	if (c->names.n) {
		put_containers(o, &c->names);
		put(o, " must set securityContext.capabilities.drop=[\"ALL\"]");
	}
	if (c->names.n && c->names2.n)
		put(o, "; ");
	if (c->names2.n) {
		put_containers(o, &c->names2);
		put(o, " must not include ");
		put_quoted(o, &c->values);
		put(o, " in securityContext.capabilities.add");
	}
}

static void word_host_namespaces(struct out *o, const struct coll *c)
{
	const char *sep = "";

	if (c->flags & F_HOST_NETWORK) {
		put(o, "hostNetwork=true");
		sep = ", ";
	}
	if (c->flags & F_HOST_PID) {
		put(o, sep);
		put(o, "hostPID=true");
		sep = ", ";
	}
	if (c->flags & F_HOST_IPC) {
		put(o, sep);
		put(o, "hostIPC=true");
	}
}

static void word_invalid(struct out *o, const struct coll *c)
{
	size_t i, shown = c->names.n < 8 ? c->names.n : 8;
	char more[64];

	for (i = 0; i < shown; i++) {
		if (i)
			put(o, "; ");
		put(o, c->names.v[i]);
	}
	if (c->names.n > shown) {
		snprintf(more, sizeof(more), "; and %zu more", c->names.n - shown);
		put(o, more);
	}
}

bool kt_pss_check_format(struct pss_eval *e, enum pss_check ck, char **reason, char **detail)
{
	struct coll *c = &e->c[ck];
	struct out o = { KT_BUF_INIT, false };
	const char *why = "";

	*reason = *detail = NULL;
	switch (ck) {
	case CK_INVALID:
		why = "invalid pod spec";
		word_invalid(&o, c);
		break;
	case CK_APPARMOR:
		word_apparmor(&o, c, &why);
		break;
	case CK_CAPS_BASELINE:
		why = "non-default capabilities";
		kt_strvec_sort_unique(&c->values);
		put_containers(&o, &c->names);
		put(&o, " must not include ");
		put_quoted(&o, &c->values);
		put(&o, " in securityContext.capabilities.add");
		break;
	case CK_HOST_NAMESPACES:
		why = "host namespaces";
		word_host_namespaces(&o, c);
		break;
	case CK_HOSTPATH_VOLUMES:
		why = "hostPath volumes";
		put(&o, plural("volume ", "volumes ", c->names.n));
		put_quoted(&o, &c->names);
		break;
	case CK_HOST_PORTS:
		why = "hostPort";
		kt_strvec_sort_unique(&c->values);
		put_containers(&o, &c->names);
		put(&o, plural(" uses ", " use ", c->names.n));
		put(&o, plural("hostPort ", "hostPorts ", c->values.n));
		put_joined(&o, &c->values, ", ");
		break;
	case CK_HOST_PROBES:
		why = "probe or lifecycle host";
		kt_strvec_sort_unique(&c->names);
		kt_strvec_sort_unique(&c->values);
		put_containers(&o, &c->names);
		put(&o, plural(" uses ", " use ", c->names.n));
		put(&o,
		    plural("probe or lifecycle host ", "probe or lifecycle hosts ", c->values.n));
		put_quoted(&o, &c->values);
		break;
	case CK_PRIVILEGED:
		why = "privileged";
		put_containers(&o, &c->names);
		put(&o, " must not set securityContext.privileged=true");
		break;
	case CK_PROC_MOUNT:
	case CK_PROC_MOUNT_RESTRICTED:
		why = "procMount";
		kt_strvec_sort_unique(&c->values);
		put_containers(&o, &c->names);
		put(&o, " must not set securityContext.procMount to ");
		put_quoted(&o, &c->values);
		break;
	case CK_SELINUX:
		why = "seLinuxOptions";
		word_selinux(&o, c);
		break;
	case CK_SECCOMP_BASELINE:
		why = "seccompProfile";
		word_seccomp(&o, c, e->minor < 19);
		break;
	case CK_SYSCTLS:
		why = "forbidden sysctls";
		put_joined(&o, &c->names, ", ");
		break;
	case CK_WINDOWS_HOST_PROCESS:
		why = "hostProcess";
		put_setters(&o, c);
		put(&o, " must not set securityContext.windowsOptions.hostProcess=true");
		break;
	case CK_ALLOW_PRIV_ESC:
		why = "allowPrivilegeEscalation != false";
		put_containers(&o, &c->names);
		put(&o, " must set securityContext.allowPrivilegeEscalation=false");
		break;
	case CK_CAPS_RESTRICTED:
		why = "unrestricted capabilities";
		word_caps_restricted(&o, c);
		break;
	case CK_RESTRICTED_VOLUMES:
		why = "restricted volume types";
		kt_strvec_sort_unique(&c->values);
		put(&o, plural("volume ", "volumes ", c->names.n));
		put_quoted(&o, &c->names);
		put(&o, plural(" uses ", " use ", c->names.n));
		put(&o, plural("restricted volume type ", "restricted volume types ", c->values.n));
		put_quoted(&o, &c->values);
		break;
	case CK_RUN_AS_NON_ROOT:
		why = "runAsNonRoot != true";
		if (c->pod || c->names.n) {
			put_setters(&o, c);
			put(&o, " must not set securityContext.runAsNonRoot=false");
		} else {
			put(&o, "pod or ");
			put_containers(&o, &c->names2);
			put(&o, " must set securityContext.runAsNonRoot=true");
		}
		break;
	case CK_RUN_AS_USER:
		why = "runAsUser=0";
		put_setters(&o, c);
		put(&o, " must not set runAsUser=0");
		break;
	case CK_SECCOMP_RESTRICTED:
		why = "seccompProfile";
		word_seccomp(&o, c, false);
		break;
	case CK_COUNT:
		break;
	}
	if (o.fail || e->nomem)
		goto fail;
	*reason = strdup(why);
	*detail = kt_buf_detach(&o.b, NULL);
	if (!*reason || !*detail)
		goto fail;
	return true;
fail:
	kt_buf_release(&o.b);
	free(*reason);
	free(*detail);
	*reason = *detail = NULL;
	return false;
}
