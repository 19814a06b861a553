//! Layer saliency against a computation by hand on the default model: each position's saliency by
//! central finite differences along its own hidden state (through the hidden-state probe, no
//! backward pass), decoded with a plain softmax over the embedding table.

use burn::prelude::*;
use burn::tensor::activation::softmax;
use gradlens_attribution::methods::LayerSaliency;
use gradlens_attribution::{AttributionMethod, ExplainedInput, Target};
use gradlens_golden::assert_close;
use gradlens_model::{Classifier, GraphKind, ModelAssets};
use pollster::FutureExt as _;

const TEXT: &str = "Not bad at all, quite lovely.";

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
}

/// The target logit with `step * hidden_state` added to position `i`'s output of layer `l` (0-based).
fn nudged_logit(model: &Classifier, input: &ExplainedInput, l: usize, i: usize, hidden: &Tensor<2>, step: f32) -> f64 {
    let s = input.len();
    let h = model.config().hidden_size;
    let mut probes = model.neutral_probes(1, s);
    let nudge = hidden.clone().narrow(0, i, 1).reshape([1, 1, 1, h]) * step;
    probes.hidden_probe = probes.hidden_probe.slice_assign([l..l + 1, 0..1, i..i + 1, 0..h], nudge);
    let logits = model.forward(input.embeddings.clone(), input.mask.clone(), probes).logits;
    f64::from(values(logits)[input.target])
}

#[test]
fn layer_saliency_equals_finite_differences_decoded_by_hand() {
    let model = Classifier::load(&ModelAssets::full_precision(GraphKind::Site).unwrap(), &Device::flex().autodiff()).unwrap();
    let input = ExplainedInput::new(&model, TEXT, Target::Predicted).block_on().unwrap();
    let out = LayerSaliency::default().attribute(&input).block_on().unwrap();
    let layers = model.config().num_layers;
    let readings = &out.diagnostics.readings.as_ref().expect("every layer's reading").parts;
    assert_eq!(readings.len(), layers);

    let s = input.len();
    let words: Vec<usize> = (0..s).filter(|&i| !input.encoded.is_special(i)).collect();
    let hidden_states = input.outputs().hidden_states;
    let table = model.word_embeddings().clone();
    for (l, reading) in readings.iter().enumerate() {
        let hidden = hidden_states.clone().narrow(0, l + 1, 1).reshape([s, model.config().hidden_size]);
        // a_i: the derivative of the target logit along position i's own hidden state.
        let eps = 1e-2;
        let saliency: Vec<f64> = (0..s)
            .map(|i| (nudged_logit(&model, &input, l, i, &hidden, eps) - nudged_logit(&model, &input, l, i, &hidden, -eps)) / (2.0 * f64::from(eps)))
            .collect();
        let decoded = values(softmax(hidden.matmul(table.clone().transpose()), 1));
        let vocab = model.config().vocab_size;
        let mut expected = vec![0.0f32; s];
        let mut coherence = 0.0;
        for i in 0..s {
            let on_words: Vec<f64> = words.iter().map(|&j| f64::from(decoded[i * vocab + input.encoded.ids[j] as usize])).collect();
            let mass: f64 = on_words.iter().sum();
            for (&j, r) in words.iter().zip(&on_words) {
                expected[j] += (saliency[i] * r / mass) as f32;
            }
            if words.contains(&i) {
                coherence += mass / words.len() as f64;
            }
        }
        assert_close(&format!("layer {} scores", l + 1), &reading.token_scores, &expected, 2e-3);
        assert_eq!(reading.label, format!("layer {}", l + 1));
        assert!((f64::from(reading.score) - coherence).abs() < 1e-4, "layer {}: {} vs {coherence}", l + 1, reading.score);
        assert!(expected.iter().any(|v| v.abs() > 1e-2), "layer {}: {expected:?}", l + 1);
    }

    // The reported layer: the most coherent, unless one is asked for.
    let best = (0..layers).max_by(|&a, &b| readings[a].score.total_cmp(&readings[b].score)).unwrap();
    assert_eq!(out.conventions["layer"], best + 1);
    assert_eq!(out.token_scores, readings[best].token_scores);
    let third = LayerSaliency { layer: Some(3) }.attribute(&input).block_on().unwrap();
    assert_eq!(third.token_scores, readings[2].token_scores);
}
