# Sourced by scripts/release.sh, scripts/test.sh and docker/Dockerfile: how
# this repository builds static musl binaries for each shipped architecture
# without Docker or a musl toolchain.
#
#   musl_check TARGET       fails with the install command if TARGET's tools
#                           are missing
#   musl_install TARGET     installs them (rustup target, apt cross compiler)
#   musl_env TARGET         exports TARGET's C compiler and linker
#   musl_release_build TARGET PACKAGE BINARY
#                           the release build: cargo auditable, so the binary
#                           carries its dependency list (.dep-v0)
#
# Cross builds: ring compiles C and assembly, which Debian's
# gcc-<arch>-linux-gnu handles (ring's C is freestanding, so a glibc cross
# compiler serves musl); rustc links with its own rust-lld against the
# target's self-contained musl start-up files.

# Every architecture a release ships, in release order.
MUSL_TARGETS=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl)
CARGO_AUDITABLE_VERSION=0.7.7

_musl_arch() {
  case $1 in
    x86_64-unknown-linux-musl | aarch64-unknown-linux-musl) echo "${1%%-*}" ;;
    *) echo "error: unsupported target $1; use one of ${MUSL_TARGETS[*]}" >&2; return 1 ;;
  esac
}

_musl_is_cross() { [[ $(_musl_arch "$1") != "$(uname -m)" ]]; }

# TARGET's C compiler and the Debian package that provides it.
_musl_cc() {
  local arch
  arch=$(_musl_arch "$1") || return 1
  if _musl_is_cross "$1"; then echo "$arch-linux-gnu-gcc gcc-${arch//_/-}-linux-gnu"; else echo "cc gcc"; fi
}

musl_check() {
  local target=$1 cc package
  read -r cc package <<<"$(_musl_cc "$target")" || return 1
  [[ -n $cc ]] || return 1
  if ! rustup target list --installed | grep -qx "$target"; then
    echo "error: the Rust target $target is missing; install it with \`rustup target add $target\`" >&2
    return 1
  fi
  if ! command -v "$cc" >/dev/null 2>&1; then
    echo "error: $cc is missing; install it with \`apt-get update && apt-get install -y $package\`" >&2
    return 1
  fi
}

musl_install() {
  local target=$1 cc package
  read -r cc package <<<"$(_musl_cc "$target")" || return 1
  [[ -n $cc ]] || return 1
  rustup target add "$target" >/dev/null
  if ! command -v "$cc" >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
  fi
  musl_check "$target"
}

musl_env() {
  local target=$1 cc package
  read -r cc package <<<"$(_musl_cc "$target")" || return 1
  [[ -n $cc ]] || return 1
  export "CC_${target//-/_}=$cc"
  if _musl_is_cross "$target"; then
    export "CARGO_TARGET_$(echo "$target" | tr 'a-z-' 'A-Z_')_LINKER=rust-lld"
  fi
}

musl_install_auditable() {
  if [[ $(cargo auditable --version 2>/dev/null) != *" $CARGO_AUDITABLE_VERSION"* ]]; then
    cargo install --locked --version "$CARGO_AUDITABLE_VERSION" cargo-auditable
  fi
}

musl_release_build() {
  local target=$1 package=$2 binary=$3
  (musl_env "$target" &&
    cargo auditable build --locked --release --target "$target" -p "$package" --bin "$binary")
}
