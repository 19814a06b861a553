//! The imported graphs against onnxruntime (forward) and PyTorch (gradients), on both shipped models.

mod common;

use burn::prelude::*;
use common::{assert_close, forward_golden, load};
use gradlens_golden::sentences;
use gradlens_model::{Classifier, GraphKind};

const FORWARD_TOLERANCE: f32 = 1e-4;
const GRADIENT_TOLERANCE: f32 = 1e-4;

fn forward_matches_onnxruntime(kind: GraphKind) {
    let device = Device::flex();
    let model = load(kind, &device);
    let golden = forward_golden(kind);
    for (i, text) in sentences().iter().enumerate() {
        let encoded = model.encode(text).unwrap();
        let ids: Vec<i64> = encoded.ids.iter().map(|&id| id as i64).collect();
        assert_eq!(ids, golden.i64s(&format!("{i}.ids")), "token ids of {text:?}");
        let out = model.forward_batch(&model.batch(&[&encoded.ids]));
        assert_close(&format!("{i}.logits"), out.logits, &golden.f32s(&format!("{i}.logits")), FORWARD_TOLERANCE);
        assert_close(&format!("{i}.attentions"), out.attentions, &golden.f32s(&format!("{i}.attentions")), FORWARD_TOLERANCE);
        assert_close(&format!("{i}.hidden_states"), out.hidden_states, &golden.f32s(&format!("{i}.hidden_states")), FORWARD_TOLERANCE);
    }
}

/// Padding must not change a text's logits: a padded batch of two equals the reference batch.
fn padded_batch_matches(kind: GraphKind) {
    let device = Device::flex();
    let model = load(kind, &device);
    let golden = forward_golden(kind);
    let texts = sentences();
    let a = model.encode(&texts[0]).unwrap();
    let b = model.encode(&texts[1]).unwrap();
    assert_ne!(a.len(), b.len(), "the batch must need padding");
    let batch = model.batch(&[&a.ids, &b.ids]);
    let ids: Vec<i64> = batch.ids.clone().into_data().convert::<i64>().try_to_vec().unwrap();
    assert_eq!(ids, golden.i64s("batch.ids"));
    assert_close("batch.mask", batch.mask.clone(), &golden.f32s("batch.mask"), 0.0);
    assert_close("batch.logits", model.forward_batch(&batch).logits, &golden.f32s("batch.logits"), FORWARD_TOLERANCE);
}

/// d(logit of the predicted class) w.r.t. the embeddings, the attention gate and the hidden probe.
fn gradients_match_pytorch(kind: GraphKind) {
    let device = Device::flex().autodiff();
    let model = load(kind, &device);
    let golden = forward_golden(kind);
    for (i, text) in sentences().iter().enumerate() {
        let grads = target_gradients(&model, text);
        assert_eq!(grads.target as i64, golden.i64s(&format!("{i}.target"))[0], "predicted class of {text:?}");
        let name = |what: &str| format!("{i}.grad_{what}");
        assert_close(&name("embeddings"), grads.embeddings, &golden.f32s(&name("embeddings")), GRADIENT_TOLERANCE);
        assert_close(&name("gate"), grads.gate, &golden.f32s(&name("gate")), GRADIENT_TOLERANCE);
        assert_close(&name("probe"), grads.probe, &golden.f32s(&name("probe")), GRADIENT_TOLERANCE);
    }
}

struct TargetGradients {
    target: usize,
    /// `[1, S, H]`
    embeddings: Tensor<3>,
    /// `[L, 1, N, S, S]`
    gate: Tensor<5>,
    /// `[L, 1, S, H]`
    probe: Tensor<4>,
}

/// Gradients of the predicted class' logit w.r.t. every input of the graph.
fn target_gradients(model: &Classifier, text: &str) -> TargetGradients {
    let encoded = model.encode(text).unwrap();
    let batch = model.batch(&[&encoded.ids]);
    let embeddings = model.embed(batch.ids.clone()).detach().require_grad();
    let mut probes = model.neutral_probes(1, encoded.len());
    probes.attention_gate = probes.attention_gate.require_grad();
    probes.hidden_probe = probes.hidden_probe.require_grad();
    let out = model.forward(embeddings.clone(), batch.mask, probes.clone());
    let target = out.logits.clone().argmax(1).into_data().convert::<i64>().try_to_vec::<i64>().unwrap()[0] as usize;
    let grads = out.logits.slice([0..1, target..target + 1]).sum().backward();
    TargetGradients {
        target,
        embeddings: embeddings.grad(&grads).unwrap(),
        gate: probes.attention_gate.grad(&grads).unwrap(),
        probe: probes.hidden_probe.grad(&grads).unwrap(),
    }
}

#[test]
fn tiny_forward_matches_onnxruntime() {
    forward_matches_onnxruntime(GraphKind::Tiny);
}

#[test]
fn tiny_padded_batch_matches() {
    padded_batch_matches(GraphKind::Tiny);
}

#[test]
fn tiny_gradients_match_pytorch() {
    gradients_match_pytorch(GraphKind::Tiny);
}

#[test]
fn default_forward_matches_onnxruntime() {
    forward_matches_onnxruntime(GraphKind::Site);
}

#[test]
fn default_padded_batch_matches() {
    padded_batch_matches(GraphKind::Site);
}

#[test]
fn default_gradients_match_pytorch() {
    gradients_match_pytorch(GraphKind::Site);
}
