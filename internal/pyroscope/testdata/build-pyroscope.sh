#!/usr/bin/env bash
# Builds the Grafana Pyroscope server that the integration tests in
# internal/pyroscope push to, from the Go module proxy alone, and caches the
# binary by version so a machine pays the build (about 6.5 minutes on 2
# cores) once.
#
#   bash internal/pyroscope/testdata/build-pyroscope.sh   # prints the binary's path
#
# The binary lands in ${OBJGRAPH_CACHE:-~/.cache/objgraph-go}/pyroscope-VERSION/pyroscope.
# The server is a test tool only: it is not a dependency of this module.
set -euo pipefail

version=${PYROSCOPE_VERSION:-v1.12.0}
cache=${OBJGRAPH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/objgraph-go}
dest="$cache/pyroscope-$version"
bin="$dest/pyroscope"
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi

mkdir -p "$dest"
work=$(mktemp -d "$dest/build.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

export GOWORK=off GOFLAGS=-mod=mod
dir=$(cd "$work" && go mod download -json "github.com/grafana/pyroscope@$version" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
cp -r "$dir" "$work/src"
chmod -R u+w "$work/src"
cd "$work/src"
rm -f go.work go.work.sum
# The module replaces its api module with a local directory that the
# published module zip does not carry; the proxy's api v1.1.0 serves instead.
sed -i 's#github.com/grafana/pyroscope/api => ./api#github.com/grafana/pyroscope/api => github.com/grafana/pyroscope/api v1.1.0#' go.mod
go build -trimpath -ldflags='-s -w' -o "$work/pyroscope" ./cmd/pyroscope >&2
mv "$work/pyroscope" "$bin.tmp"
mv "$bin.tmp" "$bin"
echo "$bin"
