"""Speed of GradLens (burn, CPU) against PyTorch + Captum on the same model, inputs and machine, in one run.

Times the bare forward and forward+backward passes (1 x 32 and 16 x 128 tokens) and each attribution method
per text on test-split sentences of about 32 tokens, then prints GradLens / peer ratios (below 1: GradLens
is faster). Both sides use every core. Usage: python tools/benchmark.py [--model default] [--texts 8]
"""

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

import torch
from captum.attr import InputXGradient, IntegratedGradients, NoiseTunnel, Saliency

from prepare_model import DATA, ROOT, EmbeddingClassifier, probe_inputs, read_jsonl, tokenizer

METHODS = ["saliency", "gradient_x_input", "integrated_gradients", "smooth_grad", "grad_sam", "occlusion"]


def median_time(repeat, f):
    f()
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        runs.append(time.perf_counter() - start)
    return sorted(runs)[len(runs) // 2]


def pick_texts(count, tokens=32):
    tok = tokenizer()
    rows = read_jsonl(DATA / "test.jsonl")
    chosen = [r["text"] for r in rows if abs(len(tok.encode(r["text"]).ids) - tokens) <= 2]
    return chosen[:count]


def gradlens(args, model):
    cmd = ["cargo", "run", "--quiet", "-p", "gradlens-cli", "--", "bench", "--model", model, *args]
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def peers(name, texts, repeat):
    classifier = EmbeddingClassifier(name)
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
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count())

    texts = pick_texts(args.texts)
    work = ROOT / "target" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    (work / "texts.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))

    ours = {}
    for row in gradlens(
        ["--forward", "1x32,16x128", "--texts", str(work / "texts.jsonl"), "-m", ",".join(METHODS), "--repeat", str(args.repeat)],
        args.model,
    ):
        ours[row["case"]] = row.get("seconds", row.get("seconds_per_text"))
    theirs = peers(args.model, texts, args.repeat)

    print(f"model: {args.model}; {len(texts)} test-split texts of about 32 tokens; {os.cpu_count()} cores; torch {torch.__version__}")
    print(f"{'case':<28}{'GradLens (s)':>14}{'PyTorch/Captum (s)':>20}{'ratio':>8}")
    for case, peer in theirs.items():
        mine = ours[case]
        print(f"{case:<28}{mine:>14.4f}{peer:>20.4f}{mine / peer:>8.2f}")


if __name__ == "__main__":
    main()
