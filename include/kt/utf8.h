/*
 * utf8.h: one UTF-8 decoder for the whole program.
 *
 * Every input is hostile and every output must be valid UTF-8 (JSON
 * readers and YAML reject anything else), so several places step through
 * UTF-8 by hand: they share this one definition of "valid".
 */
#ifndef KT_UTF8_H
#define KT_UTF8_H

#include <stddef.h>

/*
 * The sequence at p (avail > 0 bytes): its length (1 to 4) with its code
 * point in *cp, or 0 when it is not valid UTF-8 (a continuation or
 * invalid lead byte, truncated, overlong, a surrogate, beyond U+10FFFF).
 * An ASCII byte, control characters included, is a sequence of length 1.
 */
size_t kt_utf8_decode(const unsigned char *p, size_t avail, unsigned long *cp);

#endif
