# Logbook's container image: one static binary on distroless, run as nonroot.
# The same image runs every role: `serve` (the default), `worker`, `migrate`.
#
#   scripts/build.sh image          # stamps VERSION/REVISION/BUILD_DATE from git
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t logbook .
#   docker run --rm -p 8080:8080 -e DATABASE_URL=... -e REDIS_URL=... logbook
#
# Prompts and migrations are embedded in the binary, so nothing but the binary
# is copied into the runtime stage.

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Build with the image's Go; never download a toolchain mid-build.
ENV GOTOOLCHAIN=local CGO_ENABLED=0
# Dependencies first, so a source-only change reuses this layer.
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY . .
# .git is not in the build context (.dockerignore), so the version comes in
# as build arguments; scripts/build.sh image passes them from git. Without
# them `logbook version` says the build is not stamped.
ARG VERSION=""
ARG REVISION=""
ARG BUILD_DATE=""
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.revision=${REVISION} -X main.buildDate=${BUILD_DATE}" \
      -o /out/logbook ./cmd/logbook

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/logbook /logbook
USER nonroot:nonroot
# The binary's default (127.0.0.1:8080) would be unreachable from outside the
# container.
ENV HTTP_ADDR=:8080 WORKER_HTTP_ADDR=:9091
# A soft memory limit (Go's GC works harder as the heap nears it; it never
# kills the process). With it, 12 concurrent maximum-size transcripts back to
# back stay under 300 MB RSS; without it the sixth burst reached 420 MB
# (RELIABILITY.md). Raise it with the container's memory limit.
ENV GOMEMLIMIT=256MiB
EXPOSE 8080 9091
# The image has no shell or curl: `logbook healthcheck` GETs /readyz.
# (`logbook healthcheck -worker` for a worker container; compose sets it.)
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["/logbook", "healthcheck"]
ENTRYPOINT ["/logbook"]
CMD ["serve"]
