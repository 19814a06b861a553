#!/usr/bin/env bash
# Installs what GradLens needs on a fresh machine, skipping whatever is already at the right version.
#   tools/setup.sh serve   Rust's wasm target, Trunk and wasm-bindgen-cli (enough to build and serve the site)
#   tools/setup.sh test    the above, plus Debian's Chromium and ChromeDriver and playwright-core (npm) for
#                          the browser tests; playwright-core drives that Chromium and never downloads one
set -euo pipefail

TRUNK_VERSION=0.21.14         # 0.22 needs a newer rustc than this machine's 1.95
WASM_BINDGEN_VERSION=0.2.130  # must equal wasm-bindgen in Cargo.lock (pinned in web/Cargo.toml)

purpose=${1:-serve}

rustup target add wasm32-unknown-unknown

# cargo install, unless `$binary --version` already reports `version`.
install_pinned() {
    local crate=$1 version=$2 binary=$3
    shift 3
    if "$binary" --version 2>/dev/null | grep -qw "$version"; then
        return
    fi
    # A target dir of its own, so that CARGO_TARGET_DIR's project build is not disturbed.
    CARGO_TARGET_DIR="${HOME}/.cache/gradlens/install-target" cargo install "$crate" --version "$version" "$@"
}
install_pinned trunk "$TRUNK_VERSION" trunk --locked
install_pinned wasm-bindgen-cli "$WASM_BINDGEN_VERSION" wasm-bindgen

if [ "$purpose" = test ]; then
    if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        apt-get install -y -q chromium chromium-driver
    fi
    npm ci --no-audit --no-fund
fi
