# Sourced by tools/k8s/build.sh and tools/eso/build.sh after they set `out` (the cache directory):
# parses --force / --print-dir / --help, finds the Go toolchain, and sets the build environment.
force=0
for arg in "$@"; do
  case $arg in
    --force) force=1 ;;
    --print-dir) echo "$out"; exit 0 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "build.sh: unknown argument '$arg' (use --force, --print-dir or --help)" >&2; exit 2 ;;
  esac
done

go=${GO:-$(command -v go || true)}
[ -n "$go" ] || go=/usr/local/go/bin/go
if [ ! -x "$go" ]; then
  echo "build.sh: no Go toolchain found (looked on PATH and at /usr/local/go/bin/go); install Go >= 1.24 or set GO=/path/to/go" >&2
  exit 1
fi

# Static binaries, no VCS stamping (the module cache has no .git), reproducible
# paths; go.sum is committed, so the build must not rewrite go.mod/go.sum.
export CGO_ENABLED=0 GOFLAGS="-trimpath -mod=readonly -buildvcs=false" GOTOOLCHAIN=local
mkdir -p "$out"
