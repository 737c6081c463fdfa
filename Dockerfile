# syntax=docker/dockerfile:1
# The toxiproxy-server image: a drop-in for the reference ghcr.io/shopify/toxiproxy, built from this package.
#
#   docker build -t registry.example.com/swift-toxiproxy:TAG .
#   docker run -p 8474:8474 -v "$PWD/toxiproxy.json:/config/toxiproxy.json:ro" registry.example.com/swift-toxiproxy:TAG \
#       -host=0.0.0.0 -config=/config/toxiproxy.json
#
# As the reference image: the entry point is the server, the default arguments are -host=0.0.0.0, LOG_LEVEL=info,
# port 8474 exposed; -config reads a mounted file (toxictl mounts its ConfigMap at /config/toxiproxy.json).
# Unlike it: a non-root user (65532:65532, what toxictl's Deployment sets), and no CLI inside (toxictl runs
# outside the cluster). No Docker engine runs in CI: scripts/image-check builds the same binary with the same
# command and runs it in a debootstrap'd bookworm root, as this image's runtime stage would (see the README).

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---- builder: the Swift toolchain on the same Debian release (and so the same glibc) as the runtime ----
FROM ${SWIFT_IMAGE} AS build
WORKDIR /src
# Dependencies first, so a change to the sources does not fetch them again.
COPY Package.swift ./
RUN swift package resolve
COPY . .
# The Swift runtime and Foundation linked in; only glibc, libstdc++ and libgcc_s stay shared (see image-check).
# strip --strip-debug drops the DWARF (about 23 MB) and keeps the symbol table, so a crash's backtrace still names
# its functions.
RUN swift build -c release --static-swift-stdlib --product toxiproxy-server \
 && install -D -m 0755 "$(swift build -c release --static-swift-stdlib --show-bin-path)/toxiproxy-server" \
        /staging/usr/local/bin/toxiproxy-server \
 && strip --strip-debug /staging/usr/local/bin/toxiproxy-server

# ---- runtime: Debian bookworm-slim ----
# Why not FROM scratch (the reference's choice: its Go binary is fully static) or distroless: a
# --static-swift-stdlib binary still needs glibc, libstdc++ and libgcc_s from the system, and bookworm-slim is
# the builder's own Debian release with exactly those, kept up to date by Debian's security updates. It is what
# scripts/image-check can prove without Docker: `debootstrap --variant=minbase bookworm` makes the same base.
FROM ${RUNTIME_IMAGE}
RUN groupadd --gid 65532 toxiproxy && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin toxiproxy \
 && mkdir -p /config
COPY --from=build /staging/usr/local/bin/toxiproxy-server /usr/local/bin/toxiproxy-server
# The reference image's entry point path, for manifests that name it in `command:`.
RUN ln -s /usr/local/bin/toxiproxy-server /toxiproxy
# Nothing is written at run time: the image runs with a read-only root filesystem.
USER 65532:65532
ENV LOG_LEVEL=info
EXPOSE 8474
ENTRYPOINT ["/usr/local/bin/toxiproxy-server"]
CMD ["-host=0.0.0.0"]
