# Sourced by scripts/images.sh: what the images are called, for which
# platforms, and where buildah keeps them. scripts/test_images.py names the
# same images, store and paid-app tag (its IMAGES, STORE, PAID_APP): keep the
# two in step; its tests fail on an image it cannot find.

# The images built from dist/, one Dockerfile each: docker/Dockerfile.NAME.
IMAGES=(entitled entitled-meter entitled-emulator)
# OCI platform architectures (TARGETARCH), in release order.
IMAGE_ARCHES=(amd64 arm64)
# Where the published images live; the images' org.opencontainers.image.source.
IMAGE_SOURCE=https://github.com/entitled-rs/entitled
# The paid-app example, built for the host only, kept in the store.
PAID_APP_IMAGE=localhost/paid-app-example:latest

IMAGES_WORK=${CARGO_TARGET_DIR:-$ROOT/target}/images
IMAGES_STORE=$IMAGES_WORK/store

case $(uname -m) in
  x86_64) HOST_ARCH=amd64 ;;
  aarch64) HOST_ARCH=arm64 ;;
  *) echo "error: images are built on x86_64 or aarch64 hosts, not $(uname -m)" >&2; exit 1 ;;
esac

# buildah with its whole store under $1: runs stay independent of each other
# and of /var/lib/containers.
bah() {
  local store=$1
  shift
  buildah --root "$store/root" --runroot "$store/run" --storage-driver vfs "$@"
}

# The workspace's version, which every binary and image carries.
image_version() {
  python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["workspace"]["package"]["version"])' "$ROOT/Cargo.toml"
}

# amd64 -> x86_64, arm64 -> aarch64: the architecture in dist/'s file names.
oci_to_uname() {
  case $1 in
    amd64) echo x86_64 ;;
    arm64) echo aarch64 ;;
    *) echo "error: no release binaries for linux/$1" >&2; return 1 ;;
  esac
}
