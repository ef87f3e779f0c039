/*
 * proxy.h: the proxy server's entry point, called by cmd/proxy.c.
 */
#ifndef KT_SERVER_PROXY_SERVE_H
#define KT_SERVER_PROXY_SERVE_H

#include "kt/err.h"
#include "kt/proxy.h"

/*
 * Run the proxy until SIGTERM or SIGINT; returns KT_OK after a graceful
 * shutdown, or the setup error (bad files, port in use) with err filled.
 * Logs JSON lines on stderr.  opts is borrowed for the whole run.
 */
enum kt_rc kt_proxy_serve(struct kt_proxy_opts *opts, struct kt_err *err);

#endif
