#!/usr/bin/env bash
# Installs the real clients the compatibility checks (crates/server/tests/clients.rs)
# run, from their registries, into this folder (git-ignored): .venv (redis-py,
# requests, pinned in requirements.txt) and node_modules (node-redis, pinned in
# package-lock.json). Needs python3 with venv, and npm.
set -euo pipefail
cd "$(dirname "$0")"
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
npm ci --silent --no-audit --no-fund
# node-redis 6 needs Node 20 or newer; Debian 12's is 18. The npm registry
# carries Node itself: the checks then run node_modules/.bin/node.
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then
    npm install --no-save --silent --no-audit --no-fund node@20
fi
