/*
 * t_pss.c: each Pod Security Standards check on its own, with upstream's
 * exact wording, on both sides of every policy version where it changes,
 * for init, regular and ephemeral containers.
 *
 * Pods are written as JSON with single quotes (turned into double quotes
 * before parsing) so the cases stay readable.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "kt/pss.h"

/* A restricted-clean pod, and a restricted-clean container named n with extra fields. */
#define PSC "'securityContext':{'runAsNonRoot':true,'seccompProfile':{'type':'RuntimeDefault'}}"
#define PSC_WITH(x) \
	"'securityContext':{'runAsNonRoot':true,'seccompProfile':{'type':'RuntimeDefault'}," x "}"
#define CSC "'allowPrivilegeEscalation':false,'capabilities':{'drop':['ALL']}"
#define CTR(n, x) "{'name':'" n "','securityContext':{" CSC x "}}"
#define POD(lists) "{'spec':{" PSC "," lists "}}"
#define GOOD POD("'containers':[" CTR("app", "") "]")

static json_t *parse(const char *text)
{
	char *s = strdup(text), *p;
	json_error_t je;
	json_t *v;

	assert_non_null(s);
	for (p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	v = json_loads(s, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (!v)
		print_error("bad test JSON: %s: %s\n", je.text, s);
	free(s);
	assert_non_null(v);
	return v;
}

/* The message for pod text at policy ("" when allowed); caller frees. */
static char *judge(const char *policy, const char *text)
{
	struct kt_pss_policy pol;
	struct kt_pss_result res;
	json_t *pod = parse(text);
	char *msg;

	assert_int_equal(kt_pss_policy_parse(policy, &pol, NULL), KT_OK);
	assert_int_equal(kt_pss_evaluate(&pol, json_object_get(pod, "metadata"),
					 json_object_get(pod, "spec"), &res),
			 KT_OK);
	msg = kt_pss_result_message(&res);
	assert_non_null(msg);
	assert_int_equal(res.allowed, res.n == 0);
	assert_int_equal(res.allowed, *msg == '\0');
	kt_pss_result_release(&res);
	json_decref(pod);
	return msg;
}

#define expect(policy, text, want)                                                                 \
	do {                                                                                       \
		char *m_ = judge(policy, text);                                                    \
		if (strcmp(m_, want))                                                              \
			print_error("%s:%d: %s\n got: %s\nwant: %s\n", __FILE__, __LINE__, policy, \
				    m_, want);                                                     \
		assert_string_equal(m_, want);                                                     \
		free(m_);                                                                          \
	} while (0)

#define allowed(policy, text) expect(policy, text, "")

static void privileged_level_allows_everything(void **state)
{
	(void)state;
	allowed("privileged",
		"{'spec':{'hostNetwork':true,'containers':[{'name':'a','securityContext':{'privileged':true}}]}}");
	allowed("privileged", "{'spec':42}");
}

static void allowed_pod_allocates_nothing(void **state)
{
	struct kt_pss_policy pol = { KT_PSS_RESTRICTED, KT_PSS_LATEST };
	struct kt_pss_result res;
	json_t *pod = parse(GOOD);

	(void)state;
	assert_int_equal(kt_pss_evaluate(&pol, NULL, json_object_get(pod, "spec"), &res), KT_OK);
	assert_true(res.allowed);
	assert_null(res.v);
	assert_int_equal(res.n, 0);
	json_decref(pod);
}

static void violations_carry_check_ids_in_upstream_order(void **state)
{
	struct kt_pss_policy pol = { KT_PSS_RESTRICTED, KT_PSS_LATEST };
	struct kt_pss_result res;
	json_t *pod = parse(
		"{'spec':{'hostPID':true,'containers':[{'name':'a','securityContext':{'privileged':true}}]}}");

	(void)state;
	assert_int_equal(kt_pss_evaluate(&pol, NULL, json_object_get(pod, "spec"), &res), KT_OK);
	assert_false(res.allowed);
	assert_int_equal(res.n, 6);
	assert_string_equal(res.v[0].check, "hostNamespaces");
	assert_string_equal(res.v[1].check, "privileged");
	assert_string_equal(res.v[2].check, "allowPrivilegeEscalation");
	assert_string_equal(res.v[3].check, "capabilities_restricted");
	assert_string_equal(res.v[4].check, "runAsNonRoot");
	assert_string_equal(res.v[5].check, "seccompProfile_restricted");
	assert_string_equal(res.v[0].reason, "host namespaces");
	assert_string_equal(res.v[0].detail, "hostPID=true");
	kt_pss_result_release(&res);
	json_decref(pod);
}

static void host_namespaces(void **state)
{
	(void)state;
	expect("baseline",
	       "{'spec':{'hostIPC':true,'hostNetwork':true,'hostPID':true,'containers':[]}}",
	       "host namespaces (hostNetwork=true, hostPID=true, hostIPC=true)");
	allowed("baseline", "{'spec':{'hostIPC':false,'hostNetwork':null,'containers':[]}}");
}

static void privileged_in_every_container_list(void **state)
{
	(void)state;
	expect("baseline",
	       "{'spec':{'ephemeralContainers':[{'name':'e','securityContext':{'privileged':true}}],"
	       "'containers':[{'name':'c','securityContext':{'privileged':true}},{'name':'ok'}],"
	       "'initContainers':[{'name':'i','securityContext':{'privileged':true}}]}}",
	       "privileged (containers \"i\", \"c\", \"e\" must not set securityContext.privileged=true)");
	expect("baseline",
	       "{'spec':{'ephemeralContainers':[{'name':'debug','targetContainerName':'c','securityContext':{'privileged':true}}]}}",
	       "privileged (container \"debug\" must not set securityContext.privileged=true)");
	allowed("baseline",
		"{'spec':{'containers':[{'name':'c','securityContext':{'privileged':false}}]}}");
}

static void capabilities_baseline(void **state)
{
	(void)state;
	expect("baseline",
	       "{'spec':{'containers':[{'name':'a','securityContext':{'capabilities':{'add':['SYS_ADMIN','NET_RAW','CHOWN']}}},"
	       "{'name':'b','securityContext':{'capabilities':{'add':['NET_RAW']}}}]}}",
	       "non-default capabilities (containers \"a\", \"b\" must not include \"NET_RAW\", \"SYS_ADMIN\" in securityContext.capabilities.add)");
	allowed("baseline",
		"{'spec':{'containers':[{'name':'a','securityContext':{'capabilities':{'add':['AUDIT_WRITE','CHOWN','DAC_OVERRIDE','FOWNER','FSETID','KILL','MKNOD','NET_BIND_SERVICE','SETFCAP','SETGID','SETPCAP','SETUID','SYS_CHROOT']}}}]}}");
	/* restricted before v1.22 still uses the baseline check */
	expect("restricted:v1.21",
	       POD("'containers':[{'name':'a','securityContext':{'allowPrivilegeEscalation':false,'capabilities':{'add':['NET_RAW']}}}]"),
	       "non-default capabilities (container \"a\" must not include \"NET_RAW\" in securityContext.capabilities.add)");
}

static void capabilities_restricted(void **state)
{
	(void)state;
	/* v1.22: drop ALL required, only NET_BIND_SERVICE may be added */
	allowed("restricted:v1.21",
		POD("'containers':[{'name':'a','securityContext':{'allowPrivilegeEscalation':false}}]"));
	expect("restricted:v1.22",
	       POD("'containers':[{'name':'a','securityContext':{'allowPrivilegeEscalation':false}}]"),
	       "unrestricted capabilities (container \"a\" must set securityContext.capabilities.drop=[\"ALL\"])");
	allowed("restricted",
		POD("'containers':[{'name':'a','securityContext':{'allowPrivilegeEscalation':false,'capabilities':{'drop':['ALL'],'add':['NET_BIND_SERVICE']}}}]"));
	expect("restricted",
	       POD("'containers':[{'name':'a','securityContext':{'allowPrivilegeEscalation':false,'capabilities':{'drop':['NET_RAW'],'add':['CHOWN']}}}],"
		   "'ephemeralContainers':[{'name':'e','securityContext':{'allowPrivilegeEscalation':false,'capabilities':{'drop':['ALL'],'add':['SYS_TIME','CHOWN']}}}]"),
	       "unrestricted capabilities (container \"a\" must set securityContext.capabilities.drop=[\"ALL\"]; "
	       "containers \"a\", \"e\" must not include \"CHOWN\", \"SYS_TIME\" in securityContext.capabilities.add)");
}

static void windows_pods(void **state)
{
	const char *win =
		"{'spec':{'os':{'name':'windows'},'securityContext':{'runAsNonRoot':true},'containers':[{'name':'w'}]}}";

	(void)state;
	/* v1.25 exempts Windows pods from the Linux-only restricted checks */
	expect("restricted:v1.24", win,
	       "allowPrivilegeEscalation != false (container \"w\" must set securityContext.allowPrivilegeEscalation=false), "
	       "unrestricted capabilities (container \"w\" must set securityContext.capabilities.drop=[\"ALL\"]), "
	       "seccompProfile (pod or container \"w\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")");
	allowed("restricted:v1.25", win);
	allowed("restricted", win);
	/* not exempt: runAsNonRoot, and a Linux pod */
	expect("restricted", "{'spec':{'os':{'name':'windows'},'containers':[{'name':'w'}]}}",
	       "runAsNonRoot != true (pod or container \"w\" must set securityContext.runAsNonRoot=true)");
	expect("restricted",
	       "{'spec':{'os':{'name':'linux'},'securityContext':{'runAsNonRoot':true,'seccompProfile':{'type':'RuntimeDefault'}},'containers':[{'name':'l','securityContext':{'capabilities':{'drop':['ALL']}}}]}}",
	       "allowPrivilegeEscalation != false (container \"l\" must set securityContext.allowPrivilegeEscalation=false)");
}

static void host_path_and_restricted_volumes(void **state)
{
	const char *vols = "{'spec':{" PSC ",'containers':[" CTR(
		"app", "") "],'volumes':["
			   "{'name':'h','hostPath':{'path':'/'}},{'name':'n','nfs':{'path':'/x'}},"
			   "{'name':'ok','emptyDir':{}},{'name':'img','image':{'reference':'x'}},"
			   "{'name':'bare'},null,{'name':'nullsrc','hostPath':null},"
			   "{'name':'odd','flexVolume':{'driver':'x'},'hostPath':{'path':'/'}},"
			   "{'name':'future','someNewSource':{}}]}}";

	(void)state;
	expect("baseline", vols, "hostPath volumes (volumes \"h\", \"odd\")");
	/* restricted overrides hostPathVolumes with restrictedVolumes */
	expect("restricted", vols,
	       "restricted volume types (volumes \"h\", \"n\", \"odd\", \"future\" use restricted volume types "
	       "\"hostPath\", \"nfs\", \"unknown\")");
	expect("restricted",
	       "{'spec':{" PSC ",'containers':[" CTR(
		       "app",
		       "") "],'volumes':[{'name':'s','secret':{},'hostPath':{'path':'/'}}]}}",
	       "restricted volume types (volume \"s\" uses restricted volume type \"hostPath\")");
	allowed("restricted",
		"{'spec':{" PSC ",'containers':[" CTR(
			"app",
			"") "],'volumes':["
			    "{'name':'a','configMap':{}},{'name':'b','csi':{}},{'name':'c','downwardAPI':{}},"
			    "{'name':'d','ephemeral':{}},{'name':'e','persistentVolumeClaim':{}},"
			    "{'name':'f','projected':{}},{'name':'g','secret':{}},{'name':'h','image':{}}]}}");
}

static void host_ports(void **state)
{
	(void)state;
	expect("baseline",
	       "{'spec':{'containers':[{'name':'a','ports':[{'containerPort':80,'hostPort':9},{'hostPort':10},{'hostPort':0}]}],"
	       "'ephemeralContainers':[{'name':'e','ports':[{'hostPort':10}]}]}}",
	       "hostPort (containers \"a\", \"e\" use hostPorts 10, 9)");
	allowed("baseline",
		"{'spec':{'containers':[{'name':'a','ports':[{'containerPort':80},{'hostPort':0},null]}]}}");
}

static void probe_and_lifecycle_hosts(void **state)
{
	const char *pod =
		"{'spec':{'containers':[{'name':'b','livenessProbe':{'httpGet':{'host':'10.0.0.1','port':80}},"
		"'lifecycle':{'preStop':{'tcpSocket':{'host':'node.local','port':1}},'postStart':{'httpGet':{'host':'','port':1}}}},"
		"{'name':'a','startupProbe':{'tcpSocket':{'host':'10.0.0.1','port':1}},'readinessProbe':{'exec':{}}}],"
		"'initContainers':[{'name':'i','readinessProbe':{'httpGet':{'port':1}}}]}}";

	(void)state;
	/* new at v1.34; containers and hosts are sorted sets */
	allowed("baseline:v1.33", pod);
	expect("baseline:v1.34", pod,
	       "probe or lifecycle host (containers \"a\", \"b\" use probe or lifecycle hosts \"10.0.0.1\", \"node.local\")");
	expect("baseline",
	       "{'spec':{'ephemeralContainers':[{'name':'e','lifecycle':{'postStart':{'httpGet':{'host':'x'}}}}]}}",
	       "probe or lifecycle host (container \"e\" uses probe or lifecycle host \"x\")");
}

static void apparmor(void **state)
{
	(void)state;
	expect("baseline",
	       "{'metadata':{'annotations':{'container.apparmor.security.beta.kubernetes.io/a':'unconfined',"
	       "'container.apparmor.security.beta.kubernetes.io/b':'localhost/mine',"
	       "'container.apparmor.security.beta.kubernetes.io/c':'runtime/default',"
	       "'container.apparmor.security.beta.kubernetes.io/d':'',"
	       "'other':'unconfined'}},"
	       "'spec':{'securityContext':{'appArmorProfile':{'type':'Unconfined'}},"
	       "'containers':[{'name':'x','securityContext':{'appArmorProfile':{'type':'Bogus'}}},"
	       "{'name':'y','securityContext':{'appArmorProfile':{'type':'Localhost','localhostProfile':'p'}}}]}}",
	       "forbidden AppArmor profiles (pod and container \"x\" and annotation must not set AppArmor profile type to "
	       "\"Bogus\", \"Unconfined\", \"container.apparmor.security.beta.kubernetes.io/a=\"unconfined\"\")");
	expect("baseline",
	       "{'spec':{'containers':[{'name':'x','securityContext':{'appArmorProfile':{}}}]}}",
	       "forbidden AppArmor profile (container \"x\" must not set AppArmor profile type to \"\")");
	/* annotation values are quoted as Go's %q does */
	expect("baseline",
	       "{'metadata':{'annotations':{'container.apparmor.security.beta.kubernetes.io/q':'a\\\\b\\n'}},'spec':{}}",
	       "forbidden AppArmor profile (annotation must not set AppArmor profile type to "
	       "\"container.apparmor.security.beta.kubernetes.io/q=\"a\\\\b\\n\"\")");
	allowed("baseline",
		"{'spec':{'securityContext':{'appArmorProfile':{'type':'RuntimeDefault'}},'containers':[]}}");
}

static void selinux(void **state)
{
	const char *engine =
		"{'spec':{'containers':[{'name':'a','securityContext':{'seLinuxOptions':{'type':'container_engine_t'}}}]}}";

	(void)state;
	expect("baseline",
	       "{'spec':{'securityContext':{'seLinuxOptions':{'type':'spc_t','user':'u'}},"
	       "'containers':[{'name':'a','securityContext':{'seLinuxOptions':{'role':'r','type':'container_t'}}},"
	       "{'name':'b','securityContext':{'seLinuxOptions':{'type':'unconfined_t'}}}]}}",
	       "seLinuxOptions (pod and containers \"a\", \"b\" set forbidden securityContext.seLinuxOptions: "
	       "types \"spc_t\", \"unconfined_t\"; user may not be set; role may not be set)");
	expect("baseline",
	       "{'spec':{'containers':[{'name':'a','securityContext':{'seLinuxOptions':{'user':'u'}}}]}}",
	       "seLinuxOptions (container \"a\" set forbidden securityContext.seLinuxOptions: user may not be set)");
	/* container_engine_t allowed from v1.31 */
	expect("baseline:v1.30", engine,
	       "seLinuxOptions (container \"a\" set forbidden securityContext.seLinuxOptions: type \"container_engine_t\")");
	allowed("baseline:v1.31", engine);
	allowed("baseline",
		"{'spec':{'securityContext':{'seLinuxOptions':{'level':'s0:c1','type':'container_kvm_t'}},'containers':[]}}");
}

static void proc_mount(void **state)
{
	const char *userns =
		"{'spec':{'hostUsers':false,'containers':[{'name':'a','securityContext':{'procMount':'Unmasked'}}]}}";

	(void)state;
	expect("baseline",
	       "{'spec':{'ephemeralContainers':[{'name':'e','securityContext':{'procMount':'Unmasked'}}],'containers':[{'name':'a','securityContext':{'procMount':'Default'}}]}}",
	       "procMount (container \"e\" must not set securityContext.procMount to \"Unmasked\")");
	/* v1.35: baseline lets user-namespace pods unmask /proc; restricted never does */
	expect("baseline:v1.34", userns,
	       "procMount (container \"a\" must not set securityContext.procMount to \"Unmasked\")");
	allowed("baseline:v1.35", userns);
	expect("baseline:v1.35",
	       "{'spec':{'hostUsers':true,'containers':[{'name':'a','securityContext':{'procMount':'Unmasked'}}]}}",
	       "procMount (container \"a\" must not set securityContext.procMount to \"Unmasked\")");
	expect("restricted:v1.35",
	       "{'spec':{'hostUsers':false," PSC
	       ",'containers':[" CTR("a", ",'procMount':'Unmasked'") "]}}",
	       "procMount (container \"a\" must not set securityContext.procMount to \"Unmasked\")");
}

static void seccomp_baseline(void **state)
{
	const char *ann =
		"{'metadata':{'annotations':{'seccomp.security.alpha.kubernetes.io/pod':'unconfined',"
		"'container.seccomp.security.alpha.kubernetes.io/a':'docker/default',"
		"'container.seccomp.security.alpha.kubernetes.io/b':'',"
		"'container.seccomp.security.alpha.kubernetes.io/gone':'unconfined'}},"
		"'spec':{'containers':[{'name':'a'}],'ephemeralContainers':[{'name':'b'}]}}";
	const char *field =
		"{'spec':{'securityContext':{'seccompProfile':{'type':'Unconfined'}},"
		"'containers':[{'name':'a','securityContext':{'seccompProfile':{'type':'Localhost'}}},"
		"{'name':'b','securityContext':{'seccompProfile':{'type':'unconfined'}}}]}}";

	(void)state;
	/* annotations before v1.19, fields from v1.19 */
	expect("baseline:v1.18", ann,
	       "seccompProfile (forbidden annotations container.seccomp.security.alpha.kubernetes.io/b=\"\", "
	       "seccomp.security.alpha.kubernetes.io/pod=\"unconfined\")");
	allowed("baseline:v1.19", ann);
	allowed("baseline:v1.18", field);
	expect("baseline:v1.19", field,
	       "seccompProfile (pod and container \"b\" must not set securityContext.seccompProfile.type to \"Unconfined\", \"unconfined\")");
}

static void seccomp_restricted(void **state)
{
	const char *unset = "{'spec':{'securityContext':{'runAsNonRoot':true},'containers':[" CTR(
		"a", "") "," CTR("b", ",'seccompProfile':{'type':'Localhost'}") "]}}";

	(void)state;
	allowed("restricted:v1.18", unset);
	expect("restricted:v1.19", unset,
	       "seccompProfile (pod or container \"a\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")");
	expect("restricted",
	       "{'spec':{'securityContext':{'runAsNonRoot':true,'seccompProfile':{'type':'Unconfined'}},'containers':[" CTR(
		       "a", "") "]}}",
	       "seccompProfile (pod must not set securityContext.seccompProfile.type to \"Unconfined\")");
	expect("restricted",
	       POD("'initContainers':[" CTR("i", ",'seccompProfile':{'type':'Unconfined'}") "]"),
	       "seccompProfile (container \"i\" must not set securityContext.seccompProfile.type to \"Unconfined\")");
}

static void sysctls(void **state)
{
	static const struct {
		const char *name;
		int since;
	} added[] = {
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
	char pod[256], policy[32], want[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(added) / sizeof(added[0]); i++) {
		snprintf(pod, sizeof(pod),
			 "{'spec':{'securityContext':{'sysctls':[{'name':'%s','value':'1'}]}}}",
			 added[i].name);
		snprintf(policy, sizeof(policy), "baseline:v1.%d", added[i].since - 1);
		snprintf(want, sizeof(want), "forbidden sysctls (%s)", added[i].name);
		expect(policy, pod, want);
		snprintf(policy, sizeof(policy), "baseline:v1.%d", added[i].since);
		allowed(policy, pod);
	}
	allowed("baseline:v1.0",
		"{'spec':{'securityContext':{'sysctls':[{'name':'kernel.shm_rmid_forced'},"
		"{'name':'net.ipv4.ip_local_port_range'},{'name':'net.ipv4.tcp_syncookies'},"
		"{'name':'net.ipv4.ping_group_range'},{'name':'net.ipv4.ip_unprivileged_port_start'}]}}}");
	/* in the pod's order, duplicates kept, as upstream */
	expect("baseline",
	       "{'spec':{'securityContext':{'sysctls':[{'name':'z.b'},{'name':'a.c'},{'name':'z.b'}]}}}",
	       "forbidden sysctls (z.b, a.c, z.b)");
}

static void windows_host_process(void **state)
{
	(void)state;
	expect("baseline",
	       "{'spec':{'securityContext':{'windowsOptions':{'hostProcess':true}},"
	       "'containers':[{'name':'a','securityContext':{'windowsOptions':{'hostProcess':true}}},"
	       "{'name':'b','securityContext':{'windowsOptions':{'hostProcess':false}}}]}}",
	       "hostProcess (pod and container \"a\" must not set securityContext.windowsOptions.hostProcess=true)");
}

static void allow_privilege_escalation(void **state)
{
	const char *pod =
		"{'spec':{" PSC
		",'containers':[{'name':'a','securityContext':{'capabilities':{'drop':['ALL']}}},"
		"{'name':'b','securityContext':{'allowPrivilegeEscalation':true,'capabilities':{'drop':['ALL']}}}],"
		"'ephemeralContainers':[{'name':'e','securityContext':{'allowPrivilegeEscalation':false,'capabilities':{'drop':['ALL']}}}]}}";

	(void)state;
	/* required from v1.8 */
	allowed("restricted:v1.7", pod);
	expect("restricted:v1.8", pod,
	       "allowPrivilegeEscalation != false (containers \"a\", \"b\" must set securityContext.allowPrivilegeEscalation=false)");
}

static void run_as_non_root(void **state)
{
	const char *implicit =
		"{'spec':{'securityContext':{'seccompProfile':{'type':'RuntimeDefault'}},"
		"'containers':[" CTR("a", "") "," CTR("b", ",'runAsNonRoot':true") "]}}";
	const char *userns =
		"{'spec':{'hostUsers':false,'securityContext':{'runAsNonRoot':false,'runAsUser':0,"
		"'seccompProfile':{'type':'RuntimeDefault'}},'containers':[" CTR("a", "") "]}}";

	(void)state;
	expect("restricted", implicit,
	       "runAsNonRoot != true (pod or container \"a\" must set securityContext.runAsNonRoot=true)");
	expect("restricted",
	       "{'spec':{'securityContext':{'runAsNonRoot':false,'seccompProfile':{'type':'RuntimeDefault'}},"
	       "'containers':[" CTR("a", ",'runAsNonRoot':false") "," CTR("b", "") "]}}",
	       "runAsNonRoot != true (pod and container \"a\" must not set securityContext.runAsNonRoot=false)");
	/* v1.35: user-namespace pods need neither runAsNonRoot nor a non-zero runAsUser */
	expect("restricted:v1.34", userns,
	       "runAsNonRoot != true (pod must not set securityContext.runAsNonRoot=false), "
	       "runAsUser=0 (pod must not set runAsUser=0)");
	allowed("restricted:v1.35", userns);
}

static void run_as_user(void **state)
{
	const char *zero = POD(
		"'containers':[" CTR("a", ",'runAsUser':0") "," CTR("b", ",'runAsUser':1000") "]");

	(void)state;
	/* new at v1.23 */
	allowed("restricted:v1.22", zero);
	expect("restricted:v1.23", zero, "runAsUser=0 (container \"a\" must not set runAsUser=0)");
	allowed("restricted",
		"{'spec':{" PSC_WITH("'runAsUser':1") ",'containers':[" CTR("a", "") "]}}");
}

static void malformed_fields_are_denied(void **state)
{
	(void)state;
	/* the API server could not decode these; we do not guess */
	expect("baseline",
	       "{'spec':{'containers':[{'name':'a','securityContext':{'privileged':'true'}}]}}",
	       "invalid pod spec (spec.containers[0].securityContext.privileged must be a boolean)");
	expect("baseline", "{'spec':{'hostNetwork':1,'containers':{}}}",
	       "invalid pod spec (spec.hostNetwork must be a boolean; spec.containers must be a list)");
	expect("baseline", "{'spec':{'initContainers':[null,7]}}",
	       "invalid pod spec (spec.initContainers[1] must be an object)");
	expect("restricted", "{'spec':{" PSC_WITH("'runAsUser':0.5") ",'containers':[]}}",
	       "invalid pod spec (spec.securityContext.runAsUser must be an integer)");
	expect("baseline",
	       "{'spec':{'containers':[{'name':'a','securityContext':{'capabilities':{'add':[1]}}}]}}",
	       "invalid pod spec (spec.containers[0].securityContext.capabilities.add must be a list of strings)");
	expect("baseline", "{'spec':[]}", "invalid pod spec (spec must be an object)");
	expect("baseline", "{'metadata':[],'spec':{}}",
	       "invalid pod spec (metadata must be an object)");
}

static void embedded_nul_cannot_fool_a_comparison(void **state)
{
	(void)state;
	/* the evaluator's reader refuses the character before any check reads the pod */
	expect("baseline",
	       "{'spec':{'containers':[{'name':'a','securityContext':{'seccompProfile':{'type':'RuntimeDefault\\u0000x'}}}]}}",
	       "invalid pod spec (a string contains a NUL character)");
}

static void versions_latest_and_beyond(void **state)
{
	const char *pod =
		"{'spec':{'securityContext':{'sysctls':[{'name':'net.ipv4.tcp_notsent_lowat'}]}}}";
	struct kt_pss_policy future = { KT_PSS_BASELINE, 99 };
	struct kt_pss_result res;
	json_t *p = parse(pod);

	(void)state;
	allowed("baseline:latest", pod);
	allowed("baseline:v1.37", pod);
	expect("baseline:v1.36", pod, "forbidden sysctls (net.ipv4.tcp_notsent_lowat)");
	/* a version newer than this build evaluates as the newest policy */
	assert_int_equal(kt_pss_evaluate(&future, NULL, json_object_get(p, "spec"), &res), KT_OK);
	assert_true(res.allowed);
	json_decref(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(privileged_level_allows_everything),
		cmocka_unit_test(allowed_pod_allocates_nothing),
		cmocka_unit_test(violations_carry_check_ids_in_upstream_order),
		cmocka_unit_test(host_namespaces),
		cmocka_unit_test(privileged_in_every_container_list),
		cmocka_unit_test(capabilities_baseline),
		cmocka_unit_test(capabilities_restricted),
		cmocka_unit_test(windows_pods),
		cmocka_unit_test(host_path_and_restricted_volumes),
		cmocka_unit_test(host_ports),
		cmocka_unit_test(probe_and_lifecycle_hosts),
		cmocka_unit_test(apparmor),
		cmocka_unit_test(selinux),
		cmocka_unit_test(proc_mount),
		cmocka_unit_test(seccomp_baseline),
		cmocka_unit_test(seccomp_restricted),
		cmocka_unit_test(sysctls),
		cmocka_unit_test(windows_host_process),
		cmocka_unit_test(allow_privilege_escalation),
		cmocka_unit_test(run_as_non_root),
		cmocka_unit_test(run_as_user),
		cmocka_unit_test(malformed_fields_are_denied),
		cmocka_unit_test(embedded_nul_cannot_fool_a_comparison),
		cmocka_unit_test(versions_latest_and_beyond),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
