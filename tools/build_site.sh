#!/usr/bin/env bash
# Builds a static site that explains your own model:   tools/build_site.sh MODEL_DIR OUT_DIR
#
# MODEL_DIR holds classifier.onnx (exported as the README's "Bring your own model" describes),
# tokenizer.json, word_embeddings.f16 and config.json (labels, sizes, special tokens);
# `python tools/prepare_model.py checkpoint` writes one from a Hugging Face checkpoint folder.
# OUT_DIR is emptied and filled with the site: copy it to any static host, under any path.
# The model's graph is generated from its ONNX at build time (burn-onnx), as for the default model.
set -euo pipefail
if [ $# -ne 2 ]; then
    echo "usage: tools/build_site.sh MODEL_DIR OUT_DIR" >&2
    exit 2
fi
model=$(realpath "$1")
out=$(realpath -m "$2")
for file in classifier.onnx tokenizer.json word_embeddings.f16 config.json; do
    if [ ! -f "$model/$file" ]; then
        echo "tools/build_site.sh: $model has no $file (see the README, \"Bring your own model\")" >&2
        exit 1
    fi
done
cd "$(dirname "$0")/.."
tools/setup.sh serve
cargo fetch  # Trunk builds offline (Trunk.toml): every crate must be here first
GRADLENS_MODEL_DIR="$model" trunk build --release --dist "$out"
echo "the site for $model is in $out: serve that folder from any static host"
