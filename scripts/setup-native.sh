#!/usr/bin/env bash
# setup-native.sh - give @tensorflow/tfjs-node a working native backend
# without its install-time download from Google storage.
#
# Run from the project root after `npm install`. It:
#   1. makes sure node_modules/@tensorflow/tfjs-node is present (installing it
#      with --ignore-scripts if it is not);
#   2. downloads the TensorFlow CPU wheel from PyPI (cached under
#      ${XDG_CACHE_HOME:-$HOME/.cache}/textvae-native) and takes from it the
#      shared libraries that carry the TF C API plus the C API headers;
#   3. compiles a tiny stub library for the CPython symbols those libraries
#      reference (Python is never loaded or called);
#   4. builds the tfjs-node addon from source with node-gyp against the local
#      Node headers;
#   5. checks that `require('@tensorflow/tfjs-node')` selects the tensorflow
#      backend.
# Idempotent: if the addon already loads, it exits 0 straight away.
# Linux x86_64 only. Nothing is written into the repository except
# node_modules/.
set -euo pipefail

TFJS_NODE_VERSION=4.22.0
TF_WHEEL_SPEC='tensorflow-cpu==2.9.1'   # libtensorflow version tfjs-node 4.22 targets
TF_WHEEL_FILE='tensorflow_cpu-2.9.1-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl'
TF_WHEEL_SHA256='6666ddeae45e1f41da788cb4bdea3435aba16edb0bc17b7ac00631c7c9eb052e'
NODE_GYP_VERSION=11.5.0

CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/textvae-native"
PROJECT_ROOT="$(pwd)"
TFJS_DIR="$PROJECT_ROOT/node_modules/@tensorflow/tfjs-node"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"

step() { printf '==> %s\n' "$*"; }
die()  { printf 'setup-native: ERROR: %s\n' "$*" >&2; exit 1; }
trap 'die "command failed (line $LINENO): $BASH_COMMAND"' ERR

# Loads tfjs-node and prints the backend; exit status 0 only for 'tensorflow'.
check_backend() {
  node -e '
    const tf = require("@tensorflow/tfjs-node");
    const b = tf.getBackend();
    const s = tf.matMul(tf.ones([2, 2]), tf.ones([2, 2])).dataSync()[0];
    console.log("tfjs-node backend: " + b + " (tfjs-core " + tf.version_core + ")");
    process.exit(b === "tensorflow" && s === 2 ? 0 : 3);
  '
}

[ -f "$PROJECT_ROOT/package.json" ] || die "run this from the project root (no package.json in $PROJECT_ROOT)"
[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || die "only Linux x86_64 is supported (got $(uname -s)-$(uname -m))"
command -v node >/dev/null || die "node not found on PATH"
command -v npm  >/dev/null || die "npm not found on PATH"

# ---------------------------------------------------------------- quick check
if [ -f "$TFJS_DIR/package.json" ] && check_backend >/dev/null 2>&1; then
  step "tfjs-node native backend already works; nothing to do"
  check_backend
  exit 0
fi

# ---------------------------------------------------------------- build tools
step "Checking build tools"
missing_pkgs=()
for t in gcc g++ make; do command -v "$t" >/dev/null || missing_pkgs+=(build-essential); done
command -v nm >/dev/null && command -v readelf >/dev/null || missing_pkgs+=(binutils)
command -v python3 >/dev/null || missing_pkgs+=(python3)
if command -v python3 >/dev/null && ! python3 -m pip --version >/dev/null 2>&1; then missing_pkgs+=(python3-pip); fi
if [ "${#missing_pkgs[@]}" -gt 0 ]; then
  mapfile -t missing_pkgs < <(printf '%s\n' "${missing_pkgs[@]}" | sort -u)
  # TEXTVAE_NATIVE_NO_APT=1 (set by the extension's installer): report, never install system packages.
  if [ -z "${TEXTVAE_NATIVE_NO_APT:-}" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    step "Installing missing apt packages: ${missing_pkgs[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing_pkgs[@]}" >/dev/null
  else
    die "missing build tools (a C compiler, make, binutils, python3 with pip); on Debian/Ubuntu: sudo apt-get install ${missing_pkgs[*]}"
  fi
fi

NODE_BIN="$(node -p 'process.execPath')"
NODE_DIR="${npm_config_nodedir:-$(dirname "$(dirname "$NODE_BIN")")}"
[ -f "$NODE_DIR/include/node/node_api.h" ] && [ -f "$NODE_DIR/include/node/common.gypi" ] \
  || die "Node headers not found under $NODE_DIR/include/node (set npm_config_nodedir to a dir containing include/node)"

# ---------------------------------------------------------------- tfjs-node package
installed_ver="$(node -p "try{require('$TFJS_DIR/package.json').version}catch(e){''}" 2>/dev/null || true)"
if [ "$installed_ver" != "$TFJS_NODE_VERSION" ] || [ ! -d "$PROJECT_ROOT/node_modules/@mapbox/node-pre-gyp" ]; then
  step "Installing @tensorflow/tfjs-node@$TFJS_NODE_VERSION (--ignore-scripts, --no-save)"
  npm install --no-save --ignore-scripts --no-audit --no-fund "@tensorflow/tfjs-node@$TFJS_NODE_VERSION" >/dev/null
  [ -f "$TFJS_DIR/package.json" ] || die "npm did not install @tensorflow/tfjs-node"
else
  step "Found @tensorflow/tfjs-node@$installed_ver"
fi

# ---------------------------------------------------------------- TF wheel from PyPI
mkdir -p "$CACHE_DIR/wheels"
WHEEL="$CACHE_DIR/wheels/$TF_WHEEL_FILE"
if [ -f "$WHEEL" ] && echo "$TF_WHEEL_SHA256  $WHEEL" | sha256sum -c --status; then
  step "Using cached wheel $WHEEL"
else
  step "Downloading $TF_WHEEL_SPEC wheel from PyPI (~200 MB)"
  rm -f "$WHEEL"
  req="$CACHE_DIR/wheels/requirements.txt"
  printf '%s --hash=sha256:%s\n' "$TF_WHEEL_SPEC" "$TF_WHEEL_SHA256" > "$req"
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --require-hashes \
    --only-binary=:all: --python-version 3.10 --platform manylinux2014_x86_64 \
    -r "$req" -d "$CACHE_DIR/wheels" || die "pip download of $TF_WHEEL_SPEC failed"
  [ -f "$WHEEL" ] || die "expected wheel $TF_WHEEL_FILE was not downloaded"
  echo "$TF_WHEEL_SHA256  $WHEEL" | sha256sum -c --status || die "wheel checksum mismatch"
fi

EXTRACT="$CACHE_DIR/tf-2.9.1"
if [ ! -f "$EXTRACT/.complete" ]; then
  step "Extracting C API libraries and headers from the wheel"
  rm -rf "$EXTRACT"; mkdir -p "$EXTRACT"
  python3 - "$WHEEL" "$EXTRACT" <<'PY'
import sys, zipfile, os
whl, out = sys.argv[1], sys.argv[2]
want_files = {
    "tensorflow/libtensorflow_framework.so.2": "lib/libtensorflow_framework.so.2",
    "tensorflow/python/_pywrap_tensorflow_internal.so": "lib/_pywrap_tensorflow_internal.so",
}
prefixes = ("tensorflow/include/tensorflow/c/", "tensorflow/include/tensorflow/core/platform/")
with zipfile.ZipFile(whl) as z:
    for info in z.infolist():
        n = info.filename
        if n in want_files:
            dest = os.path.join(out, want_files.pop(n))
        elif n.startswith(prefixes) and n.endswith(".h"):
            dest = os.path.join(out, "include", n[len("tensorflow/include/"):])
        else:
            continue
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(info) as src, open(dest, "wb") as dst:
            while True:
                chunk = src.read(1 << 22)
                if not chunk:
                    break
                dst.write(chunk)
        if dest.endswith(".so") or dest.endswith(".so.2"):
            os.chmod(dest, 0o755)
if want_files:
    sys.exit("missing from wheel: " + ", ".join(want_files))
PY
  [ -f "$EXTRACT/include/tensorflow/c/eager/c_api.h" ] || die "C API headers missing from wheel"
  nm -D --defined-only "$EXTRACT/lib/_pywrap_tensorflow_internal.so" | grep -c ' TFE_NewContext@' >/dev/null \
    || die "_pywrap_tensorflow_internal.so does not export the TF C API"
  touch "$EXTRACT/.complete"
fi

# ---------------------------------------------------------------- deps/ layout
DEPS="$TFJS_DIR/deps"
step "Populating $DEPS"
rm -rf "$DEPS"; mkdir -p "$DEPS/lib" "$DEPS/include"
cp -r "$EXTRACT/include/tensorflow" "$DEPS/include/"
for f in libtensorflow_framework.so.2 _pywrap_tensorflow_internal.so; do
  # hard link when cache and project share a filesystem, else copy
  ln -f "$EXTRACT/lib/$f" "$DEPS/lib/$f" 2>/dev/null || cp -f "$EXTRACT/lib/$f" "$DEPS/lib/$f"
done
ln -sf libtensorflow_framework.so.2 "$DEPS/lib/libtensorflow_framework.so"

# The C API lives in the Python extension module, which references CPython
# symbols that are never used from Node. Provide inert definitions so the
# dynamic loader can resolve them: data objects become zeroed storage,
# functions abort with a message if ever called.
step "Compiling CPython symbol stub (libtfjs_pystub.so)"
STUB_DIR="$TFJS_DIR/build-pystub"
rm -rf "$STUB_DIR"; mkdir -p "$STUB_DIR"
{
  echo '#include <stdio.h>'
  echo '#include <stdlib.h>'
  echo 'static void tfjs_pystub_fail(const char *n) { fprintf(stderr, "tfjs pystub: CPython symbol %s called outside Python\n", n); abort(); }'
  nm -D --undefined-only "$DEPS/lib/_pywrap_tensorflow_internal.so" \
    | awk '$1 == "U" || $1 == "w" { print $2 }' | sed 's/@.*//' | grep -E '^_?Py' | sort -u \
    | while read -r sym; do
        if [[ "$sym" =~ (_Type|Struct)$ || "$sym" == PyExc_* || "$sym" == _Py*Flag ]]; then
          echo "__attribute__((aligned(64))) char $sym[1024];"
        else
          echo "void $sym(void) { tfjs_pystub_fail(\"$sym\"); }"
        fi
      done
} > "$STUB_DIR/pystub.c"
gcc -O1 -shared -fPIC -fno-builtin -w -Wl,-soname,libtfjs_pystub.so \
  -o "$DEPS/lib/libtfjs_pystub.so" "$STUB_DIR/pystub.c"
rm -rf "$STUB_DIR"
# binding.gyp links -ltensorflow; make that a linker script pulling in both.
printf 'INPUT(_pywrap_tensorflow_internal.so libtfjs_pystub.so)\n' > "$DEPS/lib/libtensorflow.so"

# ---------------------------------------------------------------- node-gyp
GYP_DIR="$CACHE_DIR/node-gyp-$NODE_GYP_VERSION"
NODE_GYP="$GYP_DIR/node_modules/node-gyp/bin/node-gyp.js"
if [ ! -f "$NODE_GYP" ]; then
  step "Installing node-gyp@$NODE_GYP_VERSION from npm into cache"
  rm -rf "$GYP_DIR"; mkdir -p "$GYP_DIR"
  (cd "$GYP_DIR" && printf '{"name":"native-tools","private":true}\n' > package.json \
    && npm install --no-audit --no-fund --ignore-scripts "node-gyp@$NODE_GYP_VERSION" >/dev/null) \
    || die "npm install node-gyp@$NODE_GYP_VERSION failed"
fi

# node-pre-gyp (used by tfjs-node at run time) decides where it looks for the addon.
read -r NAPI_VER MODULE_PATH < <(cd "$TFJS_DIR" && node -e '
  const napi = require("@mapbox/node-pre-gyp/lib/util/napi");
  const versioning = require("@mapbox/node-pre-gyp/lib/util/versioning");
  const pkg = require("./package.json");
  const v = napi.get_best_napi_build_version(pkg, {});
  console.log(v, versioning.evaluate(pkg, {}, v).module_path);
')
[ -n "${MODULE_PATH:-}" ] || die "could not determine tfjs-node addon path"

step "Building tfjs_binding.node with node-gyp (N-API v$NAPI_VER, headers from $NODE_DIR)"
rm -rf "$TFJS_DIR/build" "$MODULE_PATH"
if ! (cd "$TFJS_DIR" && LDFLAGS="-Wl,--no-as-needed ${LDFLAGS:-}" \
      node "$NODE_GYP" rebuild --nodedir="$NODE_DIR" -j "$(nproc)" \
        --module_name=tfjs_binding --module_path="$MODULE_PATH" --napi_build_version="$NAPI_VER" \
        > "$CACHE_DIR/node-gyp.log" 2>&1); then
  tail -n 25 "$CACHE_DIR/node-gyp.log" >&2
  die "node-gyp build failed (full log: $CACHE_DIR/node-gyp.log)"
fi
ADDON="$MODULE_PATH/tfjs_binding.node"
[ -f "$ADDON" ] || die "addon not produced at $ADDON"
readelf -d "$ADDON" | grep -c 'NEEDED.*libtfjs_pystub.so' >/dev/null || die "addon does not link the pystub library"
rm -rf "$TFJS_DIR/build"

# ---------------------------------------------------------------- verify
step "Verifying"
check_backend || die "tfjs-node built but does not select the tensorflow backend"
