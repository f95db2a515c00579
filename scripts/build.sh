#!/usr/bin/env bash
# build.sh builds the logbook binaries with the version stamped in, so that
# `logbook version`, /openapi.json and logbook_build_info say which build runs.
#
#   scripts/build.sh                 # bin/logbook and bin/logbook-bench
#   scripts/build.sh image [TAG]     # the Docker image (default tag logbook:VERSION), same stamps
#
# The version is `git describe --tags --always --dirty` (a tag, or the
# commit, "-dirty" when the tree has uncommitted changes); the revision is the
# full commit hash and the date the build's UTC time. Outside a git checkout
# set VERSION (and REVISION) yourself; otherwise the binary says it is not
# stamped rather than pass for a release.
#
# Environment:
#   OUT        where binaries go (default bin)
#   VERSION    override the version
#   REVISION   override the revision
#   GOFLAGS    passed through to go build
set -euo pipefail

cd "$(dirname "$0")/.."

if [ -z "${VERSION:-}" ] && git rev-parse --git-dir >/dev/null 2>&1; then
  VERSION=$(git describe --tags --always --dirty)
fi
if [ -z "${REVISION:-}" ] && git rev-parse --git-dir >/dev/null 2>&1; then
  REVISION=$(git rev-parse HEAD)
  if [ -n "$(git status --porcelain --untracked-files=no)" ]; then REVISION="$REVISION-dirty"; fi
fi
VERSION=${VERSION:-}
REVISION=${REVISION:-}
BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
if [ -z "$VERSION" ]; then
  echo "build: warning: not a git checkout and VERSION is unset: the binary will say it is not stamped" >&2
fi
LDFLAGS="-s -w -X main.version=$VERSION -X main.revision=$REVISION -X main.buildDate=$BUILD_DATE"

case "${1:-}" in
  "")
    OUT=${OUT:-bin}
    mkdir -p "$OUT"
    for cmd in logbook logbook-bench; do
      CGO_ENABLED=0 go build -trimpath -ldflags "$LDFLAGS" -o "$OUT/$cmd" "./cmd/$cmd"
    done
    echo "build: $OUT/logbook $VERSION ($REVISION)" >&2
    ;;
  image)
    TAG=${2:-logbook:${VERSION:-dev}}
    docker build --build-arg VERSION="$VERSION" --build-arg REVISION="$REVISION" \
      --build-arg BUILD_DATE="$BUILD_DATE" -t "$TAG" .
    echo "build: image $TAG ($VERSION)" >&2
    ;;
  *)
    echo "usage: scripts/build.sh [image [TAG]]" >&2
    exit 2
    ;;
esac
