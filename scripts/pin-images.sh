#!/usr/bin/env bash
# pin-images.sh pins every third-party image Logbook runs or builds from to
# its registry digest: the `image:` lines of docker-compose.yml and the FROM
# lines of the Dockerfile become name:tag@sha256:… . Run it with Docker and
# registry access whenever a tag is bumped, review the diff, and commit it.
#
#   scripts/pin-images.sh            # rewrite both files
#   scripts/pin-images.sh --check    # exit 1 if any image is not pinned yet
#
# The digest is the tag's manifest list (index) digest, as
# `docker buildx imagetools inspect` reports it, so every platform stays
# pinned. A line already pinned is resolved again from its tag and updated.
set -euo pipefail

cd "$(dirname "$0")/.."
files=(docker-compose.yml Dockerfile)

# refs prints every image reference of the two files, once each: compose's
# `image:` values (except the locally built logbook image) and the
# Dockerfile's FROM images (not build stages).
refs() {
  {
    sed -nE 's/^[[:space:]]*image:[[:space:]]*"?([^"[:space:]]+)"?.*/\1/p' docker-compose.yml
    sed -nE 's/^FROM[[:space:]]+(--platform=[^[:space:]]+[[:space:]]+)?([^[:space:]]+).*/\2/p' Dockerfile
  } | grep -v '^logbook:' | sort -u
}

if [ "${1:-}" = "--check" ]; then
  unpinned=$(refs | grep -v '@sha256:[0-9a-f]\{64\}$' || true)
  if [ -n "$unpinned" ]; then
    printf 'pin-images: not pinned by digest:\n%s\n' "$unpinned" >&2
    exit 1
  fi
  echo "pin-images: every image is pinned" >&2
  exit 0
fi

command -v docker >/dev/null 2>&1 || { echo "pin-images: docker is required" >&2; exit 1; }
docker buildx version >/dev/null 2>&1 || { echo "pin-images: docker buildx is required (imagetools inspect)" >&2; exit 1; }

for ref in $(refs); do
  tagged=${ref%@sha256:*}
  digest=$(docker buildx imagetools inspect "$tagged" | awk '$1 == "Digest:" { print $2; exit }')
  case "$digest" in
    sha256:[0-9a-f]*) ;;
    *) echo "pin-images: no digest for $tagged" >&2; exit 1 ;;
  esac
  pinned="$tagged@$digest"
  if [ "$pinned" != "$ref" ]; then
    for f in "${files[@]}"; do
      # Exact, literal replacement of the reference, followed by a space, a
      # quote or the end of the line (# cannot occur in a reference).
      esc_from=$(printf '%s' "$ref" | sed 's/[.[\*^$]/\\&/g')
      sed -i "s#$esc_from\([[:space:]\"]\\|\$\)#$pinned\1#g" "$f"
    done
  fi
  echo "pin-images: $pinned" >&2
done
"$0" --check
