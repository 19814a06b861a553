#!/usr/bin/env bash
# Builds the site with the default model and serves it on http://127.0.0.1:${PORT:-8080}, rebuilding it
# when a source changes. Without Trunk's live reload: the dist/ it leaves is the site as published (no
# script that opens a WebSocket to this server), so it can be copied to any static host as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh serve
cargo fetch  # Trunk builds offline (Trunk.toml): every crate must be here first
exec trunk serve --release --no-autoreload --no-error-reporting --address 127.0.0.1 --port "${PORT:-8080}"
