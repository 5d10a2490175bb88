#!/usr/bin/env bash
# Fetch the Gateway API CRDs (standard channel) that tests/kubernetes installs into the test
# kube-apiserver, from the Go module sigs.k8s.io/gateway-api through the Go module proxy:
#
#   go mod download -json sigs.k8s.io/gateway-api@<version>  ->  <Dir>/config/crd/standard
#
# copied into
#
#   ${INGRESSLIB_GATEWAY_API_CRDS:-${XDG_CACHE_HOME:-$HOME/.cache}/ingresslib/gateway-api/<version>}
#
# The version is the one of the CRDs vendored in ingresslib/resources/crds/ (their
# gateway.networking.k8s.io/bundle-version annotation), so that the apiserver validates with
# the very rules ingresslib implements. A copy that is already there is reused.
#
# Usage: scripts/gateway-api-crds.sh [--force] [--print-dir]
# Exit status: 0 fetched or reused; 2 usage; 3 the module could not be downloaded.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODULE=sigs.k8s.io/gateway-api

force=0
print_dir=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --print-dir) print_dir=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "gateway-api-crds: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

VERSION="$(awk '/gateway.networking.k8s.io\/bundle-version:/ { print $2; exit }' \
  "$ROOT/ingresslib/resources/crds/gateway.networking.k8s.io_httproutes.yaml")"
if [[ ! "$VERSION" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "gateway-api-crds: cannot read the bundle version of the vendored CRDs" >&2
  exit 2
fi
DIR="${INGRESSLIB_GATEWAY_API_CRDS:-${XDG_CACHE_HOME:-$HOME/.cache}/ingresslib/gateway-api/$VERSION}"
if ((print_dir)); then
  echo "$DIR"
  exit 0
fi
if ((!force)) && [[ -f "$DIR/.complete" ]]; then
  echo "gateway-api-crds: up to date: $MODULE@$VERSION in $DIR" >&2
  exit 0
fi

command -v go >/dev/null || { echo "gateway-api-crds: the go command is not on PATH" >&2; exit 3; }
# Outside any module: `go mod download` of a module@version needs no go.mod.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if ! json="$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "$MODULE@$VERSION" 2>&1)"; then
  echo "$json" >&2
  echo "gateway-api-crds: ERROR: the Go module proxy ($(go env GOPROXY)) did not serve" \
    "$MODULE@$VERSION" >&2
  exit 3
fi
source_dir="$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
if [[ -z "$source_dir" || ! -d "$source_dir/config/crd/standard" ]]; then
  echo "$json" >&2
  echo "gateway-api-crds: ERROR: no config/crd/standard in $MODULE@$VERSION" >&2
  exit 3
fi
mkdir -p "$DIR"
rm -f "$DIR/.complete"
cp "$source_dir"/config/crd/standard/*.yaml "$DIR/"
chmod u+w "$DIR"/*.yaml # the module cache is read-only
printf '%s@%s\n' "$MODULE" "$VERSION" >"$DIR/.complete"
echo "gateway-api-crds: $MODULE@$VERSION -> $DIR ($(ls "$DIR"/*.yaml | wc -l) files)" >&2
