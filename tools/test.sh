#!/usr/bin/env bash
# Runs every test: the Rust workspace (model against onnxruntime/PyTorch references, gradients, bad input)
# and the site build.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh test
cargo fetch
cargo test --workspace --no-fail-fast
trunk build --release
