# syntax=docker/dockerfile:1
#
# The motcua image: the `motcua` binary alone on a distroless base (glibc,
# libgcc, and Debian's ca-certificates in /etc/ssl/certs, the system roots
# motcua trusts for the identity provider's HTTPS and for PostgreSQL's TLS;
# no shell, no package manager), running as the unprivileged user 10001.
#
#   docker build -t registry.tinh.gov.vn/motcua/motcua:0.1.0 .
#
# BuildKit (Docker 23+, or `DOCKER_BUILDKIT=1`) is required for the cache
# mounts below. See docs/operations.md.

ARG RUST_VERSION=1

# --- build -----------------------------------------------------------------
FROM rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src

# Dependencies first. Cargo needs every workspace member's manifest to
# resolve the lock file, so the whole tree is copied (see .dockerignore),
# but crates.io downloads and compiled dependencies live in cache mounts
# that outlive this layer: a change to motcua's code rebuilds motcua, not
# its ~400 dependencies.
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked --bin motcua \
 && install -D -m 0755 target/release/motcua /out/usr/local/bin/motcua \
 && mkdir -p /out/var/lib/motcua

# --- run -------------------------------------------------------------------
FROM gcr.io/distroless/cc-debian12:nonroot

ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="motcua" \
      org.opencontainers.image.description="Event-sourced, multi-tenant backend for administrative-procedure dossiers (một cửa)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"

COPY --from=builder /out/usr/local/bin/motcua /usr/local/bin/motcua
# A writable working directory for a local try-out (`serve --demo-data`
# keeps its SQLite file and development key there); in Kubernetes the root
# filesystem is read-only and PostgreSQL holds the data.
COPY --from=builder --chown=10001:10001 /out/var/lib/motcua /var/lib/motcua
WORKDIR /var/lib/motcua

USER 10001:10001
ENV MOTCUA_LISTEN=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/motcua"]
CMD ["serve"]
