/*
 * loopback.c: the redirect of the authorization code flow, received on
 * http://127.0.0.1:PORT/callback (RFC 8252 7.3), and the browser.
 *
 * Only the loopback address is bound, the port is the kernel's choice, and
 * a callback whose state differs is refused and does not end the wait: a
 * page that guesses the port cannot inject its own code.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "internal.h"

int kt_login_loopback_open(int *port, struct kt_err *err)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 8) ||
	    getsockname(fd, (struct sockaddr *)&a, &alen)) {
		kt_err_set(err, KT_E_IO, "cannot listen on 127.0.0.1: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static int hex(int c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* The decoded value of `name` in a query string (NULL if absent or not clean text). */
static char *param(const char *q, const char *name)
{
	size_t n = strlen(name);
	const char *p = q;

	while (p && *p) {
		const char *end = p + strcspn(p, "&");

		if ((size_t)(end - p) > n && !strncmp(p, name, n) && p[n] == '=') {
			char *out = malloc((size_t)(end - p)), *o = out;

			for (p += n + 1; out && p < end; p++) {
				int c = (unsigned char)*p;

				if (c == '%' && end - p > 2 && hex(p[1]) >= 0 && hex(p[2]) >= 0) {
					c = hex(p[1]) * 16 + hex(p[2]);
					p += 2;
				} else if (c == '+') {
					c = ' ';
				}
				if (c < 0x20 || c == 0x7f) { /* no control bytes, no NUL */
					free(out);
					return NULL;
				}
				*o++ = (char)c;
			}
			if (out)
				*o = '\0';
			return out;
		}
		p = *end ? end + 1 : NULL;
	}
	return NULL;
}

static void answer(int fd, const char *status, const char *text)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf),
			 "HTTP/1.1 %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
			 "Cache-Control: no-store\r\nConnection: close\r\n"
			 "Content-Length: %zu\r\n\r\n%s",
			 status, strlen(text), text);

	/* MSG_NOSIGNAL: a browser that hung up must not kill us with SIGPIPE */
	if (n > 0 && send(fd, buf, (size_t)n, MSG_NOSIGNAL) < 0)
		return;
}

/* Read the request line of one connection; 1 when it is a complete GET /callback. */
static int read_callback(int c, char *req, size_t size, const char **query)
{
	size_t len = 0;
	char *eol, *sp;
	struct pollfd p = { .fd = c, .events = POLLIN };

	while (len + 1 < size) {
		ssize_t r;

		if (poll(&p, 1, 5000) != 1)
			return 0;
		r = read(c, req + len, size - 1 - len);
		if (r <= 0)
			return 0;
		len += (size_t)r;
		req[len] = '\0';
		if (strstr(req, "\r\n"))
			break;
	}
	eol = strstr(req, "\r\n");
	if (!eol || strncmp(req, "GET /callback", 13) || (req[13] != '?' && req[13] != ' '))
		return 0;
	*eol = '\0';
	sp = strchr(req + 4, ' ');
	if (!sp)
		return 0;
	*sp = '\0';
	*query = req[13] == '?' ? req + 14 : "";
	return 1;
}

enum kt_login_fail kt_login_loopback_wait(int fd, const char *state, long long deadline,
					  char **code, struct kt_err *err)
{
	static char req[KT_LOGIN_MAX_REQUEST];

	for (;;) {
		long long left = deadline - (long long)time(NULL);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		const char *q = NULL;
		char *got_state, *e;
		int c;

		if (left <= 0)
			return kt_err_set(err, KT_E_AUTH, "no answer from the browser in time"),
			       KT_LOGIN_EXPIRED;
		if (poll(&p, 1, (int)(left > 60 ? 60000 : left * 1000)) != 1)
			continue;
		c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		if (!read_callback(c, req, sizeof(req), &q)) {
			answer(c, "404 Not Found", "not found\n");
			close(c);
			continue;
		}
		got_state = param(q, "state");
		if (!got_state || strcmp(got_state, state)) {
			free(got_state);
			answer(c, "400 Bad Request", "this answer is for another login\n");
			close(c);
			continue;
		}
		free(got_state);
		e = param(q, "error");
		*code = e ? NULL : param(q, "code");
		if (e || !*code) {
			enum kt_login_fail f = e && !strcmp(e, "access_denied")
						       ? KT_LOGIN_DENIED
						       : KT_LOGIN_UNREACHABLE;

			answer(c, "403 Forbidden",
			       "kubetenant: the login was refused; see the terminal\n");
			close(c);
			kt_err_set(err, KT_E_AUTH, "the issuer answered '%.64s'",
				   e ? e : "no code");
			free(e);
			return f;
		}
		answer(c, "200 OK", "kubetenant: logged in; you can close this page.\n");
		close(c);
		return KT_LOGIN_OK;
	}
}

/*
 * Run `cmd URL` through sh (BROWSER may carry arguments), detached: a
 * browser that stays in the foreground must not keep us from accepting its
 * redirect.  Its output goes to /dev/null, away from the ExecCredential.
 */
bool kt_login_open_browser(const char *cmd, const char *url)
{
	pid_t pid;
	int status;

	if (!cmd || !*cmd)
		return false;
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		if (fork() == 0) {
			setsid();
			execl("/bin/sh", "sh", "-c", "exec $0 \"$1\"", cmd, url, (char *)NULL);
		}
		_exit(0);
	}
	return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && !WEXITSTATUS(status);
}
