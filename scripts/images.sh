#!/usr/bin/env bash
# The container images, built without Docker from the static binaries in dist/.
#
#   scripts/images.sh                         build the images from dist/
#   scripts/images.sh --verify-reproducible   build them twice, each time in a
#                                             fresh image store, and compare
#                                             the digests
#
# Run scripts/release.sh first: it fills dist/ with the static binaries. This
# script assembles the images from them, the way GoReleaser and ko do,
# instead of compiling inside a builder image:
#
#   entitled           the guard alone (docker/Dockerfile.entitled)
#   entitled-meter     the metering sidecar (docker/Dockerfile.entitled-meter)
#   entitled-emulator  the emulator for CI (docker/Dockerfile.entitled-emulator)
#
# each FROM scratch for linux/amd64 and linux/arm64, one manifest list per
# image, written as an OCI archive dist/images/NAME-VERSION.oci.tar. Beside
# each archive, NAME-VERSION.index.json is the manifest list itself, so its
# line in dist/SHA256SUMS is the image's digest (what `docker pull NAME@sha256:`
# names). Every timestamp is SOURCE_DATE_EPOCH (the commit's time), so the same
# dist/ gives the same digests.
#
# It also builds the paid-app example (docker/Dockerfile.paid-app-example)
# FROM the guard image, for this machine's architecture only, into the image
# store: its app is examples/handoff-verify built static here, and its init is
# Debian's tini-static (apt-get download tini), which is only at hand for the
# host's architecture.
#
# buildah (Debian's, as root) keeps its store under target/images/, never in
# /var/lib/containers. It is installed when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/lib/images_env.sh

usage() {
  echo "usage: scripts/images.sh [--verify-reproducible]" >&2
  exit 64
}

install_tools() {
  local missing=()
  command -v buildah >/dev/null 2>&1 || missing+=(buildah)
  command -v file >/dev/null 2>&1 || missing+=(file)
  if ((${#missing[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# The binary NAME for ARCH (x86_64, aarch64) from dist/, or a one-line error
# with the command that makes it.
dist_binary() {
  local name=$1 arch=$2 found
  found=$(find dist -maxdepth 1 -name "$name-[0-9]*-$arch-linux" | sort | tail -n 1)
  if [[ -z $found ]]; then
    echo "error: dist/ has no $name for $arch; run scripts/release.sh first" >&2
    return 1
  fi
  echo "$found"
}

# The Dockerfiles' build context: per TARGETARCH the binaries and their SBOMs,
# the licence notice, the key the paid-app example verifies with, and the
# sidecar's empty journal directory. Modes are set here, so the umask of
# whoever ran release.sh does not reach the layers.
stage_context() {
  local context=$1 image arch binary
  rm -rf "$context"
  mkdir -p "$context/journal" "$context/tests/fixtures"
  chmod 0755 "$context/journal"
  for image in "${IMAGES[@]}"; do
    for arch in "${IMAGE_ARCHES[@]}"; do
      mkdir -p "$context/$arch"
      binary=$(dist_binary "$image" "$(oci_to_uname "$arch")")
      install -m 0755 "$binary" "$context/$arch/$image"
      # The SBOM without indentation: the same document in two thirds of
      # the bytes, which keeps the guard image within the guard plus 64 KiB.
      python3 -c 'import json, sys; json.dump(json.load(open(sys.argv[1])), open(sys.argv[2], "w"), separators=(",", ":"))' \
        "$binary.cdx.json" "$context/$arch/$image.cdx.json"
      chmod 0644 "$context/$arch/$image.cdx.json"
    done
  done
  install -m 0644 dist/THIRD-PARTY-LICENSES.txt "$context/THIRD-PARTY-LICENSES.txt"
  install -m 0644 tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.public.pem \
    "$context/tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.public.pem"
}

# The paid-app example's two programs for the host architecture: the static
# hand-off verifier as the app, Debian's tini-static as init.
stage_paid_app() {
  local context=$1 arch=$HOST_ARCH target deb
  target=$(uname -m)-unknown-linux-musl
  cargo build --locked --release --target "$target" -p entitled-example-handoff-verify
  install -m 0755 "${CARGO_TARGET_DIR:-$ROOT/target}/$target/release/entitled-example-handoff-verify" \
    "$context/$arch/paid-app"
  mkdir -p "$IMAGES_WORK/tini"
  if ! ls "$IMAGES_WORK"/tini/tini_*.deb >/dev/null 2>&1; then
    # apt-get writes the download as the _apt user; the directory must let it.
    chmod 0777 "$IMAGES_WORK/tini"
    (cd "$IMAGES_WORK/tini" && { apt-get download -qq tini 2>/dev/null || { apt-get update -qq && apt-get download -qq tini; }; })
  fi
  rm -rf "$IMAGES_WORK/tini/root"
  dpkg-deb -x "$(ls "$IMAGES_WORK"/tini/tini_*.deb | tail -n 1)" "$IMAGES_WORK/tini/root"
  install -m 0755 "$IMAGES_WORK/tini/root/usr/bin/tini-static" "$context/$arch/tini-static"
}

# Builds every image into the store under $1, writing the archives to $2.
build_all() {
  local store=$1 out=$2 context=$IMAGES_WORK/context image arch version revision epoch
  revision=$(git rev-parse HEAD)
  epoch=$(git log -1 --format=%ct)
  version=$(image_version)
  rm -rf "$store" && mkdir -p "$store" "$out"
  stage_context "$context"
  for image in "${IMAGES[@]}"; do
    bah "$store" manifest create "$image:$version" >/dev/null
    for arch in "${IMAGE_ARCHES[@]}"; do
      bah "$store" bud --quiet --isolation chroot --platform "linux/$arch" \
        --timestamp "$epoch" --identity-label=false \
        --build-arg "VERSION=$version" --build-arg "REVISION=$revision" \
        --build-arg "SOURCE=$IMAGE_SOURCE" \
        --manifest "$image:$version" --tag "$image:$version-$arch" \
        -f "docker/Dockerfile.$image" "$context" >/dev/null
    done
    write_archive "$store" "$image" "$version" "$epoch" "$out"
  done
}

# The manifest list as an OCI layout, then a tar of it whose bytes depend on
# nothing but the layout's (names sorted, owner 0, mtime SOURCE_DATE_EPOCH).
write_archive() {
  local store=$1 image=$2 version=$3 epoch=$4 out=$5 layout index
  layout=$IMAGES_WORK/layout/$image
  rm -rf "$layout" && mkdir -p "$(dirname "$layout")"
  bah "$store" manifest push --quiet --all --format oci "$image:$version" "oci:$layout:$version" >/dev/null
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
    --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -C "$layout" -cf "$out/$image-$version.oci.tar" .
  index=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"].split(":")[1])' "$layout/index.json")
  cp "$layout/blobs/sha256/$index" "$out/$image-$version.index.json"
}

build_paid_app() {
  local store=$1 context=$IMAGES_WORK/context version
  version=$(image_version)
  stage_paid_app "$context"
  bah "$store" bud --quiet --isolation chroot --platform "linux/$HOST_ARCH" \
    --timestamp "$(git log -1 --format=%ct)" --identity-label=false \
    --build-arg "ENTITLED_IMAGE=localhost/entitled:$version-$HOST_ARCH" \
    --tag "$PAID_APP_IMAGE" -f docker/Dockerfile.paid-app-example "$context" >/dev/null
}

# dist/SHA256SUMS over everything in dist/, images included.
write_sums() {
  (cd dist && find . -type f ! -name SHA256SUMS -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum -- >SHA256SUMS)
}

# Each image's digest, size of its host-architecture instance and archive.
report() {
  local out=$1 image version digest
  version=$(image_version)
  echo
  for image in "${IMAGES[@]}"; do
    digest=$(sha256sum <"$out/$image-$version.index.json" | cut -d' ' -f1)
    printf '%-18s sha256:%s  %s (%s bytes)\n' "$image" "$digest" \
      "dist/images/$image-$version.oci.tar" "$(stat -c %s "$out/$image-$version.oci.tar")"
  done
}

verify_reproducible() {
  local a=$IMAGES_WORK/repro-a b=$IMAGES_WORK/repro-b image version failed=0
  version=$(image_version)
  build_all "$IMAGES_WORK/store-a" "$a"
  build_all "$IMAGES_WORK/store-b" "$b"
  for image in "${IMAGES[@]}"; do
    if cmp -s "$a/$image-$version.oci.tar" "$b/$image-$version.oci.tar"; then
      echo "reproducible: $image sha256:$(sha256sum <"$a/$image-$version.index.json" | cut -d' ' -f1)"
    else
      echo "error: $image differs between two builds from the same dist/:" >&2
      echo "  $(sha256sum <"$a/$image-$version.index.json" | cut -d' ' -f1) and $(sha256sum <"$b/$image-$version.index.json" | cut -d' ' -f1)" >&2
      failed=1
    fi
  done
  rm -rf "$IMAGES_WORK/store-a" "$IMAGES_WORK/store-b" "$a" "$b"
  return $failed
}

case ${1:-} in
  "")
    install_tools
    build_all "$IMAGES_STORE" dist/images
    build_paid_app "$IMAGES_STORE"
    write_sums
    report dist/images
    ;;
  --verify-reproducible) [[ $# == 1 ]] || usage; install_tools; verify_reproducible ;;
  *) usage ;;
esac
