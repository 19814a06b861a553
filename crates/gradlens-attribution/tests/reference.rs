//! Every method against an independent reference on the same weights and sentences: Captum for the
//! gradient and path methods, straightforward PyTorch computations of the definitions (gradients taken on
//! the attention probabilities and layer outputs themselves, not through our gate and probe) for the rest.

use burn::prelude::*;
use gradlens_attribution::methods::{
    AttentionRollout, GradSam, GradSamReading, GradientWeightedRollout, GradientXInput, IntegratedGradients, LayerGam, RawAttention, Saliency,
    SaliencyNorm,
};
use gradlens_attribution::{AttributionMethod, ExplainedInput, IntegrationRule, Target};
use gradlens_golden::{Golden, assert_close, cosine, sentences};
use gradlens_model::{Classifier, GraphKind, ModelAssets};
use pollster::FutureExt as _;

/// Agreement required with Captum: the cosine bound, plus an elementwise bound.
const MIN_COSINE: f32 = 0.99;
const GRADIENT_TOLERANCE: f32 = 1e-3;
const IG_STEPS: usize = 50;
/// The attention methods are exact computations: they must agree to float precision.
const EXACT_TOLERANCE: f32 = 1e-4;

fn load(kind: GraphKind) -> Classifier {
    Classifier::load(&ModelAssets::full_precision(kind).unwrap(), &Device::flex().autodiff()).unwrap()
}

fn check(what: &str, method: &impl AttributionMethod, input: &ExplainedInput, golden: &Golden, tolerance: f32) {
    let got = method.attribute(input).block_on().unwrap().token_scores;
    let (_, reference) = golden.f32s(what);
    let c = cosine(&got, &reference);
    assert!(c >= MIN_COSINE, "{what}: cosine {c} with the reference");
    assert_close(what, &got, &reference, tolerance);
}

fn methods_match_references(kind: GraphKind) {
    let model = load(kind);
    let golden = Golden::open(&format!("{}_attributions", kind.name()));
    for (i, text) in sentences().iter().enumerate() {
        let input = ExplainedInput::new(&model, text, Target::Predicted).block_on().unwrap();
        assert_eq!(input.target as i64, golden.i64s(&format!("{i}.target"))[0], "{text:?}");
        let name = |m: &str| format!("{i}.{m}");
        check(&name("saliency_l2"), &Saliency { norm: SaliencyNorm::L2 }, &input, &golden, GRADIENT_TOLERANCE);
        // The embedding LayerNorm makes every token's gradient orthogonal to the all-ones vector, so the
        // signed variant is zero up to rounding, in Captum as here: compare values, not directions.
        let signed = Saliency { norm: SaliencyNorm::Signed }.attribute(&input).block_on().unwrap().token_scores;
        let largest = golden.f32s(&name("saliency_l2")).1.iter().fold(0.0f32, |m, v| m.max(*v));
        for (who, values) in [("ours", signed), ("Captum's", golden.f32s(&name("saliency_signed")).1)] {
            let worst = values.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            assert!(worst <= 1e-4 * largest, "{}: {who} signed saliency {worst} is not ~0", name("saliency_signed"));
        }
        check(&name("gradient_x_input"), &GradientXInput, &input, &golden, GRADIENT_TOLERANCE);
        for rule in IntegrationRule::ALL {
            let ig = IntegratedGradients { steps: IG_STEPS, rule, ..Default::default() };
            let what = name(&format!("ig.{}", rule.name()));
            let out = ig.attribute(&input).block_on().unwrap();
            let (_, captum) = golden.f32s(&what);
            let (_, captum_delta) = golden.f32s(&format!("{what}.delta"));
            // Captum's trapezoid weights are 1/n (halved at the ends) on n points spaced 1/(n-1): they sum
            // to (n-1)/n. Ours are the trapezoid rule's own, 1/(n-1), so its scores are n/(n-1) times Captum's.
            let scale = if rule == IntegrationRule::RiemannTrapezoid { IG_STEPS as f32 / (IG_STEPS - 1) as f32 } else { 1.0 };
            let reference: Vec<f32> = captum.iter().map(|v| v * scale).collect();
            let c = cosine(&out.token_scores, &reference);
            assert!(c >= MIN_COSINE, "{what}: cosine {c} with Captum");
            assert_close(&what, &out.token_scores, &reference, GRADIENT_TOLERANCE);
            let expected_gap = captum_delta[0] + (scale - 1.0) * captum.iter().sum::<f32>();
            let gap = out.diagnostics.completeness.unwrap().gap;
            assert!((gap - expected_gap).abs() <= 1e-3, "{what}: completeness gap {gap} vs Captum's {expected_gap}");
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
        let input = ExplainedInput::new(&model, &text, Target::Predicted).block_on().unwrap();
        let completeness = IntegratedGradients::default().attribute(&input).block_on().unwrap().diagnostics.completeness.unwrap();
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

#[test]
fn default_methods_match_references() {
    methods_match_references(GraphKind::Site);
}

#[test]
fn default_integrated_gradients_is_complete() {
    integrated_gradients_is_complete(GraphKind::Site);
}
