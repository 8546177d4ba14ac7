# Sourced by scripts/release.sh and scripts/test.sh: how this repository
# builds the static musl guard for each shipped architecture on an x86_64
# Debian host, without Docker.
#
#   musl_cross_check TARGET    fails with the install command if TARGET's
#                              tools are missing
#   musl_cross_install TARGET  installs them (rustup target, apt packages)
#   musl_cross_env TARGET      exports the C compiler and linker for TARGET
#
# aarch64: ring compiles C and assembly, which Debian's gcc-aarch64-linux-gnu
# handles (ring's code is freestanding, so the glibc cross compiler is fine
# for musl); rustc links with its own rust-lld and the target's
# self-contained musl CRT, so no aarch64 musl toolchain is needed.

# Every architecture a release ships, in release order.
MUSL_TARGETS=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl)

# The apt package that provides TARGET's C compiler, or nothing (the host's).
_musl_cross_cc_package() {
  case $1 in
    x86_64-unknown-linux-musl) ;;
    aarch64-unknown-linux-musl) echo gcc-aarch64-linux-gnu ;;
    *) echo "musl_cross: unsupported target $1" >&2; return 1 ;;
  esac
}

_musl_cross_cc() {
  case $1 in
    x86_64-unknown-linux-musl) echo cc ;;
    aarch64-unknown-linux-musl) echo aarch64-linux-gnu-gcc ;;
  esac
}

musl_cross_check() {
  local target=$1 package
  package=$(_musl_cross_cc_package "$target") || return 1
  if ! rustup target list --installed | grep -qx "$target"; then
    echo "error: the Rust target $target is missing; install it with \`rustup target add $target\`" >&2
    return 1
  fi
  if ! command -v "$(_musl_cross_cc "$target")" >/dev/null 2>&1; then
    echo "error: $(_musl_cross_cc "$target") is missing; install it with \`apt-get update && apt-get install -y ${package:-gcc}\`" >&2
    return 1
  fi
}

musl_cross_install() {
  local target=$1 package
  package=$(_musl_cross_cc_package "$target") || return 1
  rustup target add "$target" >/dev/null
  if [[ -n $package ]] && ! command -v "$(_musl_cross_cc "$target")" >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
  fi
  musl_cross_check "$target"
}

musl_cross_env() {
  local target=$1 upper
  upper=$(echo "$target" | tr 'a-z-' 'A-Z_')
  export "CC_${target//-/_}=$(_musl_cross_cc "$target")"
  if [[ $target != x86_64-* ]]; then
    export "CARGO_TARGET_${upper}_LINKER=rust-lld"
  fi
}
