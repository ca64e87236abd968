#!/usr/bin/env bash
# Builds the upstream External Secrets Operator controller that
# `lab up --kube apiserver` runs out of cluster, from the Go module proxy, into
# a cache OUTSIDE the repository, and copies ESO's CRD bundle beside it:
#
#   ${WORKSHOP_CACHE:-$HOME/.cache/akeyless-workshop}/eso-v0.16.2/{eso-controller,crds.yaml}
#
# A binary that is already there is not rebuilt; --force rebuilds it.
# --print-dir prints the directory only. WORKSHOP_ESO_BIN_DIR overrides the
# directory (helpers/lab/apiserver.py reads the same variables).
#
# Measured on 2 cores (Go 1.26) while other builds ran: `go mod download` of the
# module graph ~2 min; cold compile ~MEASURED; binary ~155 MB; adds ~2.5 GB of
# module cache and ~B GB of build cache. With a warm build cache, --force ~S s.
set -euo pipefail

ESO_VERSION=v0.16.2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${WORKSHOP_ESO_BIN_DIR:-${WORKSHOP_CACHE:-$HOME/.cache/akeyless-workshop}/eso-$ESO_VERSION}

force=0
for arg in "$@"; do
  case $arg in
    --force) force=1 ;;
    --print-dir) echo "$out"; exit 0 ;;
    -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "build.sh: unknown argument '$arg' (use --force, --print-dir or --help)" >&2; exit 2 ;;
  esac
done

go=${GO:-$(command -v go || true)}
[ -n "$go" ] || go=/usr/local/go/bin/go
if [ ! -x "$go" ]; then
  echo "build.sh: no Go toolchain found (looked on PATH and at /usr/local/go/bin/go); install Go >= 1.24 or set GO=/path/to/go" >&2
  exit 1
fi

export CGO_ENABLED=0 GOFLAGS="-trimpath -mod=readonly -buildvcs=false" GOTOOLCHAIN=local
mkdir -p "$out"

if [ $force = 1 ] || [ ! -x "$out/eso-controller" ]; then
  echo "build.sh: building the ESO controller $ESO_VERSION into $out (cold: several minutes)" >&2
  (cd "$here" && "$go" build -ldflags "-s -w" -o "$out/eso-controller.tmp" .)
  mv "$out/eso-controller.tmp" "$out/eso-controller"
else
  echo "build.sh: $out/eso-controller present, skipping" >&2
fi

# The CRDs ship in the module, not in the binary; a copy beside the binary keeps
# the lab independent of the module cache (which `go clean -modcache` empties).
if [ $force = 1 ] || [ ! -s "$out/crds.yaml" ]; then
  moddir=$(cd "$here" && "$go" list -m -f '{{.Dir}}' github.com/external-secrets/external-secrets)
  cp "$moddir/deploy/crds/bundle.yaml" "$out/crds.yaml.tmp"
  chmod 0644 "$out/crds.yaml.tmp"
  mv "$out/crds.yaml.tmp" "$out/crds.yaml"
fi
"$out/eso-controller" --help >/dev/null 2>&1 || { echo "build.sh: $out/eso-controller does not run" >&2; exit 1; }
echo "build.sh: ESO $ESO_VERSION ready in $out" >&2
