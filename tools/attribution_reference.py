"""Reference attributions for the Rust tests, from independent code on the same weights and sentences.

- Captum (PyTorch): Saliency, InputXGradient and IntegratedGradients (every rule, 50 steps, [PAD]
  baseline with [CLS]/[SEP] kept), reduced to one score per token the way the Rust methods reduce.
- Straightforward PyTorch computations of the attention methods' definitions (docs: shared methods.md):
  raw attention, attention rollout, Grad-SAM and gradient-weighted rollout from dF/dA taken directly on the
  attention probabilities (not through the gate), and GAM from dF/dH taken directly on the layer outputs.

Usage: python tools/attribution_reference.py [--models tiny default]
Writes tests/golden/<model>_attributions.safetensors.
"""

import argparse

import numpy as np
import torch
from captum.attr import InputXGradient, IntegratedGradients, Saliency
from safetensors.numpy import save_file

from prepare_model import GOLDEN, REFERENCE_SENTENCES, EmbeddingClassifier, probe_inputs

IG_RULES = {
    "riemann_left": "riemann_left",
    "riemann_right": "riemann_right",
    "riemann_middle": "riemann_middle",
    "riemann_trapezoid": "riemann_trapezoid",
    "gauss_legendre": "gausslegendre",
}
IG_STEPS = 50


def references(name):
    classifier = EmbeddingClassifier(name)
    model, wrapper, tok, table, pad = classifier.model, classifier.wrapper, classifier.tok, classifier.table, classifier.pad
    logits_of = classifier.logits

    out = {}
    for i, text in enumerate(REFERENCE_SENTENCES):
        e = tok.encode(text)
        ids = torch.tensor([e.ids])
        seq = ids.shape[1]
        x = table[ids].clone()
        special = torch.tensor([w is None for w in e.word_ids])
        target = int(logits_of(x)[0].argmax())
        out[f"{i}.target"] = np.array([target], dtype=np.int64)

        grad = Saliency(logits_of).attribute(x, target=target, abs=False)
        out[f"{i}.saliency_l2"] = grad[0].norm(dim=-1).numpy()
        out[f"{i}.saliency_signed"] = grad[0].sum(-1).numpy()
        out[f"{i}.gradient_x_input"] = InputXGradient(logits_of).attribute(x, target=target)[0].sum(-1).detach().numpy()

        baseline = torch.where(special[None, :, None], x, pad.expand_as(x))
        ig = IntegratedGradients(logits_of)
        for ours, captum_name in IG_RULES.items():
            attr, delta = ig.attribute(
                x, baselines=baseline, target=target, n_steps=IG_STEPS, method=captum_name,
                return_convergence_delta=True,
            )
            out[f"{i}.ig.{ours}"] = attr[0].sum(-1).detach().numpy()
            out[f"{i}.ig.{ours}.delta"] = delta.detach().numpy().astype(np.float32)

        # Attention methods from their definitions, with gradients taken on A and H themselves.
        wrapper.keep_intermediates = True
        xg = x.clone().requires_grad_(True)
        gate, probe = probe_inputs(model, 1, seq)
        logits = wrapper(xg, torch.ones(1, seq), gate, probe)[0]
        logits[0, target].backward()
        attentions, states = wrapper.intermediates
        wrapper.keep_intermediates = False
        A = [a.detach()[0] for a in attentions]  # per layer [N, S, S]
        G = [a.grad[0] for a in attentions]
        eye = torch.eye(seq)

        out[f"{i}.raw_attention"] = A[-1].mean(0)[0].numpy()

        rollout = eye.clone()
        for a in A:
            a_hat = a.mean(0) + eye
            a_hat = a_hat / a_hat.sum(-1, keepdim=True)
            rollout = a_hat @ rollout
        out[f"{i}.attention_rollout"] = rollout[0].numpy()

        sam = torch.stack([a * torch.relu(g) for a, g in zip(A, G)]).mean(dim=(0, 1))
        out[f"{i}.grad_sam_column"] = sam.mean(0).numpy()
        out[f"{i}.grad_sam_row"] = sam.mean(1).numpy()

        relevance = eye.clone()
        for a, g in zip(A, G):
            relevance = relevance + torch.relu(g * a).mean(0) @ relevance
        out[f"{i}.gradient_weighted_rollout"] = relevance[0].numpy()

        gam = torch.zeros(seq)
        for h in states[1:]:
            m = (torch.relu(h.grad[0]) * h.detach()[0]).sum(-1)
            gam += (m - m.min()) / (m.max() - m.min())
        out[f"{i}.gam"] = gam.numpy()

    out = {k: np.ascontiguousarray(v, dtype=v.dtype) for k, v in out.items()}
    path = GOLDEN / f"{name}_attributions.safetensors"
    save_file(out, str(path))
    print(name, path.stat().st_size, "bytes")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["tiny", "default"])
    args = parser.parse_args()
    for name in args.models:
        references(name)
