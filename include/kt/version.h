/* version.h: one version for the binary and its default image. */
#ifndef KT_VERSION
#define KT_VERSION "0.1.0"
#endif
