#!/usr/bin/env bash
# Runs every test: the Rust workspace (model and attributions against onnxruntime / PyTorch / Captum
# references, gradients, bad input, the CLI), then builds the site and tests it in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh test
cargo fetch
cargo test --workspace --exclude gradlens-web --no-fail-fast
trunk build --release
node --test tests/e2e/
