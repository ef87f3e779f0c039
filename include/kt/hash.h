/*
 * hash.h: a fast, non-cryptographic hash of bytes.
 */
#ifndef KT_HASH_H
#define KT_HASH_H

#include <stddef.h>
#include <stdint.h>

/*
 * FNV-1a over n bytes, continuing from h (0 to start): tells a file whose
 * bytes did not change from one that did, nothing more (not for secrets).
 */
uint64_t kt_hash_bytes(const void *data, size_t n, uint64_t h);

#endif
