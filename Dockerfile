# The kubetenant image: the webhook (`kubetenant serve`) and the proxy
# (`kubetenant proxy`) run from it; the rendered Deployments pass the
# subcommand and its flags as args.
#
#   docker build -t kubetenant/kubetenant:0.1.0 .
#   make image     (no engine: buildah from Debian, then checks the image; see README)

# Build stage: the -dev packages of the Makefile's PKGS (test/e2e/t4060 checks
# both package lists against the Makefile and the built binary).
FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config \
      libfyaml-dev libyaml-dev libjansson-dev libssl-dev libmicrohttpd-dev libgnutls28-dev \
      libcjose-dev libcurl4-openssl-dev libsimdjson-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make -j"$(nproc)" && install -Dm755 build/kubetenant /out/kubetenant

# Runtime: the shared libraries only, no compiler, no shell tools added.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
      libfyaml0 libyaml-0-2 libjansson4 libssl3 libmicrohttpd12 libgnutls30 libcjose0 libcurl4 \
      libsimdjson14 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/kubetenant /usr/bin/kubetenant
# non-root (matches runAsUser in the rendered Deployments); nothing is written
# at run time, so the root filesystem can be mounted read-only
USER 65532:65532
EXPOSE 8443 9090
ENTRYPOINT ["/usr/bin/kubetenant"]
CMD ["--help"]
