#!/usr/bin/env bash
# ci-setup.sh — system prerequisites of the end-to-end tests, idempotent.
#
# Runs scripts/e2e/setup-vscode-server.sh: as root it apt-installs chromium,
# ripgrep and the build tools it needs, then installs and caches code-server
# 4.100.3 (VS Code 1.100) in ${VSCODE_E2E_CACHE:-$HOME/.cache/vscode-e2e}.
# A second run takes about a second.
#
# Usage: bash scripts/ci-setup.sh        (from anywhere)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SETUP="$REPO/scripts/e2e/setup-vscode-server.sh"
CACHE="${VSCODE_E2E_CACHE:-${HOME:-/tmp}/.cache/vscode-e2e}"

fail() {
  printf '\n[ci-setup] ERROR: %s\n' "$*" >&2
  printf '[ci-setup] The end-to-end tests (npm run test:e2e) cannot run without code-server and chromium.\n' >&2
  exit 1
}

printf '[ci-setup] code-server + chromium for the end-to-end tests (cache: %s)\n' "$CACHE"
set +e
bash "$SETUP" "$CACHE"
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
  fail "setup-vscode-server.sh exited with status $rc; the step logs are in $CACHE/logs/ (not root? install the Debian packages it names, or run it with SKIP_APT=1 once they are there)"
fi

CS_BIN="$(cat "$CACHE/code-server-bin" 2>/dev/null || true)"
[ -n "$CS_BIN" ] && [ -f "$CS_BIN" ] || fail "setup finished but $CACHE/code-server-bin does not name an existing file"
command -v chromium >/dev/null 2>&1 || fail "chromium is not on PATH after setup (apt-get install -y chromium)"
printf '[ci-setup] ok: code-server entry %s; chromium %s\n' "$CS_BIN" "$(command -v chromium)"
