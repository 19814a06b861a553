//! Occlusion, SmoothGrad, LIME, KernelSHAP and Shapley value sampling against values computed by hand,
//! through plain forward passes.

use burn::prelude::*;
use burn::tensor::activation::softmax;
use gradlens_attribution::methods::{GradientXInput, KernelShap, Lime, Occlusion, OcclusionMode, ShapleySampling, SmoothGrad, SmoothGradOf};
use gradlens_attribution::{AttributionMethod, Baseline, ExplainedInput, Target};
use gradlens_golden::assert_close;
use gradlens_model::{Classifier, GraphKind, ModelAssets};
use pollster::FutureExt as _;

const TEXT: &str = "The plot is thin, but the cast is wonderful.";

fn tiny() -> Classifier {
    Classifier::load(&ModelAssets::full_precision(GraphKind::Tiny).unwrap(), &Device::flex().autodiff()).unwrap()
}

/// The target class' probability for each token-id sequence, one plain forward pass each.
fn probabilities(model: &Classifier, sequences: &[Vec<u32>], target: usize) -> Vec<f32> {
    sequences
        .iter()
        .map(|ids| {
            let p = softmax(model.forward_batch(&model.batch(&[ids])).logits, 1);
            p.into_data().try_to_vec::<f32>().unwrap()[target]
        })
        .collect()
}

fn occlusion_by_hand(model: &Classifier, input: &ExplainedInput, edit: impl Fn(&mut Vec<u32>, usize)) -> Vec<f32> {
    let full = probabilities(model, &[input.encoded.ids.clone()], input.target)[0];
    (0..input.len())
        .map(|i| {
            if input.encoded.is_special(i) {
                return 0.0;
            }
            let mut ids = input.encoded.ids.clone();
            edit(&mut ids, i);
            full - probabilities(model, &[ids], input.target)[0]
        })
        .collect()
}

#[test]
fn occlusion_by_replacement_equals_single_forward_passes() {
    let model = tiny();
    let input = ExplainedInput::new(&model, TEXT, Target::Predicted).block_on().unwrap();
    let pad = model.config().special_tokens.pad;
    let expected = occlusion_by_hand(&model, &input, |ids, i| ids[i] = pad);
    let got = Occlusion { internal_batch_size: 4, ..Default::default() }.attribute(&input).block_on().unwrap().token_scores;
    assert_close("occlusion (replace by [PAD])", &got, &expected, 1e-5);
    assert!(expected.iter().any(|v| v.abs() > 1e-4), "the text must have influential tokens");
}

#[test]
fn occlusion_by_deletion_equals_single_forward_passes() {
    let model = tiny();
    let input = ExplainedInput::new(&model, TEXT, Target::Class(0)).block_on().unwrap();
    let expected = occlusion_by_hand(&model, &input, |ids, i| {
        ids.remove(i);
    });
    let occlusion = Occlusion { mode: OcclusionMode::Delete, ..Default::default() };
    assert_close("occlusion (delete)", &occlusion.attribute(&input).block_on().unwrap().token_scores, &expected, 1e-5);
}

#[test]
fn occlusion_with_the_mask_baseline_replaces_by_mask() {
    let model = tiny();
    let input = ExplainedInput::new(&model, TEXT, Target::Predicted).block_on().unwrap();
    let mask = model.config().special_tokens.mask;
    let expected = occlusion_by_hand(&model, &input, |ids, i| ids[i] = mask);
    let occlusion = Occlusion { baseline: Baseline::Mask, ..Default::default() };
    assert_close("occlusion (replace by [MASK])", &occlusion.attribute(&input).block_on().unwrap().token_scores, &expected, 1e-5);
}

#[test]
fn smooth_grad_without_noise_is_gradient_x_input_and_noise_is_seeded() {
    let model = tiny();
    let input = ExplainedInput::new(&model, TEXT, Target::Predicted).block_on().unwrap();
    let exact = GradientXInput.attribute(&input).block_on().unwrap().token_scores;
    let noiseless = SmoothGrad { sigma: 0.0, samples: 3, ..Default::default() }.attribute(&input).block_on().unwrap().token_scores;
    assert_close("smooth_grad at sigma 0", &noiseless, &exact, 1e-5);

    let noisy = SmoothGrad { samples: 8, internal_batch_size: 3, ..Default::default() };
    let once = noisy.attribute(&input).block_on().unwrap();
    assert_eq!(once.token_scores, noisy.attribute(&input).block_on().unwrap().token_scores, "same seed, same scores");
    let reseeded = SmoothGrad { seed: 7, ..noisy }.attribute(&input).block_on().unwrap().token_scores;
    assert_ne!(once.token_scores, reseeded, "another seed draws other noise");
    assert_ne!(once.token_scores, exact, "noise changes the gradients");

    // The unsigned variant without noise: each token's gradient L2 norm, computed here from the gradient.
    let unsigned = SmoothGrad { sigma: 0.0, samples: 2, of: SmoothGradOf::Gradient, ..Default::default() };
    let gradient: Vec<f32> = input.embedding_gradients(input.embeddings.clone()).into_data().try_to_vec::<f32>().unwrap();
    let h = gradient.len() / input.len();
    let norms: Vec<f32> = gradient.chunks(h).map(|g| g.iter().map(|v| v * v).sum::<f32>().sqrt()).collect();
    assert_close("smooth_grad of the gradient at sigma 0", &unsigned.attribute(&input).block_on().unwrap().token_scores, &norms, 1e-5);
}

#[test]
fn a_class_that_does_not_exist_is_an_error() {
    let model = tiny();
    let error = ExplainedInput::new(&model, TEXT, Target::Class(5)).block_on().err().expect("class 5 of 2");
    assert!(error.to_string().contains("negative, positive"), "{error}");
}

/// A short text: 4 word tokens, so 16 coalitions, few enough to enumerate.
const SHORT: &str = "Dull but lovely.";
/// KernelSHAP from 10 sampled coalitions, against the exact Shapley values (relative L2 error): 0.45
/// measured with seed 0; scores of zero would be 1.0 away.
const RELATIVE_ERROR_OF_10_SAMPLES: f32 = 0.5;

/// The default model: the tiny fixture hardly reacts to single words (its probabilities move by ~1e-4),
/// too little to tell a right Shapley value from a wrong one.
fn site_model() -> Classifier {
    Classifier::load(&ModelAssets::full_precision(GraphKind::Site).unwrap(), &Device::flex().autodiff()).unwrap()
}

/// The value of every coalition (bit `j` keeps word token `j`; the others become [PAD]), by plain
/// forward passes, with the word tokens' positions.
fn coalition_values(model: &Classifier, input: &ExplainedInput) -> (Vec<usize>, Vec<f32>) {
    let words: Vec<usize> = (0..input.len()).filter(|&i| !input.encoded.is_special(i)).collect();
    let pad = model.config().special_tokens.pad;
    let sequences: Vec<Vec<u32>> = (0..1usize << words.len())
        .map(|k| {
            let mut ids = input.encoded.ids.clone();
            for (j, &i) in words.iter().enumerate() {
                if k >> j & 1 == 0 {
                    ids[i] = pad;
                }
            }
            ids
        })
        .collect();
    (words, probabilities(model, &sequences, input.target))
}

/// Exact Shapley values from the definition: the weighted mean of each token's marginal contributions
/// over all coalitions of the others.
fn exact_shapley(model: &Classifier, input: &ExplainedInput) -> Vec<f32> {
    let (words, v) = coalition_values(model, input);
    let n = words.len();
    let factorial = |k: usize| (1..=k).product::<usize>() as f64;
    let mut scores = vec![0.0f32; input.len()];
    for (j, &i) in words.iter().enumerate() {
        let mut phi = 0.0f64;
        for s in (0..1usize << n).filter(|s| s >> j & 1 == 0) {
            let size = s.count_ones() as usize;
            let weight = factorial(size) * factorial(n - size - 1) / factorial(n);
            phi += weight * f64::from(v[s | 1 << j] - v[s]);
        }
        scores[i] = phi as f32;
    }
    scores
}

#[test]
fn kernel_shap_over_every_coalition_gives_the_exact_shapley_values() {
    let model = site_model();
    let input = ExplainedInput::new(&model, SHORT, Target::Predicted).block_on().unwrap();
    let expected = exact_shapley(&model, &input);
    assert!(expected.iter().any(|v| v.abs() > 0.05), "the text must have influential tokens: {expected:?}");
    let out = KernelShap { internal_batch_size: 5, ..Default::default() }.attribute(&input).block_on().unwrap();
    assert_eq!(out.conventions["coalitions"], "all");
    assert_close("KernelSHAP (every coalition)", &out.token_scores, &expected, 1e-4);
}

#[test]
fn kernel_shap_sampling_approximates_the_shapley_values() {
    let model = site_model();
    let input = ExplainedInput::new(&model, SHORT, Target::Predicted).block_on().unwrap();
    let expected = exact_shapley(&model, &input);
    // 10 coalitions of the 14 (sampled, with repeats): near the exact values, and efficient (the scores
    // sum to p(x) - p(baseline), computed here from the coalitions' own probabilities).
    let out = KernelShap { samples: 10, ..Default::default() }.attribute(&input).block_on().unwrap();
    assert_eq!(out.conventions["coalitions"], "sampled");
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let difference: Vec<f32> = out.token_scores.iter().zip(&expected).map(|(a, b)| a - b).collect();
    let relative_error = norm(&difference) / norm(&expected);
    assert!(relative_error < RELATIVE_ERROR_OF_10_SAMPLES, "KernelSHAP (10 samples) is {relative_error} away from the Shapley values");
    let (_, v) = coalition_values(&model, &input);
    let sum: f32 = out.token_scores.iter().sum();
    assert!((sum - (v[v.len() - 1] - v[0])).abs() < 1e-5, "sum {sum} vs p(x) - p(baseline)");
}

#[test]
fn shapley_sampling_is_complete_seeded_and_converges_to_the_exact_values() {
    let model = site_model();
    let input = ExplainedInput::new(&model, SHORT, Target::Predicted).block_on().unwrap();
    let expected = exact_shapley(&model, &input);
    let method = ShapleySampling { permutations: 2000, internal_batch_size: 500, ..Default::default() };
    let out = method.attribute(&input).block_on().unwrap();
    assert_close("Shapley value sampling (2000 permutations)", &out.token_scores, &expected, 0.03);
    let (_, v) = coalition_values(&model, &input);
    let sum: f32 = out.token_scores.iter().sum();
    assert!((sum - (v[v.len() - 1] - v[0])).abs() < 1e-5, "sum {sum} vs p(x) - p(baseline)");

    let few = ShapleySampling { permutations: 3, ..Default::default() };
    assert_eq!(few.attribute(&input).block_on().unwrap().token_scores, few.attribute(&input).block_on().unwrap().token_scores);
    let other_seed = ShapleySampling { seed: 1, ..few };
    assert_ne!(few.attribute(&input).block_on().unwrap().token_scores, other_seed.attribute(&input).block_on().unwrap().token_scores);
}

#[test]
fn lime_over_every_coalition_is_the_weighted_ridge_fit() {
    let model = site_model();
    let input = ExplainedInput::new(&model, SHORT, Target::Predicted).block_on().unwrap();
    let (words, v) = coalition_values(&model, &input);
    let lime = Lime::default();
    let out = lime.attribute(&input).block_on().unwrap();
    assert_eq!(out.conventions["coalitions"], "all");
    let beta: Vec<f64> = words.iter().map(|&i| f64::from(out.token_scores[i])).collect();

    // The sample weights, from LIME's text kernel: d = 100 x cosine distance to the full text.
    let n = words.len();
    let weight = |k: usize| {
        let d = if k == 0 { 100.0 } else { 100.0 * (1.0 - (k as f64 / n as f64).sqrt()) };
        (-(d * d) / (25.0f64 * 25.0)).exp().sqrt()
    };
    let z = |s: usize, j: usize| f64::from(u8::from(s >> j & 1 == 1));
    // The fitted coefficients must zero the gradient of sum_s w_s (y_s - b0 - z_s.beta)^2 + ridge |beta|^2,
    // with the intercept b0 at its optimum.
    let w: Vec<f64> = (0..v.len()).map(|s| weight((s as u32).count_ones() as usize)).collect();
    let total: f64 = w.iter().sum();
    let fitted = |s: usize| (0..n).map(|j| z(s, j) * beta[j]).sum::<f64>();
    let b0 = (0..v.len()).map(|s| w[s] * (f64::from(v[s]) - fitted(s))).sum::<f64>() / total;
    for j in 0..n {
        let gradient: f64 = (0..v.len()).map(|s| w[s] * (f64::from(v[s]) - b0 - fitted(s)) * z(s, j)).sum::<f64>() - f64::from(lime.ridge) * beta[j];
        assert!(gradient.abs() < 1e-5, "token {j}: gradient {gradient} (coefficients {beta:?})");
    }
    assert!(beta.iter().any(|b| b.abs() > 0.01), "{beta:?}");
}
