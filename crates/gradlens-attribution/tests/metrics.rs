//! Faithfulness metrics against values computed by hand on the tiny model: the perturbed token-id
//! sequences are written out here and run one at a time.

use burn::prelude::*;
use burn::tensor::activation::softmax;
use gradlens_attribution::metrics::{Metric, PerturbationOptions, Removal};
use gradlens_attribution::{ExplainedInput, Target};
use gradlens_model::{Classifier, GraphKind, ModelAssets};
use pollster::FutureExt as _;

/// Four word tokens: [CLS] dull , but wonderful [SEP].
const TEXT: &str = "dull, but wonderful";
/// Ranking: wonderful (3.0) > dull (2.0) > but (1.0) > , (-0.5); special tokens get huge scores that
/// must be ignored.
const SCORES: [f32; 6] = [9.0, 2.0, -0.5, 1.0, 3.0, 9.0];

fn tiny() -> Classifier {
    Classifier::load(&ModelAssets::full_precision(GraphKind::Tiny).unwrap(), &Device::flex().autodiff()).unwrap()
}

fn p(model: &Classifier, ids: &[u32], class: usize) -> f32 {
    softmax(model.forward_batch(&model.batch(&[ids])).logits, 1).into_data().try_to_vec::<f32>().unwrap()[class]
}

struct Case {
    model: Classifier,
    ids: Vec<u32>,
    y: usize,
}

impl Case {
    fn new() -> Self {
        let model = tiny();
        let ids = model.encode(TEXT).unwrap().ids;
        assert_eq!(ids.len(), 6, "{TEXT:?} must be 4 word tokens");
        let input = ExplainedInput::new(&model, TEXT, Target::Predicted).block_on().unwrap();
        let y = input.target;
        Case { model, ids, y }
    }

    /// `p_y` of the sequence made of the tokens at `keep` (positions in the original ids).
    fn p_keep(&self, keep: &[usize]) -> f32 {
        let ids: Vec<u32> = keep.iter().map(|&i| self.ids[i]).collect();
        p(&self.model, &ids, self.y)
    }

    fn value(&self, metric: Metric, options: PerturbationOptions) -> (f32, Option<Vec<f32>>) {
        let input = ExplainedInput::new(&self.model, TEXT, Target::Predicted).block_on().unwrap();
        let v = metric.evaluate(&input, &SCORES, &options).block_on().unwrap();
        (v.value, v.curve.map(|c| c.iter().map(|p| p.probability).collect()))
    }
}

fn close(what: &str, got: f32, expected: f32) {
    assert!((got - expected).abs() < 1e-5, "{what}: {got} vs {expected} by hand");
}

#[test]
fn comprehensiveness_sufficiency_and_log_odds_by_hand() {
    let case = Case::new();
    let full = case.p_keep(&[0, 1, 2, 3, 4, 5]);
    let options = PerturbationOptions::default();
    // k = 50% of 4 word tokens: wonderful (4) and dull (1).
    close("comprehensiveness", case.value(Metric::Comprehensiveness { k: 0.5 }, options).0, full - case.p_keep(&[0, 2, 3, 5]));
    close("sufficiency", case.value(Metric::Sufficiency { k: 0.5 }, options).0, full - case.p_keep(&[0, 1, 4, 5]));
    // k = 20% of 4 = 0.8 -> 1 token: wonderful, replaced by [PAD].
    let pad = case.model.config().special_tokens.pad;
    let mut replaced = case.ids.clone();
    replaced[4] = pad;
    let log_odds = p(&case.model, &replaced, case.y).ln() - full.ln();
    close("log-odds", case.value(Metric::LogOdds { k: 0.2 }, options).0, log_odds);
    // Positive scores only: ',' is never a candidate, so 100% is three tokens.
    let positive = PerturbationOptions { positive_only: true, ..options };
    close("comprehensiveness, positive only", case.value(Metric::Comprehensiveness { k: 1.0 }, positive).0, full - case.p_keep(&[0, 2, 5]));
    // Replacement instead of deletion.
    let replace = PerturbationOptions { removal: Removal::Replace, ..options };
    let expected = full - p(&case.model, &replaced, case.y);
    close("comprehensiveness, replace", case.value(Metric::Comprehensiveness { k: 0.25 }, replace).0, expected);
}

#[test]
fn aopc_averages_over_k_from_10_to_100_percent() {
    let case = Case::new();
    let full = case.p_keep(&[0, 1, 2, 3, 4, 5]);
    // round(k * 4), at least 1, for k = 0.1 .. 1.0.
    let counts = [1, 1, 1, 2, 2, 2, 3, 3, 4, 4];
    let order = [4, 1, 3, 2];
    let without = |n: usize| -> Vec<usize> { (0..6).filter(|i| !order[..n].contains(i)).collect() };
    let only = |n: usize| -> Vec<usize> { (0..6).filter(|i| !order[n..].contains(i)).collect() };
    let aopc_c: f32 = counts.iter().map(|&n| full - case.p_keep(&without(n))).sum::<f32>() / 10.0;
    let aopc_s: f32 = counts.iter().map(|&n| full - case.p_keep(&only(n))).sum::<f32>() / 10.0;
    close("AOPC comprehensiveness", case.value(Metric::AopcComprehensiveness, PerturbationOptions::default()).0, aopc_c);
    close("AOPC sufficiency", case.value(Metric::AopcSufficiency, PerturbationOptions::default()).0, aopc_s);
}

#[test]
fn deletion_and_insertion_curves_and_their_areas() {
    let case = Case::new();
    let deletion = [vec![0, 1, 2, 3, 4, 5], vec![0, 1, 2, 3, 5], vec![0, 2, 3, 5], vec![0, 2, 5], vec![0, 5]];
    let insertion = [vec![0, 5], vec![0, 4, 5], vec![0, 1, 4, 5], vec![0, 1, 3, 4, 5], vec![0, 1, 2, 3, 4, 5]];
    for (metric, sequences) in [(Metric::DeletionArea, deletion), (Metric::InsertionArea, insertion)] {
        let expected: Vec<f32> = sequences.iter().map(|s| case.p_keep(s)).collect();
        let (area, curve) = case.value(metric, PerturbationOptions::default());
        let curve = curve.unwrap();
        for (i, (g, e)) in curve.iter().zip(&expected).enumerate() {
            close(&format!("{metric:?} point {i}"), *g, *e);
        }
        let trapezoid: f32 = expected.windows(2).map(|w| 0.25 * (w[0] + w[1]) / 2.0).sum();
        close(&format!("{metric:?} area"), area, trapezoid);
    }
}

#[test]
fn bounded_curves_take_evenly_spaced_points() {
    let case = Case::new();
    // Two intervals over the four candidates: 0, 2 and 4 of them (wonderful, dull, but, ,).
    let bounded = PerturbationOptions { curve_intervals: Some(2), ..PerturbationOptions::default() };
    let deletion = [vec![0, 1, 2, 3, 4, 5], vec![0, 2, 3, 5], vec![0, 5]];
    let insertion = [vec![0, 5], vec![0, 1, 4, 5], vec![0, 1, 2, 3, 4, 5]];
    let input = ExplainedInput::new(&case.model, TEXT, Target::Predicted).block_on().unwrap();
    for (metric, sequences) in [(Metric::DeletionArea, deletion), (Metric::InsertionArea, insertion)] {
        let expected: Vec<f32> = sequences.iter().map(|s| case.p_keep(s)).collect();
        let value = metric.evaluate(&input, &SCORES, &bounded).block_on().unwrap();
        let curve = value.curve.unwrap();
        assert_eq!(curve.iter().map(|p| p.fraction).collect::<Vec<_>>(), [0.0, 0.5, 1.0], "{metric:?}");
        for (i, (g, e)) in curve.iter().zip(&expected).enumerate() {
            close(&format!("{metric:?} point {i}"), g.probability, *e);
        }
        let trapezoid: f32 = expected.windows(2).map(|w| 0.5 * (w[0] + w[1]) / 2.0).sum();
        close(&format!("{metric:?} area"), value.value, trapezoid);
    }
    // As many intervals as candidates, or more: a point per token, as without a bound.
    for intervals in [4, 10] {
        let options = PerturbationOptions { curve_intervals: Some(intervals), ..PerturbationOptions::default() };
        let every = Metric::DeletionArea.evaluate(&input, &SCORES, &PerturbationOptions::default()).block_on().unwrap();
        let bounded = Metric::DeletionArea.evaluate(&input, &SCORES, &options).block_on().unwrap();
        assert_eq!(every.curve, bounded.curve, "{intervals} intervals");
    }
}

#[test]
fn metrics_describe_themselves() {
    for metric in Metric::all_defaults() {
        let info = metric.info();
        assert!(!info.name.is_empty() && !info.description.is_empty());
        assert!(info.range.0 < info.range.1);
        // The plain words say the same direction as the flag the tables' arrows come from.
        let direction = if info.lower_is_better { "Lower" } else { "Higher" };
        assert!(info.meaning.contains(direction), "{}: {}", info.name, info.meaning);
        assert!(!info.title.is_empty() && !info.title.contains('_'), "{}", info.title);
    }
    assert!(Metric::Comprehensiveness { k: 0.2 }.info().meaning.contains("the top 20% of the words"));
    assert!(!Metric::Comprehensiveness { k: 0.2 }.info().lower_is_better);
    assert!(Metric::Sufficiency { k: 0.2 }.info().lower_is_better);
    assert!(Metric::LogOdds { k: 0.2 }.info().lower_is_better);
}

#[test]
fn evaluating_together_shares_inputs_without_changing_values() {
    let case = Case::new();
    let input = ExplainedInput::new(&case.model, TEXT, Target::Predicted).block_on().unwrap();
    let metrics = Metric::all_defaults();
    let options = PerturbationOptions::default();
    let together = gradlens_attribution::metrics::evaluate_all(&metrics, &input, &SCORES, &options).block_on().unwrap();
    for (metric, shared) in metrics.iter().zip(together) {
        let alone = metric.evaluate(&input, &SCORES, &options).block_on().unwrap();
        assert_eq!(alone, shared, "{metric:?}");
    }
}
