/*
 * fuzz_config.c: tenants-file bytes -> kt_config_parse.  Must never crash,
 * leak or hang, whatever the bytes; a file it accepts must also survive
 * the lint and the lookups every consumer makes.
 */
#include <stdint.h>
#include <stdlib.h>
#include "kt/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_config *cfg = NULL;
	struct kt_diags diags = { 0 };
	size_t i;

	if (kt_config_parse((const char *)data, size, "fuzz.yaml", &cfg, &diags, NULL) == KT_OK) {
		struct kt_diags warnings = { 0 };

		if (diags.n)
			abort(); /* a valid file has no problems */
		kt_config_lint(cfg, &warnings);
		kt_diags_release(&warnings);
		for (i = 0; i < cfg->n_tenants; i++)
			if (kt_config_tenant_by_ns(cfg, cfg->tenants[i].name) != &cfg->tenants[i] ||
			    cfg->tenants[i].pool != kt_config_pool(cfg, cfg->tenants[i].node_pool))
				abort();
		kt_config_free(cfg);
	} else if (!diags.n && size <= KT_CONFIG_MAX_BYTES) {
		/* a refused file always says why, with a position */
		abort();
	}
	for (i = 0; i < diags.n; i++)
		if (diags.v[i].line < 1 || diags.v[i].col < 1 || !diags.v[i].msg[0])
			abort();
	kt_diags_release(&diags);
	return 0;
}
