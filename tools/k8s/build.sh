#!/usr/bin/env bash
# Builds the upstream kube-apiserver, kube-controller-manager and etcd that
# `lab up --kube apiserver` runs, from the Go module proxy, into a cache OUTSIDE
# the repository:
#
#   ${WORKSHOP_CACHE:-$HOME/.cache/akeyless-workshop}/k8s-v1.34.4/{kube-apiserver,kube-controller-manager,etcd}
#
# The cache lives outside the clone so that a fresh clone on the same machine
# (CI) reuses binaries built earlier. A binary that is already there is not
# rebuilt; pass --force to rebuild both. --print-dir prints the directory only.
# WORKSHOP_K8S_BIN_DIR overrides the directory (helpers/lab/apiserver.py reads
# the same variables).
#
# Measured on 2 cores (Go 1.26): cold (empty module and build caches) ~5 min wall,
# ~340 CPU-s, peak RSS 1.8 GB per process; adds ~0.6 GB module cache, ~2.3 GB
# build cache, 123 MB of binaries. With a warm build cache, --force takes ~5 s.
# kube-controller-manager after that (sharing that build cache): 5.7 min wall while the ESO
# build and other jobs shared the 2 cores (110 CPU-s user), 93 MB.
set -euo pipefail

K8S_VERSION=v1.34.4
ETCD_VERSION=v3.6.4
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${WORKSHOP_K8S_BIN_DIR:-${WORKSHOP_CACHE:-$HOME/.cache/akeyless-workshop}/k8s-$K8S_VERSION}

source "$here/../go-build.sh"
build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# kube-apiserver and kube-controller-manager: the same module, flags and version stamp.
build_k8s() {
  local cmd=$1 minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  local pkg=k8s.io/component-base/version
  echo "build.sh: building $cmd $K8S_VERSION into $out (cold: many minutes)" >&2
  # -pgo=off: the commands ship default.pgo profiles that would only slow the
  # compile; runtime speed does not matter for a lab.
  (cd "$here" && "$go" build -pgo=off -o "$out/$cmd.tmp" -ldflags "-s -w \
      -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitVersion=$K8S_VERSION \
      -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date" \
      "k8s.io/kubernetes/cmd/$cmd")
  mv "$out/$cmd.tmp" "$out/$cmd"
}

build_etcd() {
  echo "build.sh: building etcd $ETCD_VERSION into $out" >&2
  (cd "$here/etcd" && "$go" build -pgo=off -o "$out/etcd.tmp" \
      -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION" \
      go.etcd.io/etcd/server/v3)
  mv "$out/etcd.tmp" "$out/etcd"
}

if [ $force = 1 ] || [ ! -x "$out/etcd" ]; then build_etcd; else echo "build.sh: $out/etcd present, skipping" >&2; fi
for cmd in kube-apiserver kube-controller-manager; do
  if [ $force = 1 ] || [ ! -x "$out/$cmd" ]; then build_k8s $cmd; else echo "build.sh: $out/$cmd present, skipping" >&2; fi
done
"$out/kube-apiserver" --version
"$out/kube-controller-manager" --version
"$out/etcd" --version | sed -n 1p   # sed reads all: no SIGPIPE under pipefail
