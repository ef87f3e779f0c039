/*
 * internal.h: internals of the Pod Security Standards evaluator, shared by
 * evaluate.c (decoding the pod once into flat views, walking the
 * containers, version gating), checks.c (the checks and their messages),
 * invalid.c (malformed fields) and strvec.c (the quoted lists).  evaluate.c
 * calls the others; none of them calls evaluate.c.
 *
 * Design: one pass over the pod decides which checks are violated, touching
 * every key of the spec once and allocating nothing.  Only when a check is
 * violated does a second, slower pass run the same check code in "collect"
 * mode, gathering container names and values to word the messages exactly as
 * upstream does.  The check code is written once and serves both passes, so
 * the verdict and the message can never disagree.
 */
#ifndef KT_PSS_INTERNAL_H
#define KT_PSS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "kt/buf.h"
#include "kt/jview.h"
#include "kt/pss.h"

/*
 * Check ids in upstream message order: the registry sorts baseline check
 * ids, then restricted ones, byte-wise.  CK_INVALID is ours: a field the
 * checks read has the wrong JSON type (the API server would refuse to decode
 * it); we deny rather than guess.
 */
enum pss_check {
	CK_INVALID,
	CK_APPARMOR,              /* appArmorProfile */
	CK_CAPS_BASELINE,         /* capabilities_baseline */
	CK_HOST_NAMESPACES,       /* hostNamespaces */
	CK_HOSTPATH_VOLUMES,      /* hostPathVolumes */
	CK_HOST_PORTS,            /* hostPorts */
	CK_HOST_PROBES,           /* hostProbesAndHostLifecycle */
	CK_PRIVILEGED,            /* privileged */
	CK_PROC_MOUNT,            /* procMount */
	CK_SELINUX,               /* seLinuxOptions */
	CK_SECCOMP_BASELINE,      /* seccompProfile_baseline */
	CK_SYSCTLS,               /* sysctls */
	CK_WINDOWS_HOST_PROCESS,  /* windowsHostProcess */
	CK_ALLOW_PRIV_ESC,        /* allowPrivilegeEscalation */
	CK_CAPS_RESTRICTED,       /* capabilities_restricted */
	CK_PROC_MOUNT_RESTRICTED, /* procMount_restricted */
	CK_RESTRICTED_VOLUMES,    /* restrictedVolumes */
	CK_RUN_AS_NON_ROOT,       /* runAsNonRoot */
	CK_RUN_AS_USER,           /* runAsUser */
	CK_SECCOMP_RESTRICTED,    /* seccompProfile_restricted */
	CK_COUNT
};

#define CK_BIT(c) (UINT32_C(1) << (c))

/* A tri-state boolean field: absent (or null), false, true. */
enum tri { T_UNSET = -1, T_FALSE = 0, T_TRUE = 1 };

/* The securityContext fields the checks read, pod or container level. */
struct sc_view {
	signed char privileged, allow_priv_esc, run_as_non_root, host_process;
	bool has_run_as_user;
	long long run_as_user;
	const char *proc_mount; /* NULL: unset */
	bool has_caps;
	struct kt_jv caps_add, caps_drop; /* arrays of strings, or absent */
	bool has_selinux;
	const char *se_type, *se_user, *se_role; /* "" when unset */
	bool has_seccomp;
	const char *seccomp_type; /* "" when unset */
	bool has_apparmor;
	const char *apparmor_type; /* "" when unset */
	struct kt_jv sysctls;      /* pod level only: array or absent */
};

/* The lists of containers, in the order upstream visits them. */
enum { L_INIT, L_MAIN, L_EPHEMERAL, L_COUNT };

struct ctr_view {
	const char *name; /* "" when unset */
	struct sc_view sc;
	struct kt_jv ports;       /* array of objects, or absent */
	struct kt_jv probes[3];   /* liveness, readiness, startup: objects or absent */
	struct kt_jv handlers[2]; /* lifecycle postStart, preStop: objects or absent */
	int list;
	size_t index;
};

struct pod_view {
	struct kt_jv annotations; /* object or absent */
	bool host_network, host_pid, host_ipc;
	signed char host_users;
	bool windows; /* spec.os.name == "windows" */
	struct sc_view sc;
	struct kt_jv volumes;        /* array or absent */
	struct kt_jv lists[L_COUNT]; /* arrays or absent */
};

/* A growable list of owned strings, for the messages (slow path only). */
struct strvec {
	char **v;
	size_t n, alloc;
};

/* What one check collects for its message. */
struct coll {
	struct strvec names, names2;   /* containers or volumes, in visit order */
	struct strvec values, values2; /* sorted and deduplicated when worded */
	bool pod;                      /* the pod-level field is at fault */
	unsigned flags;                /* check-specific bits */
};

struct pss_eval {
	int minor;       /* resolved policy version, 0..KT_PSS_LATEST_MINOR */
	uint32_t active; /* CK_BIT of each check in force */
	uint32_t bad;    /* CK_BIT of each violated check */
	bool collect;    /* slow pass: gather message data */
	bool nomem;      /* an allocation failed while collecting */
	struct pod_view pod;
	struct coll *c; /* [CK_COUNT] when collecting, else NULL */
};

static inline bool ev_on(const struct pss_eval *e, enum pss_check ck)
{
	return e->active & CK_BIT(ck);
}

/* checks.c */
void kt_pss_check_pod(struct pss_eval *e);
void kt_pss_check_container(struct pss_eval *e, const struct ctr_view *c);
const char *kt_pss_check_id(enum pss_check ck);
/* Word violated check ck into reason and detail (malloc'd).  false on ENOMEM. */
bool kt_pss_check_format(struct pss_eval *e, enum pss_check ck, char **reason, char **detail);

/* invalid.c: record a malformed field (slow pass: its path).  Always marks CK_INVALID. */
void kt_pss_invalid(struct pss_eval *e, const struct ctr_view *c, const char *field,
		    const char *want);

/* strvec.c */
void kt_strvec_add(struct pss_eval *e, struct strvec *s, const char *str);
void kt_strvec_addn(struct pss_eval *e, struct strvec *s, const char *str, size_t len);
void kt_strvec_sort_unique(struct strvec *s);
void kt_strvec_release(struct strvec *s);

#endif
