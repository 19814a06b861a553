"""Turns the default model into the folder transformers.js loads (token ids in, logits out), for the
side-by-side forward-pass timing in tools/transformers_js/bench.mjs. Same weights, same graph: the word
embeddings are looked up inside the graph, the attention gates are all ones and the hidden-state probes all
zeros, as the page passes them.

    python tools/transformers_js/make_model.py OUT_DIR      (needs: pip install onnx numpy)
"""

import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "default"


def main(out: Path) -> None:
    config = json.loads((MODEL / "config.json").read_text())
    layers, heads, hidden = config["num_layers"], config["num_heads"], config["hidden_size"]
    model = onnx.load(MODEL / "classifier.onnx")
    graph = model.graph

    renamed = {"inputs_embeds": "embeds", "attention_mask": "mask_f", "attention_gate": "gate", "hidden_probe": "probe"}
    for node in graph.node:
        node.input[:] = [renamed.get(name, name) for name in node.input]
    table = np.fromfile(MODEL / "word_embeddings.f16", dtype="<f2").astype(np.float32).reshape(config["vocab_size"], hidden)
    graph.initializer.extend([
        numpy_helper.from_array(table, "word_table"),
        numpy_helper.from_array(np.array([layers], np.int64), "layers"),
        numpy_helper.from_array(np.array([heads], np.int64), "heads"),
        numpy_helper.from_array(np.array([hidden], np.int64), "hidden"),
    ])
    prologue = [
        helper.make_node("Gather", ["word_table", "input_ids"], ["embeds"]),
        helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT),
        helper.make_node("Shape", ["input_ids"], ["batch"], start=0, end=1),
        helper.make_node("Shape", ["input_ids"], ["seq"], start=1, end=2),
        helper.make_node("Concat", ["layers", "batch", "heads", "seq", "seq"], ["gate_shape"], axis=0),
        helper.make_node("ConstantOfShape", ["gate_shape"], ["gate"], value=numpy_helper.from_array(np.ones(1, np.float32))),
        helper.make_node("Concat", ["layers", "batch", "seq", "hidden"], ["probe_shape"], axis=0),
        helper.make_node("ConstantOfShape", ["probe_shape"], ["probe"], value=numpy_helper.from_array(np.zeros(1, np.float32))),
    ]
    nodes = prologue + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.input[:]
    graph.input.extend([
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
        helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
    ])
    logits = [o for o in graph.output if o.name == "logits"]
    del graph.output[:]
    graph.output.extend(logits)
    onnx.checker.check_model(model)

    (out / "onnx").mkdir(parents=True, exist_ok=True)
    onnx.save(model, out / "onnx" / "model.onnx")
    (out / "tokenizer.json").write_bytes((MODEL / "tokenizer.json").read_bytes())
    labels = config["labels"]
    (out / "config.json").write_text(json.dumps({
        "model_type": "bert",
        "architectures": ["BertForSequenceClassification"],
        "hidden_size": hidden, "num_hidden_layers": layers, "num_attention_heads": heads,
        "vocab_size": config["vocab_size"], "max_position_embeddings": 512,
        "id2label": {str(i): label for i, label in enumerate(labels)},
        "label2id": {label: i for i, label in enumerate(labels)},
    }, indent=2))
    (out / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "BertTokenizer", "do_lower_case": True, "model_max_length": config["max_len"],
    }, indent=2))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
