#!/usr/bin/env bash
# Fetch the Gateway API CRDs that tests/kubernetes installs into the test kube-apiserver.
#
# The release is pinned in tools/gateway-api/go.mod (+ go.sum: the module's hashes); the
# module is fetched through the Go module proxy (`go mod download`, verified against
# go.sum) and its standard-channel CRDs, config/crd/standard/*.yaml, are copied unchanged
# into a cache directory outside the repository:
#
#   ${INGRESSLIB_GATEWAY_API_CRDS:-${XDG_CACHE_HOME:-$HOME/.cache}/ingresslib/gateway-api/<version>}
#
# A copy is reused while its key (the version and the hashes of tools/gateway-api/go.mod
# and go.sum, see copy_key below) is unchanged; tests/kubernetes/conftest.py computes the
# same key to tell a stale copy. Cold: about a second (one module zip of ~4 MB); warm:
# nothing is fetched.
#
# Usage: scripts/gateway-api-crds.sh [--force] [--print-dir]
#   --force      copy again even when the cached CRDs match
#   --print-dir  print the CRD directory and exit (fetches nothing)
#
# Exit status: 0 copied or reused; 2 usage; 3 the module could not be downloaded (the
# message names module@version); 4 the module holds no standard CRDs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MOD_DIR="$ROOT/tools/gateway-api"
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

# The version go.mod requires (no network, no go command); as in scripts/k8s-fixtures.sh.
VERSION="$(awk -v mod="$MODULE" '
  $1 == "require" && $2 == mod { print $3; exit }
  $1 == "require" && $2 == "(" { block = 1; next }
  block && $1 == ")" { block = 0; next }
  block && $1 == mod { print $2; exit }
' "$MOD_DIR/go.mod")"
if [[ ! "$VERSION" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "gateway-api-crds: cannot read the $MODULE version from $MOD_DIR/go.mod" >&2
  exit 2
fi

DEST="${INGRESSLIB_GATEWAY_API_CRDS:-${XDG_CACHE_HOME:-$HOME/.cache}/ingresslib/gateway-api/$VERSION}"
if ((print_dir)); then
  echo "$DEST"
  exit 0
fi

# The key: the version, then "<path>\n<sha256>\n" per pinned file, hashed.
# Keep in step with gateway_api_key() in tests/kubernetes/conftest.py.
KEY_FILES=(tools/gateway-api/go.mod tools/gateway-api/go.sum)
copy_key() {
  {
    printf 'gateway-api %s\n' "$VERSION"
    for f in "${KEY_FILES[@]}"; do
      printf '%s\n%s\n' "$f" "$(sha256sum <"$ROOT/$f" | cut -d' ' -f1)"
    done
  } | sha256sum | cut -d' ' -f1
}
KEY="$(copy_key)"
log() { printf '[gateway-api-crds] %s\n' "$*" >&2; }

mkdir -p "$DEST"
exec 9>"$DEST/.lock"
if ! flock -n 9; then
  log "another copy holds $DEST/.lock; waiting"
  flock 9
fi

if ((!force)) && compgen -G "$DEST/*.yaml" >/dev/null &&
  [[ "$(cat "$DEST/crds.key" 2>/dev/null)" == "$KEY" ]]; then
  log "up to date: $MODULE $VERSION CRDs in $DEST"
  exit 0
fi

command -v go >/dev/null || { echo "gateway-api-crds: the go command is not on PATH" >&2; exit 3; }

# -mod=readonly: the committed go.mod/go.sum exactly; a hash mismatch is an error.
status=0
info="$(cd "$MOD_DIR" && GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=readonly" go mod download -json "$MODULE" 2>&1)" ||
  status=$?
# `go mod download -json` reports a module it could not fetch in an "Error" field.
error="$(sed -n 's/^[[:space:]]*"Error": "\(.*\)",\{0,1\}$/\1/p' <<<"$info")"
dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$info")"
if ((status != 0)) || [[ -n "$error" || -z "$dir" ]]; then
  echo "$info" | tail -20 >&2
  echo "gateway-api-crds: ERROR: the Go module proxy ($(go env GOPROXY)) did not serve" \
    "$MODULE@$VERSION (pinned in $MOD_DIR/go.mod)" >&2
  exit 3
fi
sum="$(sed -n 's/^[[:space:]]*"Sum": "\(.*\)",\{0,1\}$/\1/p' <<<"$info")"

shopt -s nullglob
crds=("$dir"/config/crd/standard/*.yaml)
if ((${#crds[@]} == 0)); then
  echo "gateway-api-crds: ERROR: $dir/config/crd/standard holds no *.yaml" >&2
  exit 4
fi

rm -f "$DEST/crds.key"
# Each file is replaced atomically (a test session may be reading the directory), and made
# writable: the module cache's files are read-only.
for f in "${crds[@]}"; do
  cp "$f" "$DEST/.$(basename "$f").tmp"
  chmod u+w "$DEST/.$(basename "$f").tmp"
  mv -f "$DEST/.$(basename "$f").tmp" "$DEST/$(basename "$f")"
done
{
  echo "$MODULE $VERSION $sum"
  echo "from $dir/config/crd/standard"
  for f in "${crds[@]}"; do
    echo "$(sha256sum <"$f" | cut -d' ' -f1)  $(basename "$f")"
  done
  echo "copied $(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$DEST/crds.info"
echo "$KEY" >"$DEST/crds.key"
# The marker another copy of this fixture looks for (module@version).
printf '%s@%s\n' "$MODULE" "$VERSION" >"$DEST/.complete"
log "$MODULE $VERSION: ${#crds[@]} files -> $DEST"
