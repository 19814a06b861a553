#!/usr/bin/env bash
# Runs every test: the Rust workspace (model and attributions against onnxruntime / PyTorch / Captum
# references, gradients, bad input, the CLI), then builds the site, runs the Rust browser tests (CPU and
# WebGPU), checks that the README's serve command serves the site, and tests it in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh test
cargo fetch
cargo test --workspace --exclude gradlens-web --no-fail-fast
trunk build --release

# The Rust code in a real browser (web/tests): headless Chromium, CPU backend and WebGPU (SwiftShader on
# a machine without a GPU), flags in web/webdriver.json. Release and with the WebGPU runtime, to reuse the
# WebGPU build Trunk just made.
CHROMEDRIVER="$(command -v chromedriver)" WASM_BINDGEN_TEST_TIMEOUT=900 \
    cargo test -p gradlens-web --release --target wasm32-unknown-unknown --features webgpu --test browser

# The serve command of the README, on a spare port, stopped once it answers.
port=18080
log=$(mktemp)
PORT=$port tools/serve.sh >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$port/model/config.json" >/dev/null && break
    sleep 1
done
# Into a file first: `curl | grep -q` fails under pipefail when grep stops reading early.
page=$(mktemp)
if ! curl -sf "http://127.0.0.1:$port/" -o "$page" || ! grep -q "GradLens" "$page"; then
    cat "$log"
    echo "tools/serve.sh did not serve the site on 127.0.0.1:$port" >&2
    exit 1
fi
kill $server
echo "tools/serve.sh serves the site on 127.0.0.1"

node --test tests/e2e/
