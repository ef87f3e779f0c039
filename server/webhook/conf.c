/*
 * conf.c: the tenants file in use, swapped without stopping requests.
 *
 * Each request takes a reference to the current file for as long as it
 * runs; a reload swaps the pointer under a mutex held for a few
 * instructions, and the file that was current is freed by whoever lets
 * go of it last (the reload itself when no request is using it).  The
 * simpler alternative, a read-write lock held across the decision, would
 * make a reload wait for every running request and every request wait
 * for the reload: a stall on exactly the path that must never stall.
 */
#include <stdlib.h>
#include "webhook.h"

void kt_conf_slot_init(struct kt_conf_slot *slot)
{
	pthread_mutex_init(&slot->lock, NULL);
	slot->cur = NULL;
	slot->generation = 0;
}

void kt_conf_release(struct kt_conf_ref *ref)
{
	if (ref && atomic_fetch_sub_explicit(&ref->refs, 1, memory_order_acq_rel) == 1) {
		kt_config_free(ref->cfg);
		free(ref);
	}
}

unsigned long kt_conf_slot_set(struct kt_conf_slot *slot, struct kt_config *cfg)
{
	struct kt_conf_ref *ref = calloc(1, sizeof(*ref)), *old;
	unsigned long gen;

	if (!ref) {
		kt_config_free(cfg);
		return 0;
	}
	ref->cfg = cfg;
	atomic_init(&ref->refs, 1); /* the slot's own reference */
	pthread_mutex_lock(&slot->lock);
	gen = ref->generation = ++slot->generation;
	old = slot->cur;
	slot->cur = ref;
	pthread_mutex_unlock(&slot->lock);
	kt_conf_release(old);
	return gen;
}

struct kt_conf_ref *kt_conf_acquire(struct kt_conf_slot *slot)
{
	struct kt_conf_ref *ref;

	pthread_mutex_lock(&slot->lock);
	ref = slot->cur;
	if (ref)
		atomic_fetch_add_explicit(&ref->refs, 1, memory_order_relaxed);
	pthread_mutex_unlock(&slot->lock);
	return ref;
}

void kt_conf_slot_release(struct kt_conf_slot *slot)
{
	kt_conf_release(slot->cur);
	slot->cur = NULL;
	pthread_mutex_destroy(&slot->lock);
}
