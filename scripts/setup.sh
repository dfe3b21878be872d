#!/usr/bin/env bash
# Makes this machine ready to build and boot the system, then builds it:
# installs the Debian packages the project needs (only those missing, so a
# second run costs a few dpkg look-ups), configures the Meson build directory
# with the RISC-V cross file if it is not configured, and runs ninja.
# Called by ./run and ./test; idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  meson ninja-build pkgconf python3      # build
  g++ libgtest-dev                       # host unit tests
  g++-riscv64-linux-gnu binutils-riscv64-linux-gnu  # cross toolchain, addr2line
  qemu-system-misc qemu-system-data      # qemu-system-riscv64 and OpenSBI
  gdb-multiarch cpio                     # debugging, boot archives
)
# More packages a caller needs only for itself, e.g. ./bench fork's plot:
# SETUP_EXTRA_PACKAGES="python3-matplotlib" scripts/setup.sh ...
read -r -a extra <<< "${SETUP_EXTRA_PACKAGES:-}"
packages+=("${extra[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}" >&2
fi

if [ ! -f build/build.ninja ]; then
  rm -rf build
  meson setup build --cross-file cross/riscv64.ini >&2
fi
# Targets to build may be named (./run builds only what it boots).
ninja -C build "$@" >&2
