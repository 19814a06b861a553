//! Model-parameter randomisation (Adebayo et al. 2018, "Sanity Checks for Saliency Maps"): an explanation
//! that does not change when the model's top layers are re-initialised does not explain the model.

use burn::prelude::*;
use gradlens_attribution::{AttributionMethod, ExplainedInput, Method, Target};
use gradlens_golden::sentences;
use gradlens_graph::fixture::TINY_RANDOMISED_TOP_WEIGHTS_PATH;
use gradlens_model::{Classifier, GraphKind, ModelAssets};
use pollster::FutureExt as _;

/// The rank correlation of a method's scores on the randomised and the trained model must stay below this
/// (Adebayo et al. compare with Spearman's rank correlation).
const MAX_MEAN_RANK_CORRELATION: f32 = 0.9;

/// Spearman's rank correlation (no ties expected in float scores).
fn spearman(a: &[f32], b: &[f32]) -> f32 {
    let ranks = |v: &[f32]| {
        let mut order: Vec<usize> = (0..v.len()).collect();
        order.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
        let mut r = vec![0.0f32; v.len()];
        order.iter().enumerate().for_each(|(rank, &i)| r[i] = rank as f32);
        r
    };
    let (ra, rb) = (ranks(a), ranks(b));
    let n = a.len() as f32;
    let d2: f32 = ra.iter().zip(&rb).map(|(x, y)| (x - y).powi(2)).sum();
    1.0 - 6.0 * d2 / (n * (n * n - 1.0))
}

#[test]
fn every_method_changes_when_the_top_layers_are_randomised() {
    let device = Device::flex().autodiff();
    let trained_assets = ModelAssets::full_precision(GraphKind::Tiny).unwrap();
    let trained = Classifier::load(&trained_assets, &device).unwrap();
    let randomised_assets = ModelAssets { weights: std::fs::read(TINY_RANDOMISED_TOP_WEIGHTS_PATH).unwrap(), ..trained_assets };
    let randomised = Classifier::load(&randomised_assets, &device).unwrap();
    let texts = sentences();
    for method in Method::all_defaults() {
        let mut similarity = 0.0;
        for text in &texts {
            let scores = |model: &Classifier| {
                let input = ExplainedInput::new(model, text, Target::Class(1)).block_on().unwrap();
                method.attribute(&input).block_on().unwrap().token_scores
            };
            similarity += spearman(&scores(&trained), &scores(&randomised));
        }
        let mean = similarity / texts.len() as f32;
        println!("{}: mean rank correlation {mean:.3}", method.name());
        assert!(mean < MAX_MEAN_RANK_CORRELATION, "{}: scores barely change on a randomised model (mean rank correlation {mean})", method.name());
    }
}
