"""Speed of GradLens (burn, CPU) against PyTorch + Captum on the same model, inputs and machine, in one run.

Times the bare forward and forward+backward passes (1 x 32 and 16 x 128 tokens) and each attribution method
per text on test-split sentences of about 32 tokens, then prints GradLens / peer ratios (below 1: GradLens
is faster). Both sides use every core (`--threads 1`: one each). The PyTorch side is built from the
shipped files of models/<model> (no checkpoint needed) and checked against onnxruntime on the same graph
before anything is timed. Usage: python tools/benchmark.py [--model default] [--texts 8] [--threads N]
"""

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

import torch
from captum.attr import InputXGradient, IntegratedGradients, NoiseTunnel, Saliency

from prepare_model import DATA, MODELS, ROOT, EmbeddingClassifier, probe_inputs, read_jsonl

METHODS = ["saliency", "gradient_x_input", "integrated_gradients", "smooth_grad", "grad_sam", "occlusion"]


def median_time(repeat, f):
    f()
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        runs.append(time.perf_counter() - start)
    return sorted(runs)[len(runs) // 2]


def pick_texts(tok, count, tokens=32):
    rows = read_jsonl(DATA / "test.jsonl")
    chosen = [r["text"] for r in rows if abs(len(tok.encode(r["text"]).ids) - tokens) <= 2]
    return chosen[:count]


def gradlens(args, model, threads):
    cmd = ["cargo", "run", "--quiet", "-p", "gradlens-cli", "--", "bench", "--model", model, *args]
    env = {**os.environ, **({"RAYON_NUM_THREADS": str(threads)} if threads else {})}
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True, env=env).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def same_as_onnxruntime(name, classifier, texts):
    """The largest difference between the PyTorch side's logits and onnxruntime's on the shipped graph."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(MODELS / name / "classifier.onnx"))
    worst = 0.0
    for text in texts:
        x = classifier.table[torch.tensor([classifier.tok.encode(text).ids])]
        seq = x.shape[1]
        gate, probe = probe_inputs(classifier.model, 1, seq)
        feeds = {"inputs_embeds": x.numpy(), "attention_mask": torch.ones(1, seq).numpy(), "attention_gate": gate.numpy(), "hidden_probe": probe.numpy()}
        theirs = session.run(["logits"], feeds)[0]
        with torch.no_grad():
            worst = max(worst, float((classifier.logits(x) - torch.from_numpy(theirs)).abs().max()))
    return worst


def peers(classifier, texts, repeat):
    model, wrapper, tok, table, pad = classifier.model, classifier.wrapper, classifier.tok, classifier.table, classifier.pad
    logits_of = classifier.logits

    results = {}
    unk = tok.token_to_id("[UNK]")
    for b, s in [(1, 32), (16, 128)]:
        x = table[torch.full((b, s), unk)].clone()
        with torch.no_grad():
            results[f"forward {b}x{s}"] = median_time(repeat, lambda: logits_of(x))

        def fb():
            xg = x.clone().requires_grad_(True)
            logits_of(xg).sum().backward()

        results[f"forward+backward {b}x{s}"] = median_time(repeat, fb)

    inputs = []
    for text in texts:
        e = tok.encode(text)
        x = table[torch.tensor([e.ids])].clone()
        special = torch.tensor([w is None for w in e.word_ids])
        baseline = torch.where(special[None, :, None], x, pad.expand_as(x))
        with torch.no_grad():
            target = int(logits_of(x)[0].argmax())
        inputs.append((x, baseline, target, special))

    def per_text(f):
        return median_time(repeat, lambda: [f(*i) for i in inputs]) / len(inputs)

    results["saliency"] = per_text(lambda x, b, t, s: Saliency(logits_of).attribute(x, target=t, abs=False))
    results["gradient_x_input"] = per_text(lambda x, b, t, s: InputXGradient(logits_of).attribute(x, target=t))
    results["integrated_gradients"] = per_text(
        lambda x, b, t, s: IntegratedGradients(logits_of).attribute(
            x, baselines=b, target=t, n_steps=50, method="gausslegendre", internal_batch_size=25
        )
    )
    results["smooth_grad"] = per_text(
        lambda x, b, t, s: NoiseTunnel(InputXGradient(logits_of)).attribute(
            x, nt_type="smoothgrad", nt_samples=20, nt_samples_batch_size=20, stdevs=0.15 * float(x.max() - x.min()), target=t
        )
    )

    def grad_sam(x, b, t, s):
        seq = x.shape[1]
        gate, probe = probe_inputs(model, 1, seq)
        gate.requires_grad_(True)
        wrapper(x, torch.ones(1, seq), gate, probe)[0][0, t].backward()
        return torch.relu(gate.grad).mean(dim=(0, 1, 2)).mean(0)

    results["grad_sam"] = per_text(grad_sam)

    def occlusion(x, b, t, s):
        words = [i for i in range(x.shape[1]) if not s[i]]
        batch = x.repeat(len(words), 1, 1)
        for k, i in enumerate(words):
            batch[k, i] = b[0, i]
        with torch.no_grad():
            return torch.softmax(logits_of(batch), -1)[:, t]

    results["occlusion"] = per_text(occlusion)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default")
    parser.add_argument("--texts", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="threads per side (default: every core)")
    args = parser.parse_args()
    threads = args.threads or os.cpu_count()
    torch.set_num_threads(threads)

    classifier = EmbeddingClassifier(args.model, shipped=True)
    texts = pick_texts(classifier.tok, args.texts)
    gap = same_as_onnxruntime(args.model, classifier, texts)
    assert gap < 1e-4, f"the PyTorch side differs from the shipped graph by {gap}"
    work = ROOT / "target" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    (work / "texts.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))

    ours = {}
    for row in gradlens(
        ["--forward", "1x32,16x128", "--texts", str(work / "texts.jsonl"), "-m", ",".join(METHODS), "--repeat", str(args.repeat)],
        args.model,
        args.threads,
    ):
        ours[row["case"]] = row.get("seconds", row.get("seconds_per_text"))
    theirs = peers(classifier, texts, args.repeat)

    print(f"model: {args.model} (PyTorch side from the shipped files, logits within {gap:.1e} of onnxruntime); "
          f"{len(texts)} test-split texts of about 32 tokens; {threads} threads per side; torch {torch.__version__}")
    print(f"{'case':<28}{'GradLens (s)':>14}{'PyTorch/Captum (s)':>20}{'ratio':>8}")
    for case, peer in theirs.items():
        mine = ours[case]
        print(f"{case:<28}{mine:>14.4f}{peer:>20.4f}{mine / peer:>8.2f}")


if __name__ == "__main__":
    main()
