#!/usr/bin/env bash
# Build the kube-apiserver and etcd binaries that tests/kubernetes runs against.
#
# Both are built from Go modules pinned in tools/kube-apiserver and tools/etcd
# (go.mod + go.sum), fetched through the Go module proxy, into a cache directory
# outside the repository:
#
#   ${INGRESSLIB_K8S_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/ingresslib/k8s/<k8s version>}
#
# A build is reused while its key (the pinned versions and the hashes of the
# tools/ go.mod, go.sum and main.go files, see build_key below) is unchanged;
# tests/kubernetes/conftest.py computes the same key to tell a stale build.
# A cold build (module download + compile on 2 cores) takes minutes; later runs
# take about a second.
#
# Usage: scripts/k8s-fixtures.sh [--force] [--print-dir]
#   --force      rebuild even when the cached binaries match
#   --print-dir  print the binary directory and exit (builds nothing)
#
# Exit status: 0 built or reused; 2 usage; 3 a module could not be downloaded
# (the message names module@version); 4 build failed; 5 built binary reports the
# wrong version.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
APISERVER_MOD="$ROOT/tools/kube-apiserver"
ETCD_MOD="$ROOT/tools/etcd"

force=0
print_dir=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --print-dir) print_dir=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "k8s-fixtures: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

# The version a go.mod requires for one module (no network, no go command).
required_version() { # <go.mod> <module path>
  awk -v mod="$2" '
    $1 == "require" && $2 == mod { print $3; exit }
    $1 == "require" && $2 == "(" { block = 1; next }
    block && $1 == ")" { block = 0; next }
    block && $1 == mod { print $2; exit }
  ' "$1"
}

K8S_VERSION="$(required_version "$APISERVER_MOD/go.mod" k8s.io/kubernetes)"
ETCD_VERSION="$(required_version "$ETCD_MOD/go.mod" go.etcd.io/etcd/server/v3)"
if [[ ! "$K8S_VERSION" =~ ^v1\.([0-9]+)\.[0-9]+$ ]]; then
  echo "k8s-fixtures: cannot read the k8s.io/kubernetes version from $APISERVER_MOD/go.mod" >&2
  exit 2
fi
K8S_MINOR="${BASH_REMATCH[1]}"
if [[ -z "$ETCD_VERSION" ]]; then
  echo "k8s-fixtures: cannot read the go.etcd.io/etcd/server/v3 version from $ETCD_MOD/go.mod" >&2
  exit 2
fi

BIN_DIR="${INGRESSLIB_K8S_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/ingresslib/k8s/$K8S_VERSION}"
if ((print_dir)); then
  echo "$BIN_DIR"
  exit 0
fi

# The build key: versions, then "<path>\n<sha256>\n" for each pinned file, hashed.
# Keep in step with build_key() in tests/kubernetes/conftest.py.
KEY_FILES=(
  tools/kube-apiserver/go.mod
  tools/kube-apiserver/go.sum
  tools/etcd/go.mod
  tools/etcd/go.sum
  tools/etcd/main.go
)
build_key() {
  {
    printf 'kube-apiserver %s\netcd %s\n' "$K8S_VERSION" "$ETCD_VERSION"
    for f in "${KEY_FILES[@]}"; do
      printf '%s\n%s\n' "$f" "$(sha256sum <"$ROOT/$f" | cut -d' ' -f1)"
    done
  } | sha256sum | cut -d' ' -f1
}
KEY="$(build_key)"

start=$SECONDS
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
log() { printf '[k8s-fixtures %4ds] %s\n' "$((SECONDS - start))" "$*" >&2; }

mkdir -p "$BIN_DIR"
# One build at a time per directory (two test sessions may start together).
exec 9>"$BIN_DIR/.lock"
if ! flock -n 9; then
  log "another build holds $BIN_DIR/.lock; waiting"
  flock 9
fi

if ((!force)) && [[ -x "$BIN_DIR/kube-apiserver" && -x "$BIN_DIR/etcd" ]] &&
  [[ "$(cat "$BIN_DIR/build.key" 2>/dev/null)" == "$KEY" ]]; then
  log "up to date: kube-apiserver $K8S_VERSION, etcd $ETCD_VERSION in $BIN_DIR"
  exit 0
fi

command -v go >/dev/null || { echo "k8s-fixtures: the go command is not on PATH" >&2; exit 4; }

# -mod=readonly: build exactly the committed go.mod/go.sum, and fail rather than
# rewrite them (run `go mod tidy` in the module by hand when bumping a version).
# CGO off and -s -w, as the Kubernetes release builds do.
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=readonly"
export CGO_ENABLED=0
log "kube-apiserver $K8S_VERSION, etcd $ETCD_VERSION -> $BIN_DIR"
log "$(go version); GOPROXY=$(go env GOPROXY) GOMODCACHE=$(go env GOMODCACHE) GOCACHE=$(go env GOCACHE)"
rm -f "$BIN_DIR/build.key"

# Download every module the two builds need, naming what the proxy lacks.
download() { # <module dir> <label>
  local out status=0
  log "downloading modules for $2 (first time: a few hundred MB)"
  out="$(cd "$1" && go mod download -x 2>&1)" || status=$?
  if ((status != 0)); then
    echo "$out" | grep -v '^# get ' | tail -20 >&2
    local missing
    missing="$(echo "$out" | grep -oE '[A-Za-z0-9._~/-]+@v[0-9][A-Za-z0-9.+-]*' | sort -u)"
    echo "k8s-fixtures: ERROR: the Go module proxy ($(go env GOPROXY)) did not serve" \
      "every module needed for $2 ($1/go.mod)." >&2
    if [[ -n "$missing" ]]; then
      echo "k8s-fixtures: module@version named in the error: $(echo "$missing" | tr '\n' ' ')" >&2
    fi
    exit 3
  fi
  log "modules for $2: $(echo "$out" | grep -c '^# get .*200 OK' || true) files fetched from the proxy"
}

# go build -v prints each package it compiles; a ticker reports the count.
build() { # <module dir> <label> <output> <package> <ldflags>
  local dir="$1" label="$2" out="$3" pkg="$4" ldflags="$5"
  local total progress ticker status=0
  total="$(cd "$dir" && go list -deps "$pkg" | wc -l)"
  progress="$(mktemp)"
  log "compiling $label ($total packages; cold: about 5 min for kube-apiserver on 2 cores)"
  (
    while sleep 30; do
      log "  $label: $(grep -vc '^#' "$progress" || true)/$total packages compiled"
    done
  ) &
  ticker=$!
  (cd "$dir" && go build -v -trimpath -ldflags "$ldflags" -o "$out.tmp" "$pkg") 2>"$progress" || status=$?
  kill "$ticker" 2>/dev/null || true
  wait "$ticker" 2>/dev/null || true
  if ((status != 0)); then
    grep -v '^[a-zA-Z0-9._/-]*$' "$progress" | tail -40 >&2 || true
    rm -f "$progress" "$out.tmp"
    echo "k8s-fixtures: ERROR: go build $pkg failed in $dir (exit $status)" >&2
    exit 4
  fi
  rm -f "$progress"
  mv -f "$out.tmp" "$out"
  log "built $label: $(du -h "$out" | cut -f1)"
}

download "$ETCD_MOD" "etcd $ETCD_VERSION"
download "$APISERVER_MOD" "kube-apiserver $K8S_VERSION"

build "$ETCD_MOD" "etcd $ETCD_VERSION" "$BIN_DIR/etcd" . "-s -w"

# The version stamps hack/lib/version.sh sets for a release build; the build
# date is the release tag's commit time, as the module proxy reports it.
BUILD_DATE="$(cd "$APISERVER_MOD" && go list -m -f '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes)"
K8S_LDFLAGS="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  K8S_LDFLAGS+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$K8S_MINOR"
  K8S_LDFLAGS+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=${BUILD_DATE:-1970-01-01T00:00:00Z}"
done
build "$APISERVER_MOD" "kube-apiserver $K8S_VERSION" "$BIN_DIR/kube-apiserver" \
  k8s.io/kubernetes/cmd/kube-apiserver "$K8S_LDFLAGS"

# Check that each binary reports the version it was pinned to.
got="$("$BIN_DIR/kube-apiserver" --version 2>&1 || true)"
if [[ "$got" != "Kubernetes $K8S_VERSION" ]]; then
  echo "k8s-fixtures: ERROR: kube-apiserver --version printed '$got', expected 'Kubernetes $K8S_VERSION'" >&2
  exit 5
fi
got="$("$BIN_DIR/etcd" --version 2>&1 || true)"
if ! grep -qx "etcd Version: ${ETCD_VERSION#v}" <<<"$got"; then
  echo "k8s-fixtures: ERROR: etcd --version printed '$got', expected 'etcd Version: ${ETCD_VERSION#v}'" >&2
  exit 5
fi

{
  echo "kube-apiserver $K8S_VERSION"
  echo "etcd $ETCD_VERSION"
  echo "$(go version)"
  echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) in $((SECONDS - start)) s"
} >"$BIN_DIR/build.info"
echo "$KEY" >"$BIN_DIR/build.key"
log "done in $((SECONDS - start)) s: $BIN_DIR/{kube-apiserver,etcd}"
