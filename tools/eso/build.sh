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
# Measured on 2 cores (Go 1.26): `go mod tidy` of the module graph 2.1 min (downloads);
# cold compile 17.6 min wall while kube-controller-manager and six other jobs shared the
# cores (424 CPU-s user + 88 s system: ~5 min on a quiet machine, as measured before);
# binary 155 MB, crds.yaml 1.4 MB; adds ~2.5 GB of module cache and ~2.5 GB of build cache.
set -euo pipefail

ESO_VERSION=v0.16.2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${WORKSHOP_ESO_BIN_DIR:-${WORKSHOP_CACHE:-$HOME/.cache/akeyless-workshop}/eso-$ESO_VERSION}

source "$here/../go-build.sh"

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
