#!/usr/bin/env bash
# setup-torch.sh: a Python with PyTorch for the GPU route's CPU test (test/slow/gpu-ddp.test.ts),
# which runs scripts/gpu/train_torch.py as one process and as two under torchrun on the gloo backend.
#
# Looks for an interpreter whose torch has torch.distributed with gloo, in this order:
# $TEXTVAE_TORCH_PYTHON, python3 on PATH, /usr/bin/python3. If none has it, then as root with
# apt-get it installs Debian's python3-torch (a CPU build, torch 1.13 on Debian 12: about 150 MB to
# download and 650 MB on disk) into /usr/bin/python3. PyPI's torch for Linux would bring GBs of
# CUDA libraries that a CPU test never uses.
#
# Usage: bash scripts/setup-torch.sh [--find]
#   --find        only look, never install (exit 1 with the reason when nothing is found)
#   SKIP_APT=1    never run apt-get
# Idempotent: once torch is there it only looks (about a second). The last line printed is the
# interpreter's path. The apt log is in ${XDG_CACHE_HOME:-$HOME/.cache}/textvae-torch/apt.log.
set -euo pipefail

LOGDIR="${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/textvae-torch"

say() { printf '[setup-torch] %s\n' "$*" >&2; }
die() {
  printf '[setup-torch] ERROR: %s\n' "$*" >&2
  exit 1
}

# Prints the first interpreter that imports torch with gloo; status 1 if none does.
find_python() {
  local py
  for py in ${TEXTVAE_TORCH_PYTHON:-} python3 /usr/bin/python3; do
    command -v "$py" >/dev/null 2>&1 || continue
    if "$py" -c 'import torch, torch.distributed as d; assert d.is_available() and d.is_gloo_available()' \
      >/dev/null 2>&1; then
      command -v "$py"
      return 0
    fi
  done
  return 1
}

if py="$(find_python)"; then
  say "torch $("$py" -c 'import torch; print(torch.__version__)') with gloo: $py"
  echo "$py"
  exit 0
fi

how="install PyTorch for python3 (Debian/Ubuntu: apt-get install python3-torch; elsewhere: pip install torch), or set TEXTVAE_TORCH_PYTHON to an interpreter that has it"
[ "${1:-}" = --find ] && die "no Python with torch.distributed (gloo) found; $how"
if [ "${SKIP_APT:-0}" = 1 ] || [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  die "no Python with torch.distributed (gloo) found, and apt-get cannot be run here (not root, no apt-get, or SKIP_APT=1); $how"
fi

mkdir -p "$LOGDIR"
say "installing Debian's python3-torch (about 150 MB; log: $LOGDIR/apt.log)"
export DEBIAN_FRONTEND=noninteractive
# The lists may be stale on a fresh machine: refresh them, then install.
if ! { apt-get update && apt-get install -y --no-install-recommends python3-torch; } >"$LOGDIR/apt.log" 2>&1; then
  tail -n 20 "$LOGDIR/apt.log" >&2 || true
  die "apt-get could not install python3-torch (full log: $LOGDIR/apt.log); $how"
fi
py="$(find_python)" || die "python3-torch is installed, but no interpreter imports torch.distributed with gloo; $how"
say "torch $("$py" -c 'import torch; print(torch.__version__)') with gloo: $py"
echo "$py"
