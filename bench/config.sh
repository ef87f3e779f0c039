#!/usr/bin/env bash
# Loading a tenants file (1,000 and 10,000 tenants) against libfyaml alone
# reading the same text: the part kubetenant adds is the ratio.
set -eu
"$BUILD/bench/bench_config"
