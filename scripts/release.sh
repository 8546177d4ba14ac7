#!/usr/bin/env bash
# Release artifacts for every shipped binary and architecture, without Docker.
#
#   scripts/release.sh                         build dist/
#   scripts/release.sh --verify-reproducible   build the current commit in two
#                                              fresh clones at different paths
#                                              and compare the binaries
#
# dist/ holds, per binary and architecture, NAME-VERSION-ARCH-linux (static
# musl, with its dependency list embedded by cargo auditable) and
# NAME-VERSION-ARCH-linux.cdx.json (CycloneDX SBOM); then
# THIRD-PARTY-LICENSES.txt for everything compiled in, and SHA256SUMS.
#
# Installs what it needs: rustup targets, Debian's aarch64 cross C compiler
# and cargo-auditable at a pinned version (all in scripts/lib/musl_build.sh).
# Needs root for apt-get only when the cross compiler is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/lib/musl_build.sh

# What ships: PACKAGE:BINARY, one line each.
BINARIES=(
  entitled-init:entitled
  entitled-meter:entitled-meter
  entitled-emulator:entitled-emulator
)
# The contract's size limit for the guard, in bytes.
GUARD_LIMIT=$((4 * 1024 * 1024))

usage() {
  echo "usage: scripts/release.sh [--verify-reproducible]" >&2
  exit 64
}

install_tools() {
  local target
  for target in "${MUSL_TARGETS[@]}"; do
    musl_install "$target"
  done
  musl_install_auditable
  command -v file >/dev/null || { echo "error: \`file\` is missing; apt-get install -y file" >&2; exit 1; }
}

# Everything that could differ between two checkouts or machines is pinned:
# source paths (the checkout, the cargo registry, the toolchain) are remapped
# to fixed names, and the SBOM's clock is the commit's time. RUSTFLAGS
# replaces .cargo/config.toml's target rustflags, so it repeats
# relocation-model=static from there. With --target, RUSTFLAGS reaches only
# the shipped code, not build scripts.
reproducible_env() {
  local cargo_home=${CARGO_HOME:-$HOME/.cargo} sysroot
  sysroot=$(rustc --print sysroot)
  export SOURCE_DATE_EPOCH
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)
  export CARGO_TARGET_DIR=$ROOT/target/release-dist
  export RUSTFLAGS="-C relocation-model=static \
--remap-path-prefix=$ROOT=/build/entitled \
--remap-path-prefix=$cargo_home=/cargo \
--remap-path-prefix=$sysroot=/rustc-sysroot"
  # Compile-time product binding is a per-seller build, not a release.
  unset ENTITLED_PRODUCT_CODE ENTITLED_PRODUCT_SKU ENTITLED_PUBLIC_KEY_FILE ENTITLED_PUBLIC_KEY_VERSION
}

package_version() {
  cargo metadata --format-version 1 --locked --no-deps |
    python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == sys.argv[1]))' "$1"
}

build() {
  local entry package binary target arch version artifact size
  rm -rf dist && mkdir dist
  for target in "${MUSL_TARGETS[@]}"; do
    arch=${target%%-*}
    for entry in "${BINARIES[@]}"; do
      package=${entry%%:*} binary=${entry#*:}
      version=$(package_version "$package")
      musl_release_build "$target" "$package" "$binary"
      artifact=dist/$binary-$version-$arch-linux
      cp "$CARGO_TARGET_DIR/$target/release/$binary" "$artifact"
      if ! file "$artifact" | grep -q "statically linked"; then
        echo "error: $artifact is not statically linked: $(file -b "$artifact")" >&2
        exit 1
      fi
      size=$(stat -c %s "$artifact")
      if [[ $binary == entitled && $size -gt $GUARD_LIMIT ]]; then
        echo "error: $artifact is $size bytes, over the guard's 4 MiB limit" >&2
        exit 1
      fi
      python3 scripts/licenses.py sbom "$artifact" "$artifact.cdx.json"
    done
  done
  python3 scripts/licenses.py check
  python3 scripts/licenses.py notice dist/THIRD-PARTY-LICENSES.txt dist/*-linux
  (cd dist && sha256sum -- * >SHA256SUMS)
  echo
  ls -l dist
  cat dist/SHA256SUMS
}

# Two clones of HEAD at different paths, each built from scratch with its own
# target directory; their binaries must be byte-identical.
verify_reproducible() {
  local commit work clone
  commit=$(git rev-parse HEAD)
  if [[ -n $(git status --porcelain --untracked-files=no) ]]; then
    echo "note: uncommitted changes are not part of the check; it builds $commit" >&2
  fi
  work=$(mktemp -d /tmp/entitled-repro.XXXXXX)
  # shellcheck disable=SC2064 # expand now: $work is local to this function
  trap "rm -rf '$work'" EXIT
  for clone in "$work/first" "$work/second-checkout/elsewhere"; do
    mkdir -p "$(dirname "$clone")"
    git clone --quiet --no-checkout "$ROOT" "$clone"
    git -C "$clone" checkout --quiet --detach "$commit"
    echo "== building $commit in $clone" >&2
    "$clone/scripts/release.sh"
  done
  echo
  echo "first:  $work/first"
  echo "second: $work/second-checkout/elsewhere"
  local failed=0 name
  for name in $(cd "$work/first/dist" && ls -- *-linux); do
    echo "$(sha256sum <"$work/first/dist/$name" | cut -d' ' -f1)  first/$name"
    echo "$(sha256sum <"$work/second-checkout/elsewhere/dist/$name" | cut -d' ' -f1)  second/$name"
    if ! cmp -s "$work/first/dist/$name" "$work/second-checkout/elsewhere/dist/$name"; then
      echo "error: $name differs between the two builds" >&2
      failed=1
    fi
  done
  if [[ $failed == 0 ]] && cmp -s "$work/first/dist/SHA256SUMS" "$work/second-checkout/elsewhere/dist/SHA256SUMS"; then
    echo "reproducible: every artifact is byte-identical (SHA256SUMS match)"
  else
    echo "error: the two builds differ" >&2
    exit 1
  fi
}

case ${1:-} in
  "") install_tools; reproducible_env; build ;;
  --verify-reproducible) [[ $# == 1 ]] || usage; install_tools; verify_reproducible ;;
  *) usage ;;
esac
