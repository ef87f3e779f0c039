#!/usr/bin/env bash
# Pod Security evaluation throughput (bench/bench_pss.c), against json_loadb()
# of the same pod measured in the same run.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
KT_SHARED=${KT_SHARED:-$(cd .. && pwd)/shared}
exec "$BUILD/bench/bench_pss" "$KT_SHARED/conformance/pod-security/testdata/restricted/v1.37/pass/base.yaml"
