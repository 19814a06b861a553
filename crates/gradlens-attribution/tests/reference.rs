//! Every method against an independent reference on the same weights and sentences: Captum for the
//! gradient and path methods, straightforward PyTorch computations of the definitions (gradients taken on
//! the attention probabilities and layer outputs themselves, not through our gate and probe) for the rest.

use burn::prelude::*;
use gradlens_attribution::methods::{
    AttentionRollout, GradSam, GradSamReading, GradientWeightedRollout, GradientXInput, IntegratedGradients, LayerGam,
    RawAttention, Saliency, SaliencyNorm,
};
use gradlens_attribution::{AttributionMethod, ExplainedInput, IntegrationRule, Target};
use gradlens_golden::{Golden, assert_close, cosine, sentences};
use gradlens_model::{Classifier, GraphKind, ModelAssets};

/// Agreement required with Captum: the cosine bound, plus an elementwise bound.
const MIN_COSINE: f32 = 0.99;
const GRADIENT_TOLERANCE: f32 = 1e-3;
/// The attention methods are exact computations: they must agree to float precision.
const EXACT_TOLERANCE: f32 = 1e-4;

fn load(kind: GraphKind) -> Classifier {
    Classifier::load(&ModelAssets::shipped(kind).unwrap(), &Device::flex().autodiff()).unwrap()
}

fn check(what: &str, method: &dyn AttributionMethod, input: &ExplainedInput, golden: &Golden, tolerance: f32) {
    let got = method.attribute(input).token_scores;
    let (_, reference) = golden.f32s(what);
    let c = cosine(&got, &reference);
    assert!(c >= MIN_COSINE, "{what}: cosine {c} with the reference");
    assert_close(what, &got, &reference, tolerance);
}

fn methods_match_references(kind: GraphKind) {
    let model = load(kind);
    let golden = Golden::open(&format!("{}_attributions", kind.name()));
    for (i, text) in sentences().iter().enumerate() {
        let input = ExplainedInput::new(&model, text, Target::Predicted).unwrap();
        assert_eq!(input.target as i64, golden.i64s(&format!("{i}.target"))[0], "{text:?}");
        let name = |m: &str| format!("{i}.{m}");
        check(&name("saliency_l2"), &Saliency { norm: SaliencyNorm::L2 }, &input, &golden, GRADIENT_TOLERANCE);
        // The embedding LayerNorm makes every token's gradient orthogonal to the all-ones vector, so the
        // signed variant is zero up to rounding, in Captum as here: compare values, not directions.
        let signed = Saliency { norm: SaliencyNorm::Signed }.attribute(&input).token_scores;
        assert_close(&name("saliency_signed"), &signed, &golden.f32s(&name("saliency_signed")).1, 1e-6);
        check(&name("gradient_x_input"), &GradientXInput, &input, &golden, GRADIENT_TOLERANCE);
        for rule in IntegrationRule::ALL {
            let ig = IntegratedGradients { steps: 50, rule, ..Default::default() };
            let what = name(&format!("ig.{}", rule.name()));
            check(&what, &ig, &input, &golden, GRADIENT_TOLERANCE);
            let gap = ig.attribute(&input).completeness.unwrap().gap;
            let (_, captum_delta) = golden.f32s(&format!("{what}.delta"));
            assert!((gap - captum_delta[0]).abs() <= 1e-3, "{what}: completeness gap {gap} vs Captum's {}", captum_delta[0]);
        }
        check(&name("raw_attention"), &RawAttention, &input, &golden, EXACT_TOLERANCE);
        check(&name("attention_rollout"), &AttentionRollout, &input, &golden, EXACT_TOLERANCE);
        check(&name("grad_sam_column"), &GradSam { reading: GradSamReading::Column }, &input, &golden, EXACT_TOLERANCE);
        check(&name("grad_sam_row"), &GradSam { reading: GradSamReading::Row }, &input, &golden, EXACT_TOLERANCE);
        check(&name("gradient_weighted_rollout"), &GradientWeightedRollout, &input, &golden, EXACT_TOLERANCE);
        check(&name("gam"), &LayerGam::default(), &input, &golden, EXACT_TOLERANCE);
    }
}

/// Integrated Gradients' completeness: at 50 Gauss-Legendre steps the scores sum to within 5% of
/// F(x) - F(baseline) on every reference sentence.
fn integrated_gradients_is_complete(kind: GraphKind) {
    let model = load(kind);
    for text in sentences() {
        let input = ExplainedInput::new(&model, &text, Target::Predicted).unwrap();
        let completeness = IntegratedGradients::default().attribute(&input).completeness.unwrap();
        assert!(completeness.relative_gap < 0.05, "{text:?}: {completeness:?}");
    }
}

#[test]
fn tiny_methods_match_references() {
    methods_match_references(GraphKind::Tiny);
}

#[test]
fn tiny_integrated_gradients_is_complete() {
    integrated_gradients_is_complete(GraphKind::Tiny);
}
