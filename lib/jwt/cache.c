/*
 * cache.c: verified tokens, so a busy kubectl session pays one signature
 * check per token instead of one per request.
 *
 * Keyed by SHA-256 of the whole token: a hit means the caller presented the
 * exact bytes that were verified before.  The token is never kept in memory
 * longer than the request.  A direct-mapped table was chosen over an LRU
 * list: fixed memory, O(1), and a collision only costs one re-verification.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include "kt/jwt.h"

struct slot {
	unsigned char digest[SHA256_DIGEST_LENGTH];
	bool used;
	struct kt_identity id;
};

struct kt_jwt_cache {
	pthread_mutex_t lock;
	size_t mask;
	struct slot slots[];
};

struct kt_jwt_cache *kt_jwt_cache_new(size_t slots)
{
	struct kt_jwt_cache *c;
	size_t n = 1;

	while (n < slots && n < ((size_t)1 << 20))
		n <<= 1;
	c = calloc(1, sizeof(*c) + n * sizeof(c->slots[0]));
	if (!c)
		return NULL;
	c->mask = n - 1;
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

void kt_jwt_cache_free(struct kt_jwt_cache *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i <= c->mask; i++)
		kt_identity_release(&c->slots[i].id);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static struct slot *lookup(struct kt_jwt_cache *c, const char *token, size_t len,
			   unsigned char *digest)
{
	size_t idx;

	SHA256((const unsigned char *)token, len, digest);
	memcpy(&idx, digest, sizeof(idx));
	return &c->slots[idx & c->mask];
}

bool kt_jwt_cache_get(struct kt_jwt_cache *c, const char *token, size_t len, long long now,
		      struct kt_identity *out)
{
	unsigned char digest[SHA256_DIGEST_LENGTH];
	struct slot *s;
	bool hit = false;

	if (!c)
		return false;
	s = lookup(c, token, len, digest);
	pthread_mutex_lock(&c->lock);
	if (s->used && !CRYPTO_memcmp(s->digest, digest, sizeof(digest))) {
		if (now < s->id.exp) {
			hit = kt_identity_copy(out, &s->id) == KT_OK;
		} else {
			kt_identity_release(&s->id);
			s->used = false;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

void kt_jwt_cache_put(struct kt_jwt_cache *c, const char *token, size_t len,
		      const struct kt_identity *id)
{
	unsigned char digest[SHA256_DIGEST_LENGTH];
	struct kt_identity copy = { 0 };
	struct slot *s;

	if (!c || kt_identity_copy(&copy, id))
		return;
	s = lookup(c, token, len, digest);
	pthread_mutex_lock(&c->lock);
	kt_identity_release(&s->id);
	memcpy(s->digest, digest, sizeof(digest));
	s->id = copy;
	s->used = true;
	pthread_mutex_unlock(&c->lock);
}
