#!/usr/bin/env bash
# Install the Mermaid parser used by tests/test_render_mermaid.py (mermaid + jsdom from the
# npm registry) into a cache folder outside the repository; node_modules is never committed.
# Folder: $THREATMODEL_MERMAID_DIR, default ~/.cache/threatmodel-mermaid. Idempotent.
set -euo pipefail
dir="${THREATMODEL_MERMAID_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/threatmodel-mermaid}"
if ! command -v npm >/dev/null; then
  echo "install-mermaid: npm not found; the Mermaid grammar test will be skipped" >&2
  exit 0
fi
if [ -f "$dir/node_modules/mermaid/package.json" ] && [ -f "$dir/node_modules/jsdom/package.json" ]; then
  exit 0
fi
mkdir -p "$dir"
cd "$dir"
[ -f package.json ] || echo '{"private": true}' > package.json
npm install --no-audit --no-fund --loglevel=error mermaid@11.17.2 jsdom@26.1.0 >&2
