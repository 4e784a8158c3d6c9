# understudy container image: two stages on debian:bookworm-slim, the runtime stage holding
# only the runtime libraries. Build, run and check it with podman: make container-check
# (podman 4.3: no RUN heredocs; HEALTHCHECK is kept only with --format docker.)
# `apt-get clean` matters: the locally made base image has no docker-clean hook, and apt's
# package caches (/var/cache/apt/*.bin) would otherwise add about 78 MB to the image.

FROM debian:bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
        build-essential cmake pkg-config libcivetweb-dev liblmdb-dev libjansson-dev \
        libssl-dev \
    && apt-get clean && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DEMU_BUILD_TESTS=OFF \
    && cmake --build build -j"$(nproc)"

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
        libcivetweb1 liblmdb0 libjansson4 libssl3 \
    && apt-get clean && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/understudy /usr/local/bin/understudy
# The default fixtures are compiled in; this copy is the reference layout for --fixtures.
COPY fixtures /usr/share/understudy/fixtures
VOLUME /var/lib/understudy
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["understudy", "health", "http://127.0.0.1:8080"]
ENTRYPOINT ["understudy", "--listen", "0.0.0.0:8080", "--data-dir", "/var/lib/understudy"]
