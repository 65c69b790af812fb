#!/usr/bin/env bash
# setup-vscode-server.sh: what the end-to-end tests need beyond npm packages, on a fresh Debian
# machine, from the npm registry and Debian's packages only (no other download):
#   - Debian packages (installed with apt-get when run as root): chromium, which the tests drive
#     through playwright-core; ripgrep, which VS Code would otherwise download; the compilers and
#     headers that VS Code's native modules are built with;
#   - code-server (VS Code with its real Node extension host) from npm, with its native modules
#     built here against the local Node headers, into a cache folder.
#
# Usage: bash scripts/e2e/setup-vscode-server.sh [CACHE]     (CACHE: ~/.cache/vscode-e2e)
#   CODE_SERVER_VERSION  code-server version on npm (default 4.100.3 = VS Code 1.100; Node 20 only)
#   SKIP_APT=1           never run apt-get: only check that the packages are there
#
# Idempotent: a finished install is reused in about a second. The last line printed, and the file
# CACHE/code-server-bin, name code-server's entry script. Each step's log is in CACHE/logs/.
set -euo pipefail

CACHE="${1:-${HOME:-/tmp}/.cache/vscode-e2e}"
VERSION="${CODE_SERVER_VERSION:-4.100.3}"
START=$SECONDS

say() { printf '[setup-vscode-server %3ss] %s\n' "$((SECONDS - START))" "$*"; }
die() {
  printf '[setup-vscode-server] ERROR: %s\n' "$*" >&2
  exit 1
}

mkdir -p "$CACHE/logs" || die "cannot create the cache folder $CACHE"
CACHE="$(cd "$CACHE" && pwd)"
LOGS="$CACHE/logs"
TARGET="$CACHE/code-server-$VERSION"
ENTRY="$TARGET/node_modules/code-server/out/node/entry.js"
DONE_MARK="$TARGET/.complete"

# Runs a step with its output in LOGS/NAME.log; on failure shows the end of the log.
step() {
  local name="$1"
  shift
  say "$name: $*"
  if ! "$@" >"$LOGS/$name.log" 2>&1; then
    tail -n 30 "$LOGS/$name.log" >&2 || true
    die "step '$name' failed; full log: $LOGS/$name.log"
  fi
}

# Two jobs sharing the cache wait for each other.
if command -v flock >/dev/null 2>&1; then
  exec 8>"$CACHE/.lock"
  flock 8
fi

# code-server writes a config into the XDG folders whenever it starts: point them at scratch folders.
# .setup-complete: the mark of the recipe this script was adapted from (same layout), reused as is.
if { [ -f "$DONE_MARK" ] || [ -f "$TARGET/.setup-complete" ]; } && [ -f "$ENTRY" ] &&
  XDG_CONFIG_HOME="$CACHE/.check" XDG_DATA_HOME="$CACHE/.check" node "$ENTRY" --version >/dev/null 2>&1; then
  rm -rf "$CACHE/.check"
  say "code-server $VERSION is already installed in $TARGET"
  echo "$ENTRY" >"$CACHE/code-server-bin"
  echo "$ENTRY"
  exit 0
fi

# ---- system packages
command -v node >/dev/null && command -v npm >/dev/null || die "node and npm must be on PATH"
[ "$(node -p 'process.versions.node.split(".")[0]')" = 20 ] ||
  die "code-server $VERSION needs Node 20 (found $(node -v)); set CODE_SERVER_VERSION for another Node"

PACKAGES="chromium ripgrep python3 make g++ pkg-config libkrb5-dev libsecret-1-dev libx11-dev libxkbfile-dev"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "${SKIP_APT:-0}" = 1 ] || [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    die "missing Debian packages:$missing (as root: apt-get install -y$missing)"
  fi
  export DEBIAN_FRONTEND=noninteractive
  step apt-update apt-get update
  # shellcheck disable=SC2086
  step apt-install apt-get install -y $missing
fi
RG="$(command -v rg)" || die "ripgrep (rg) is not on PATH"

# node-gyp cannot download Node's headers here: build against the ones installed with node.
NODE_HOME="$(dirname "$(dirname "$(command -v node)")")"
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$NODE_HOME/include/node/node.h" ]; then
  export npm_config_nodedir="$NODE_HOME"
fi
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false npm_config_loglevel=warn
# node-pty's install script runs `npx node-gyp`: let npx fetch it from the registry without asking.
export npm_config_yes=true

# ---- code-server, built in a staging folder and moved into place when it works
STAGE="$CACHE/.stage-$VERSION"
rm -rf "$STAGE"
mkdir -p "$STAGE"
cd "$STAGE"
echo '{ "name": "textvae-e2e-server", "private": true }' >package.json
step npm-code-server npm install --no-save --no-package-lock --ignore-scripts "code-server@$VERSION"
CS="$STAGE/node_modules/code-server"
[ -f "$CS/out/node/entry.js" ] || die "npm did not install code-server@$VERSION"
# argon2 (loaded at start): from source, since its install script would download a binary.
step build-argon2 env npm_config_build_from_source=true npm rebuild --foreground-scripts argon2

cd "$CS/lib/vscode"
step npm-vscode npm install --omit=dev --ignore-scripts
# @vscode/ripgrep skips its download when bin/rg exists; a copy keeps the cache self-contained.
mkdir -p node_modules/@vscode/ripgrep/bin
cp "$RG" node_modules/@vscode/ripgrep/bin/rg
chmod 755 node_modules/@vscode/ripgrep/bin/rg
step build-vscode-native npm rebuild --foreground-scripts
# What code-server's own postinstall would link.
ln -sfn node_modules node_modules.asar
ln -sfn code-linux.sh bin/remote-cli/code-server
ln -sfn browser-linux.sh bin/helpers/browser.sh
(cd extensions && step npm-extensions npm install --omit=dev)

step load-native node -e '
  for (const m of ["node-pty", "@vscode/spdlog", "kerberos", "native-watchdog", "@parcel/watcher"]) require(m);
  const rg = require("child_process").spawnSync(require("@vscode/ripgrep").rgPath, ["--version"]);
  if (rg.status !== 0) throw new Error("ripgrep does not run");
'

# ---- does it serve? Start it on a free port and wait for /healthz.
SMOKE="$STAGE/.smoke"
mkdir -p "$SMOKE"
PORT="$(node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
# Its own process group (setsid), so that the server and the processes it forks stop together;
# without the lock's descriptor, so that nothing it leaves behind holds the lock.
XDG_CONFIG_HOME="$SMOKE/xdg" XDG_DATA_HOME="$SMOKE/xdg" EXTENSIONS_GALLERY='{}' setsid node "$CS/out/node/entry.js" \
  --bind-addr "127.0.0.1:$PORT" --auth none --disable-telemetry --disable-update-check \
  --user-data-dir "$SMOKE/user" --extensions-dir "$SMOKE/ext" "$SMOKE" >"$LOGS/smoke.log" 2>&1 8>&- &
SERVER=$!
healthy=0
for _ in $(seq 60); do
  if node -e 'require("http").get(process.argv[1], (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on("error", () => process.exit(1))' \
    "http://127.0.0.1:$PORT/healthz"; then
    healthy=1
    break
  fi
  kill -0 "$SERVER" 2>/dev/null || break
  sleep 1
done
kill -TERM -- "-$SERVER" 2>/dev/null || true
wait "$SERVER" 2>/dev/null || true
rm -rf "$SMOKE"
[ "$healthy" = 1 ] || die "code-server did not answer /healthz (log: $LOGS/smoke.log)"

rm -rf "$TARGET"
mv "$STAGE" "$TARGET"
date -u +%FT%TZ >"$DONE_MARK"
echo "$ENTRY" >"$CACHE/code-server-bin"
say "installed code-server $VERSION in $TARGET ($(du -sh "$TARGET" | cut -f1))"
echo "$ENTRY"
