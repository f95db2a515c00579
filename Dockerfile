# Logbook's container image: one static binary on distroless, run as nonroot.
# The same image runs every role: `serve` (the default), `worker`, `migrate`.
#
#   docker build -t logbook .
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
RUN CGO_ENABLED=0 go build -trimpath -o /out/logbook ./cmd/logbook

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/logbook /logbook
USER nonroot:nonroot
# The binary's default (127.0.0.1:8080) would be unreachable from outside the
# container.
ENV HTTP_ADDR=:8080
EXPOSE 8080
ENTRYPOINT ["/logbook"]
CMD ["serve"]
