/*
 * hash.c: FNV-1a, for "did these bytes change" (see kt/hash.h).
 */
#include "kt/hash.h"

uint64_t kt_hash_bytes(const void *data, size_t n, uint64_t h)
{
	const unsigned char *p = data;

	if (!h)
		h = 0xcbf29ce484222325ull; /* FNV-1a offset basis */
	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ull;
	}
	return h;
}
