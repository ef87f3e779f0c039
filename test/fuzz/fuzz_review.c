/*
 * fuzz_review.c: AdmissionReview bytes -> decision -> response.
 *
 * Besides "no crash, no leak, no undefined behaviour", five properties must
 * hold for every input: a decision is deterministic (the same bytes give the
 * same response twice), a review decoded by the caller gets the response
 * its bytes get (kt_policy_review_json, same bounds), every response is
 * valid JSON, a patch is a JSON array that applies to the request's
 * object, and the webhook's route only ever denies more.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kt/policy.h"
#include "../unit/policy_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void respond(const struct kt_config *cfg, const uint8_t *data, size_t size,
		    enum kt_policy_mode mode, struct kt_buf *out, struct kt_buf *patch,
		    bool decoded)
{
	struct kt_decision d;
	struct kt_err err;
	enum kt_rc rc;

	if (decoded) {
		json_t *j = json_loadb((const char *)data, size,
				       JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);

		if (!j)
			return; /* not JSON: the bytes got no response either */
		rc = kt_policy_review_json(cfg, j, mode, &d, &err);
		json_decref(j);
	} else {
		rc = kt_policy_review(cfg, (const char *)data, size, mode, &d, &err);
	}
	if (rc == KT_OK) {
		if (kt_policy_response(&d, out))
			abort();
		if (d.patch.len && kt_buf_add(patch, d.patch.buf, d.patch.len))
			abort();
	}
	kt_decision_release(&d);
}

/*
 * Through the webhook's route the engine may only deny more (a namespace
 * the file does not know), never allow what it denies without it, and a
 * known tenant is decided the same either way.
 */
static void routed(const struct kt_config *cfg, const uint8_t *data, size_t size)
{
	static const struct kt_review_route route = { .tenant_namespaces_only = true,
						      .generation = 7 };
	struct kt_decision d, r;
	struct kt_err err;
	enum kt_rc rc = kt_policy_review(cfg, (const char *)data, size, KT_POLICY_MUTATE, &d, &err);
	enum kt_rc rrc = kt_policy_review_routed(cfg, &route, (const char *)data, size,
						 KT_POLICY_MUTATE, &r, &err);

	if (rc != rrc || (rc == KT_OK && r.allowed && !d.allowed) ||
	    (rc == KT_OK && d.tenant &&
	     (r.allowed != d.allowed || r.n_denials != d.n_denials || r.patch.len != d.patch.len)))
		abort();
	kt_decision_release(&d);
	kt_decision_release(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct kt_config *cfg = kt_policy_fixture();
	struct kt_buf a = KT_BUF_INIT, b = KT_BUF_INIT, pa = KT_BUF_INIT, pb = KT_BUF_INIT;
	json_t *resp, *review, *obj;
	struct kt_err err;

	for (int m = 0; m < 2; m++) {
		enum kt_policy_mode mode = m ? KT_POLICY_VALIDATE : KT_POLICY_MUTATE;

		kt_buf_reset(&a);
		kt_buf_reset(&b);
		kt_buf_reset(&pa);
		kt_buf_reset(&pb);
		respond(cfg, data, size, mode, &a, &pa, false);
		respond(cfg, data, size, mode, &b, &pb, false);
		if (a.len != b.len || memcmp(a.buf, b.buf, a.len))
			abort(); /* not deterministic */
		if (size <= KT_POLICY_MAX_REVIEW_BYTES) {
			kt_buf_reset(&b);
			kt_buf_reset(&pb);
			respond(cfg, data, size, mode, &b, &pb, true);
			if (a.len != b.len || memcmp(a.buf, b.buf, a.len))
				abort(); /* decoded by the caller, decided differently */
		}
		if (!a.len)
			continue;
		resp = json_loadb(a.buf, a.len, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(resp))
			abort(); /* not valid JSON */
		json_decref(resp);
		if (!pa.len)
			continue;
		if (mode == KT_POLICY_VALIDATE)
			abort(); /* validating mode never patches */
		review = json_loadb((const char *)data, size, 0, NULL);
		obj = json_incref(json_object_get(json_object_get(review, "request"), "object"));
		if (obj && kt_policy_patch_apply(&obj, pa.buf, pa.len, &err))
			abort(); /* our own patch does not apply */
		json_decref(obj);
		json_decref(review);
	}
	routed(cfg, data, size);
	kt_buf_release(&a);
	kt_buf_release(&b);
	kt_buf_release(&pa);
	kt_buf_release(&pb);
	return 0;
}
