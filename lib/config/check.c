/*
 * check.c: pure syntax checks for the values of a tenants file.
 *
 * Each follows the rule of the system that will consume the value
 * (Kubernetes API validation, DNS, git, Flux, EC2), so a file that passes
 * here never produces an object the API server rejects.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

static bool lower_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool alnum(int c)
{
	return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? of exactly n bytes, n <= 63 */
static bool label_n(const char *s, size_t n)
{
	size_t i;

	if (!n || n > 63 || !lower_alnum((unsigned char)s[0]) ||
	    !lower_alnum((unsigned char)s[n - 1]))
		return false;
	for (i = 1; i + 1 < n; i++)
		if (!lower_alnum((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

bool kt_is_dns_label(const char *s)
{
	return label_n(s, strlen(s));
}

static bool subdomain_n(const char *s, size_t n)
{
	size_t start = 0, i;

	if (!n || n > 253)
		return false;
	for (i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (!label_n(s + start, i - start))
				return false;
			start = i + 1;
		}
	}
	return true;
}

bool kt_is_dns_subdomain(const char *s)
{
	return subdomain_n(s, strlen(s));
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], 1..63 bytes */
static bool name_part(const char *s, size_t n)
{
	size_t i;

	if (!n || n > 63 || !alnum((unsigned char)s[0]) || !alnum((unsigned char)s[n - 1]))
		return false;
	for (i = 1; i + 1 < n; i++)
		if (!alnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
			return false;
	return true;
}

bool kt_is_label_value(const char *s)
{
	return name_part(s, strlen(s));
}

bool kt_is_qualified_name(const char *s)
{
	const char *slash = strchr(s, '/');

	if (!slash)
		return name_part(s, strlen(s));
	return subdomain_n(s, (size_t)(slash - s)) && name_part(slash + 1, strlen(slash + 1));
}

bool kt_is_ip_literal(const char *s)
{
	unsigned char buf[16];
	char tmp[64];
	size_t n = strlen(s);

	/* only digits and dots (IPv4) or a colon (IPv6) can be an address */
	if (!strchr(s, ':') && s[strspn(s, "0123456789.")])
		return false;

	if (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1)
		return true;
	if (n > 2 && n < sizeof(tmp) && s[0] == '[' && s[n - 1] == ']') {
		memcpy(tmp, s + 1, n - 2);
		tmp[n - 2] = '\0';
		return inet_pton(AF_INET6, tmp, buf) == 1;
	}
	return false;
}

bool kt_has_ctl(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

const char *kt_domain_problem(const char *s, bool allow_wildcard)
{
	size_t n = strlen(s), start = 0, i, labels = 0;
	bool numeric_last = false;

	if (!n)
		return "is empty";
	if (n > 253)
		return "is longer than 253 characters";
	if (s[n - 1] == '.' && n > 1)
		return "must not end with a dot";
	if (kt_is_ip_literal(s))
		return "is an IP address, not a DNS name";
	for (i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return "must be lowercase";
	for (i = 0; i <= n; i++) {
		const char *l = s + start;
		size_t len = i - start, j;

		if (i < n && s[i] != '.')
			continue;
		start = i + 1;
		if (!len)
			return "has an empty label";
		if (memchr(l, '*', len)) {
			if (!allow_wildcard)
				return "must not contain '*'";
			if (len != 1 || l != s)
				return "may use '*' only as the whole leftmost label";
			continue;
		}
		if (len > 63)
			return "has a label longer than 63 characters";
		numeric_last = true;
		for (j = 0; j < len; j++) {
			if (!lower_alnum((unsigned char)l[j]) && l[j] != '-')
				return "has a character other than a-z, 0-9, '-' and '.'";
			if (!(l[j] >= '0' && l[j] <= '9'))
				numeric_last = false;
		}
		if (l[0] == '-' || l[len - 1] == '-')
			return "has a label that starts or ends with '-'";
		labels++;
	}
	if (labels < 2)
		return "must have at least two labels";
	if (numeric_last)
		return "must not end with an all-numeric label";
	return NULL;
}

/* -------------------------------------------------------------- quantities */

/* digits (most significant first) *= m, for small m; false on overflow */
static bool mul_small(struct kt_quantity *q, unsigned m)
{
	unsigned carry = 0;
	int i;

	for (i = q->nd - 1; i >= 0; i--) {
		unsigned d = (unsigned)(q->digits[i] - '0') * m + carry;

		q->digits[i] = (char)('0' + d % 10);
		carry = d / 10;
	}
	while (carry) {
		if (q->nd + 1 >= (int)sizeof(q->digits))
			return false;
		memmove(q->digits + 1, q->digits, (size_t)q->nd);
		q->digits[0] = (char)('0' + carry % 10);
		carry /= 10;
		q->nd++;
	}
	return true;
}

static void normalize(struct kt_quantity *q)
{
	int lead = 0;

	while (lead < q->nd && q->digits[lead] == '0')
		lead++;
	memmove(q->digits, q->digits + lead, (size_t)(q->nd - lead));
	q->nd -= lead;
	while (q->nd && q->digits[q->nd - 1] == '0') {
		q->nd--;
		q->exp10++;
	}
	if (!q->nd) {
		q->neg = false;
		q->exp10 = 0;
	}
	q->digits[q->nd] = '\0';
}

bool kt_quantity_parse(const char *s, struct kt_quantity *q)
{
	static const struct {
		const char *suffix;
		int exp10, pow1024;
	} suffixes[] = {
		{ "", 0, 0 },   { "n", -9, 0 }, { "u", -6, 0 }, { "m", -3, 0 },
		{ "k", 3, 0 },  { "M", 6, 0 },  { "G", 9, 0 },  { "T", 12, 0 },
		{ "P", 15, 0 }, { "E", 18, 0 }, { "Ki", 0, 1 }, { "Mi", 0, 2 },
		{ "Gi", 0, 3 }, { "Ti", 0, 4 }, { "Pi", 0, 5 }, { "Ei", 0, 6 },
	};
	const char *p = s;
	int frac = 0, digits = 0, i, pow1024 = -1;
	long exp10 = 0;

	memset(q, 0, sizeof(*q));
	if (strlen(s) > 64)
		return false;
	if (*p == '+' || *p == '-')
		q->neg = *p++ == '-';
	for (; (*p >= '0' && *p <= '9') || *p == '.'; p++) {
		if (*p == '.') {
			if (frac)
				return false;
			frac = 1;
			continue;
		}
		q->digits[q->nd++] = *p;
		digits++;
		if (frac)
			exp10--;
	}
	if (!digits)
		return false;
	for (i = 0; i < (int)(sizeof(suffixes) / sizeof(suffixes[0])); i++)
		if (!strcmp(p, suffixes[i].suffix)) {
			exp10 += suffixes[i].exp10;
			pow1024 = suffixes[i].pow1024;
			break;
		}
	if (pow1024 < 0) {
		/* e/E and a signed 32-bit integer, as apimachinery reads it */
		const char *e = p + 1;
		long long v = 0;

		if (*p != 'e' && *p != 'E')
			return false;
		if (*e == '+' || *e == '-')
			e++;
		if (!*e)
			return false;
		for (; *e; e++) {
			if (*e < '0' || *e > '9')
				return false;
			v = v * 10 + (*e - '0');
			if (v > INT_MAX)
				return false;
		}
		exp10 += p[1] == '-' ? -v : v;
		pow1024 = 0;
	}
	q->exp10 = exp10;
	for (i = 0; i < pow1024; i++)
		if (!mul_small(q, 1024))
			return false;
	normalize(q);
	return true;
}

int kt_quantity_cmp(const struct kt_quantity *a, const struct kt_quantity *b)
{
	int sa = a->nd ? (a->neg ? -1 : 1) : 0, sb = b->nd ? (b->neg ? -1 : 1) : 0;
	long ea, eb;
	int i, c = 0;

	if (sa != sb)
		return sa < sb ? -1 : 1;
	if (!sa)
		return 0;
	/* same sign: compare magnitudes by their leading digit's position */
	ea = a->exp10 + a->nd;
	eb = b->exp10 + b->nd;
	if (ea != eb)
		c = ea < eb ? -1 : 1;
	else {
		for (i = 0; i < a->nd && i < b->nd && !c; i++)
			c = (a->digits[i] > b->digits[i]) - (a->digits[i] < b->digits[i]);
		if (!c)
			c = (a->nd > b->nd) - (a->nd < b->nd);
	}
	return sa < 0 ? -c : c;
}

bool kt_quantity_is_integer(const struct kt_quantity *q)
{
	return !q->nd || q->exp10 >= 0;
}

/* ---------------------------------------------------------- resource names */

static const char *const quota_std[] = {
	"configmaps",
	"cpu",
	"ephemeral-storage",
	"limits.cpu",
	"limits.ephemeral-storage",
	"limits.memory",
	"memory",
	"persistentvolumeclaims",
	"pods",
	"replicationcontrollers",
	"requests.cpu",
	"requests.ephemeral-storage",
	"requests.memory",
	"requests.storage",
	"resourcequotas",
	"secrets",
	"services",
	"services.loadbalancers",
	"services.nodeports",
};

static const char *const quota_counts[] = {
	"configmaps",
	"persistentvolumeclaims",
	"pods",
	"replicationcontrollers",
	"resourcequotas",
	"secrets",
	"services",
	"services.loadbalancers",
	"services.nodeports",
};

static bool in(const char *s, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(s, v[i]))
			return true;
	return false;
}

#define IN(s, v) in(s, v, sizeof(v) / sizeof(v[0]))

static bool hugepages(const char *s)
{
	struct kt_quantity q;

	return !strncmp(s, "hugepages-", 10) && kt_quantity_parse(s + 10, &q) && q.nd && !q.neg;
}

const char *kt_quota_name_problem(const char *name)
{
	if (strchr(name, '/'))
		return kt_is_qualified_name(name) ? NULL : "is not a valid qualified resource name";
	if (IN(name, quota_std) || hugepages(name) ||
	    (!strncmp(name, "requests.", 9) && hugepages(name + 9)))
		return NULL;
	return "is not a resource a ResourceQuota can limit";
}

const char *kt_quota_suggest(const char *name)
{
	return kt_suggest(name, quota_std, sizeof(quota_std) / sizeof(quota_std[0]));
}

bool kt_quota_is_count(const char *name)
{
	return IN(name, quota_counts) || !strncmp(name, "count/", 6);
}

const char *kt_limit_name_problem(const char *name)
{
	static const char *const std[] = { "cpu", "ephemeral-storage", "memory" };

	if (strchr(name, '/'))
		return kt_is_qualified_name(name) ? NULL : "is not a valid qualified resource name";
	if (IN(name, std) || hugepages(name))
		return NULL;
	return "is not a container resource (cpu, memory, ephemeral-storage, hugepages-<size> "
	       "or an extended resource such as 'nvidia.com/gpu')";
}

const char *kt_limit_suggest(const char *name)
{
	static const char *const std[] = { "cpu", "ephemeral-storage", "memory" };

	return kt_suggest(name, std, sizeof(std) / sizeof(std[0]));
}

/* ------------------------------------------------------------- git, flux */

static bool host_port(const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);
	size_t hn = colon ? (size_t)(colon - s) : n, i;
	char host[256];

	if (!hn || hn >= sizeof(host))
		return false;
	memcpy(host, s, hn);
	host[hn] = '\0';
	for (i = 0; i < hn; i++)
		host[i] = (char)tolower((unsigned char)host[i]);
	if (!subdomain_n(host, hn) && !kt_is_ip_literal(host))
		return false;
	if (colon) {
		size_t pl = n - hn - 1;
		long port = 0;

		if (!pl || pl > 5)
			return false;
		for (i = 0; i < pl; i++) {
			if (colon[1 + i] < '0' || colon[1 + i] > '9')
				return false;
			port = port * 10 + (colon[1 + i] - '0');
		}
		if (port < 1 || port > 65535)
			return false;
	}
	return true;
}

static bool no_space(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* user@ (optional), host[:port], then a non-empty /path */
static bool url_rest(const char *s)
{
	const char *at, *slash = strchr(s, '/');

	if (!slash || !slash[1])
		return false;
	at = memchr(s, '@', (size_t)(slash - s));
	if (at) {
		if (at == s)
			return false;
		s = at + 1;
	}
	return host_port(s, (size_t)(slash - s));
}

bool kt_is_git_url(const char *s)
{
	if (!no_space(s) || strlen(s) > 2048)
		return false;
	if (!strncmp(s, "https://", 8))
		return url_rest(s + 8);
	if (!strncmp(s, "ssh://", 6))
		return url_rest(s + 6);
	if (!strncmp(s, "git@", 4)) {
		/* scp-like: git@host:path (no port in this form) */
		const char *colon = strchr(s + 4, ':');

		return colon && colon[1] && colon[1] != '/' &&
		       host_port(s + 4, (size_t)(colon - s - 4));
	}
	return false;
}

bool kt_is_https_url(const char *s)
{
	const char *host = s + 8;

	if (strncmp(s, "https://", 8) || !no_space(s) || strlen(s) > 2048)
		return false;
	return !strchr(host, '@') && host_port(host, strcspn(host, "/?#"));
}

bool kt_is_git_ref(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n > 255 || s[0] == '/' || s[0] == '-' || s[0] == '.' || s[n - 1] == '/' ||
	    s[n - 1] == '.' || strstr(s, "..") || strstr(s, "@{") || strstr(s, "//") ||
	    strstr(s, "/.") || (n >= 5 && !strcmp(s + n - 5, ".lock")) || !strcmp(s, "@"))
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f || strchr("~^:?*[\\", s[i]))
			return false;
	return true;
}

bool kt_is_duration(const char *s)
{
	bool nonzero = false;

	if (!*s || strlen(s) > 32)
		return false;
	while (*s) {
		bool digits = false;

		for (; *s >= '0' && *s <= '9'; s++) {
			digits = true;
			nonzero |= *s != '0';
		}
		if (*s == '.') {
			for (s++; *s >= '0' && *s <= '9'; s++) {
				digits = true;
				nonzero |= *s != '0';
			}
		}
		if (!digits)
			return false;
		if (!strncmp(s, "ms", 2))
			s += 2;
		else if (*s == 's' || *s == 'm' || *s == 'h')
			s++;
		else
			return false;
	}
	return nonzero;
}

bool kt_is_repo_path(const char *s)
{
	const char *p = s;

	if (!*s || *s == '/' || strlen(s) > 1024 || kt_has_ctl(s, strlen(s)))
		return false;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p += len;
		if (*p == '/')
			p++;
	}
	return true;
}

bool kt_is_ec2_type(const char *s)
{
	const char *dot = strchr(s, '.');
	size_t n = strlen(s), i;

	if (!dot || n > 64 || dot == s || !dot[1] || strchr(dot + 1, '.') || s[0] < 'a' ||
	    s[0] > 'z')
		return false;
	for (i = 0; i < n; i++)
		if (!lower_alnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

/* [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*: a repository path component */
static bool repo_component(const char *s, size_t n)
{
	size_t i;

	if (!n || !lower_alnum((unsigned char)s[0]) || !lower_alnum((unsigned char)s[n - 1]))
		return false;
	for (i = 1; i < n; i++) {
		if (lower_alnum((unsigned char)s[i]))
			continue;
		if (s[i] == '.' && s[i + 1] != '.' && s[i + 1] != '_' && s[i + 1] != '-')
			continue;
		if (s[i] == '_' && (lower_alnum((unsigned char)s[i + 1]) ||
				    (s[i + 1] == '_' && lower_alnum((unsigned char)s[i + 2])))) {
			if (s[i + 1] == '_')
				i++;
			continue;
		}
		if (s[i] == '-') {
			while (s[i + 1] == '-')
				i++;
			if (lower_alnum((unsigned char)s[i + 1]))
				continue;
		}
		return false;
	}
	return true;
}

bool kt_is_registry(const char *s)
{
	const char *slash = strchr(s, '/');
	size_t n = strlen(s);

	if (!n || n > 255 || !no_space(s))
		return false;
	if (!host_port(s, slash ? (size_t)(slash - s) : n))
		return false;
	for (size_t i = 0; i < (slash ? (size_t)(slash - s) : n); i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return false;
	while (slash) {
		const char *p = slash + 1, *next = strchr(p, '/');

		if (!repo_component(p, next ? (size_t)(next - p) : strlen(p)))
			return false;
		slash = next;
	}
	return true;
}

bool kt_is_image_ref(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n > 255 || strstr(s, "://") || s[0] == '/' || s[0] == ':' || s[0] == '@')
		return false;
	for (i = 0; i < n; i++)
		if (!alnum((unsigned char)s[i]) && !strchr("._-/:@", s[i]))
			return false;
	return true;
}

/* ------------------------------------------------------------- suggestions */

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/*
 * Optimal string alignment distance: insertions, deletions, substitutions
 * and swaps of two neighbours ("spto" -> "spot") cost one each.
 */
size_t kt_edit_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t rows[3][65], *prev2 = rows[0], *prev = rows[1], *cur = rows[2];

	if (la > 64 || lb > 64)
		return cap + 1;
	if ((la > lb ? la - lb : lb - la) > cap)
		return cap + 1;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		size_t best, *t;

		cur[0] = best = i;
		for (j = 1; j <= lb; j++) {
			int ca = lower((unsigned char)a[i - 1]),
			    cb = lower((unsigned char)b[j - 1]);
			size_t v = prev[j - 1] + (ca != cb);

			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && ca == lower((unsigned char)b[j - 2]) &&
			    lower((unsigned char)a[i - 2]) == cb && prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
			if (v < best)
				best = v;
		}
		/* rows only grow from here on, bar a swap one row later */
		if (best > cap + 1)
			return cap + 1;
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb] > cap ? cap + 1 : prev[lb];
}

const char *kt_suggest(const char *s, const char *const *cand, size_t n)
{
	const char *best = NULL;
	size_t i, best_d = SIZE_MAX;

	for (i = 0; i < n; i++) {
		size_t len = strlen(cand[i]);
		size_t cap = len < 3 ? 1 : len / 3;
		size_t d = kt_edit_distance(s, cand[i], cap);

		if (d <= cap && d < best_d && strcmp(s, cand[i])) {
			best = cand[i];
			best_d = d;
		}
	}
	return best;
}
