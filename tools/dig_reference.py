"""Reference DIG and UDIG scores for the Rust tests: a direct PyTorch transcription of the published
definitions (Sanyal & Ren 2021; Roy & Kundu 2024), run on the tiny model with small settings.

Conventions (the same as crates/gradlens-attribution/src/methods/discretized.rs documents):
- each word token's path starts at its input embedding; special tokens stay at the input;
- DIG candidates: the nearest vocabulary words (L2) of the current anchor word; UDIG candidates: the
  nearest vocabulary words of the k-th of m points on the straight line to the baseline;
- words already on the path (the input word included) are never chosen again;
- monotonise: a dimension outside [current, baseline] becomes current - (current - baseline) / m;
- Greedy: the smallest L2 distance between a candidate and its monotonised version; MaxCount: the most
  monotone dimensions; ties go to the nearer candidate;
- path = baseline, anchors (reversed), input; `factor` midpoint insertions;
- attribution = sum_k grad(x_k) . (x_{k+1} - x_k), per token.

Usage: python tools/dig_reference.py   (writes tests/golden/tiny_dig.safetensors)
"""

import numpy as np
import torch
from safetensors.numpy import save_file

from prepare_model import GOLDEN, REFERENCE_SENTENCES, EmbeddingClassifier, probe_inputs

CASES = {
    "dig_greedy": dict(uniform=False, neighbors=40, strategy="greedy", steps=6, factor=1),
    "dig_maxcount": dict(uniform=False, neighbors=40, strategy="maxcount", steps=6, factor=0),
    "udig_greedy": dict(uniform=True, neighbors=10, strategy="greedy", steps=6, factor=0),
    "udig_maxcount": dict(uniform=True, neighbors=10, strategy="maxcount", steps=6, factor=1),
}


def nearest(table, query, k):
    d = ((table - query[None, :]) ** 2).sum(-1)
    return torch.argsort(d, stable=True)[:k].tolist()


def monotonise(w, c, b, steps):
    lo, hi = torch.minimum(c, b), torch.maximum(c, b)
    inside = (w >= lo) & (w <= hi)
    v = torch.where(inside, w, c - (c - b) / steps)
    return v, float(torch.linalg.norm(w - v)), int(inside.sum())


def dig_path(table, word, x, b, uniform, neighbors, strategy, steps):
    path, used = [x], [word]
    for step in range(1, steps + 1):
        query = x - step / steps * (x - b) if uniform else table[used[-1]]
        candidates = [c for c in nearest(table, query, neighbors + steps + 1) if c not in used][:neighbors]
        current = path[-1]
        best = None
        for c in candidates:
            v, dist, count = monotonise(table[c], current, b, steps)
            key = dist if strategy == "greedy" else -count
            if best is None or key < best[0]:
                best = (key, c, v)
        used.append(best[1])
        path.append(best[2])
    path.append(b)
    return path[::-1]


def upscale(path, factor):
    for _ in range(factor):
        finer = []
        for a, c in zip(path[:-1], path[1:]):
            finer += [a, (a + c) / 2]
        path = finer + [path[-1]]
    return path


def main():
    classifier = EmbeddingClassifier("tiny")
    model, wrapper, tok, table, pad = classifier.model, classifier.wrapper, classifier.tok, classifier.table, classifier.pad
    out = {}
    for i, text in enumerate(REFERENCE_SENTENCES):
        e = tok.encode(text)
        x = table[torch.tensor(e.ids)]
        seq = x.shape[0]
        target = int(wrapper(x[None], torch.ones(1, seq), *probe_inputs(model, 1, seq))[0][0].argmax())
        for name, case in CASES.items():
            paths = {}
            for j, w in enumerate(e.word_ids):
                if w is not None:
                    p = dig_path(table, e.ids[j], x[j], pad, case["uniform"], case["neighbors"], case["strategy"], case["steps"])
                    paths[j] = upscale(p, case["factor"])
            length = len(next(iter(paths.values())))
            points = torch.stack([torch.stack([paths[j][k] if j in paths else x[j] for j in range(seq)]) for k in range(length)])
            points.requires_grad_(True)
            logits = wrapper(points, torch.ones(length, seq), *probe_inputs(model, length, seq))[0]
            logits[:, target].sum().backward()
            grads = points.grad.detach()
            steps_ = points.detach()[1:] - points.detach()[:-1]
            scores = (grads[:-1] * steps_).sum(dim=(0, 2))
            out[f"{i}.{name}"] = scores.numpy().astype(np.float32)
    save_file({k: np.ascontiguousarray(v) for k, v in out.items()}, str(GOLDEN / "tiny_dig.safetensors"))
    print("tiny_dig:", (GOLDEN / "tiny_dig.safetensors").stat().st_size, "bytes")


if __name__ == "__main__":
    main()
