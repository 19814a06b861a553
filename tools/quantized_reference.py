"""Reference outputs of the default model with the weights its site ships (quantized as its config.json
says), computed independently of the Rust code: the quantization is done here in numpy on the ONNX
graph's initializers and the word-embedding table, and onnxruntime runs the result.

    tools/.venv/bin/python tools/quantized_reference.py     # writes tests/golden/default_quantized_forward.safetensors

Needs only numpy, onnx, onnxruntime, tokenizers and safetensors (tools/requirements.txt). The scheme
(crates/gradlens-model/src/weights.rs): symmetric, scale = max|w| / (2^(bits-1) - 1) in f32, values
rounded half away from zero; one scale per output feature of every weight matrix (columns of a MatMul's
[in, out] weight, rows of a Gemm's transposed weight, columns of the position-embedding table) and one
per row of the word-embedding table.
"""

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper
from safetensors.numpy import save_file
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "default"
GOLDEN = ROOT / "tests" / "golden"


def fake_quantize(values, bits, axis):
    """Quantized and back to f32, with one scale per slice along `axis` (0: per column, 1: per row)."""
    q_max = np.float32(2 ** (bits - 1) - 1)
    peak = np.abs(values).max(axis=axis, keepdims=True)
    scale = np.where(peak > 0, peak / q_max, np.float32(1)).astype(np.float32)
    ratio = values / scale
    q = np.clip(np.sign(ratio) * np.floor(np.abs(ratio) + np.float32(0.5)), -q_max, q_max)
    return (q.astype(np.float32) * scale).astype(np.float32)


def quantized_graph(bits):
    graph = onnx.load(str(MODEL / "classifier.onnx"))
    transposed = {node.input[1] for node in graph.graph.node if node.op_type == "Gemm"
                  and any(a.name == "transB" and a.i == 1 for a in node.attribute)}
    for init in graph.graph.initializer:
        w = numpy_helper.to_array(init)
        if w.dtype == np.float32 and w.ndim == 2 and min(w.shape) > 1:
            axis = 1 if init.name in transposed else 0
            init.CopyFrom(numpy_helper.from_array(fake_quantize(w, bits, axis), init.name))
    return graph


def main():
    config = json.loads((MODEL / "config.json").read_text())
    scheme = config["quantization"]
    vocab, hidden = config["vocab_size"], config["hidden_size"]
    table = np.fromfile(MODEL / "word_embeddings.f16", dtype="<f2").astype(np.float32).reshape(vocab, hidden)
    table = fake_quantize(table, scheme["table_bits"], 1)
    session = ort.InferenceSession(quantized_graph(scheme["graph_bits"]).SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    tok = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    sentences = json.loads((GOLDEN / "sentences.json").read_text())
    layers, heads = config["num_layers"], config["num_heads"]
    tensors = {}
    for i, text in enumerate(sentences):
        ids = np.array(tok.encode(text).ids, dtype=np.int64)
        seq = len(ids)
        logits, _, states = session.run(None, {
            "inputs_embeds": table[ids][None],
            "attention_mask": np.ones((1, seq), dtype=np.float32),
            "attention_gate": np.ones((layers, 1, heads, seq, seq), dtype=np.float32),
            "hidden_probe": np.zeros((layers, 1, seq, hidden), dtype=np.float32),
        })
        tensors[f"{i}.ids"] = ids
        tensors[f"{i}.logits"] = logits
        tensors[f"{i}.last_hidden_state"] = np.ascontiguousarray(states[-1:])
    save_file(tensors, str(GOLDEN / "default_quantized_forward.safetensors"))
    print("wrote", GOLDEN / "default_quantized_forward.safetensors", f"({len(sentences)} sentences)")


if __name__ == "__main__":
    main()
