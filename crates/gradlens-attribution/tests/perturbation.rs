//! Occlusion and SmoothGrad against values computed by hand, through plain forward passes.

use pollster::FutureExt as _;
use burn::prelude::*;
use burn::tensor::activation::softmax;
use gradlens_attribution::methods::{GradientXInput, Occlusion, OcclusionMode, SmoothGrad, SmoothGradOf};
use gradlens_attribution::{AttributionMethod, Baseline, ExplainedInput, Target};
use gradlens_golden::assert_close;
use gradlens_model::{Classifier, GraphKind, ModelAssets};

const TEXT: &str = "The plot is thin, but the cast is wonderful.";

fn tiny() -> Classifier {
    Classifier::load(&ModelAssets::shipped(GraphKind::Tiny).unwrap(), &Device::flex().autodiff()).unwrap()
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

    let unsigned = SmoothGrad { of: SmoothGradOf::Gradient, ..noisy }.attribute(&input).block_on().unwrap().token_scores;
    assert!(unsigned.iter().all(|v| *v >= 0.0));
}

#[test]
fn a_class_that_does_not_exist_is_an_error() {
    let model = tiny();
    let error = ExplainedInput::new(&model, TEXT, Target::Class(5)).block_on().err().expect("class 5 of 2");
    assert!(error.to_string().contains("negative, positive"), "{error}");
}
