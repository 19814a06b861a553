#!/usr/bin/env bash
# Builds the site with the default model and serves it on http://127.0.0.1:${PORT:-8080}.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh serve
cargo fetch  # Trunk builds offline (Trunk.toml): every crate must be here first
exec trunk serve --release --address 127.0.0.1 --port "${PORT:-8080}"
