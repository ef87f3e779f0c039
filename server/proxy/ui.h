/*
 * ui.h: the dashboard's files compiled into the binary
 * ($(BUILD)/gen/ui_assets.c, made by scripts/embed.sh from ui/).
 */
#ifndef KT_SERVER_PROXY_UI_H
#define KT_SERVER_PROXY_UI_H

#include <stddef.h>

struct kt_ui_asset {
	const char *name; /* "index.html"; NULL ends the table */
	const unsigned char *data;
	size_t len;
	const char *etag; /* quoted, from the content's SHA-256 */
};

extern const struct kt_ui_asset kt_ui_assets[];

#endif
