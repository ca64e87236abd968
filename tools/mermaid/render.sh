#!/usr/bin/env bash
# Render diagrams/*.mmd to diagrams/*.svg with mermaid-cli and Debian's chromium (offline).
# Needs: apt-get install -y chromium fonts-liberation; (cd tools/mermaid && PUPPETEER_SKIP_DOWNLOAD=1 npm ci)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
python="${PYTHON:-$root/.venv/bin/python}"
if [ ! -x tools/mermaid/node_modules/.bin/mmdc ]; then
    echo "mermaid-cli is not installed: run (cd tools/mermaid && PUPPETEER_SKIP_DOWNLOAD=1 npm ci)" >&2
    exit 1
fi
if [ "$#" -eq 0 ]; then
    set -- diagrams/*.mmd
fi
exec "$python" -m helpers.mmdc "$@"
