//! Faithfulness metrics: how much the model's belief in its prediction depends on the tokens an
//! explanation ranks highest. Each metric describes itself (name, range, direction) so that a front end
//! renders any of them without special cases, and records the conventions it used.
//!
//! `y` is the class predicted on the full input, `p_y` its probability, `T_k` the top `k` fraction of
//! the candidate tokens by score. Perturbations are made on token ids (a token is replaced by [PAD] or
//! deleted, later tokens moving up), and all perturbed copies of a text run in batches.

use std::collections::HashMap;

use burn::tensor::activation::log_softmax;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::ExplainedInput;
use crate::input::{DeviceError, argmax, read};
use gradlens_explanation::{Conventions, CurvePoint, MetricInfo, MetricValue};

/// How a token is taken out of the input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Removal {
    /// Its id becomes [PAD]; positions stay.
    Replace,
    /// It is deleted; later tokens move up one position (ERASER's convention).
    #[default]
    Delete,
}

/// Options every metric records with its value.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PerturbationOptions {
    /// How a token is taken out of the input (log-odds always replaces).
    pub removal: Removal,
    /// Whether [CLS] and [SEP] may be removed too (default: never).
    pub include_special_tokens: bool,
    /// Whether only tokens with a positive score count as evidence (default: all, ranked by score).
    pub positive_only: bool,
    /// Copies per forward pass.
    pub batch_size: usize,
    /// Intervals of the deletion and insertion curves: `None` takes one token at a time (a point per
    /// candidate token, the papers' curves); `Some(n)` takes the top `round(i / n)` of the candidates
    /// for `i = 0..=n`, which bounds the cost of a long text. Texts with at most `n` candidates get a
    /// point per token either way.
    pub curve_intervals: Option<usize>,
}

impl Default for PerturbationOptions {
    fn default() -> Self {
        Self { removal: Removal::Delete, include_special_tokens: false, positive_only: false, batch_size: 64, curve_intervals: None }
    }
}

/// The faithfulness metrics of the methods doc.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "metric", rename_all = "snake_case")]
pub enum Metric {
    /// DIG's log-odds: `log p_y(x with T_k replaced by [PAD]) - log p_y(x)` (always replacement).
    LogOdds {
        /// Fraction of the candidate tokens in `T_k` (0.2: the top 20%).
        k: f32,
    },
    /// ERASER comprehensiveness: `p_y(x) - p_y(x without T_k)`.
    Comprehensiveness {
        /// Fraction of the candidate tokens in `T_k`.
        k: f32,
    },
    /// ERASER sufficiency: `p_y(x) - p_y(only T_k)`.
    Sufficiency {
        /// Fraction of the candidate tokens in `T_k`.
        k: f32,
    },
    /// Comprehensiveness averaged over k = 10%, 20%, ..., 100%.
    AopcComprehensiveness,
    /// Sufficiency averaged over k = 10%, 20%, ..., 100%.
    AopcSufficiency,
    /// Area under `p_y` as tokens are removed in score order.
    DeletionArea,
    /// Area under `p_y` as tokens are inserted in score order into the emptied input.
    InsertionArea,
}

impl Metric {
    /// The metrics `eval` reports by default (k = 20% as in DIG).
    pub fn all_defaults() -> Vec<Metric> {
        vec![
            Metric::LogOdds { k: 0.2 },
            Metric::Comprehensiveness { k: 0.2 },
            Metric::Sufficiency { k: 0.2 },
            Metric::AopcComprehensiveness,
            Metric::AopcSufficiency,
            Metric::DeletionArea,
            Metric::InsertionArea,
        ]
    }

    /// The metric's name, description, range and direction.
    pub fn info(&self) -> MetricInfo {
        let (name, description, range, lower_is_better) = match self {
            Metric::LogOdds { .. } => {
                ("log_odds", "change in log p(y) when the top tokens are replaced by [PAD]", (f32::NEG_INFINITY, f32::INFINITY), true)
            }
            Metric::Comprehensiveness { .. } => ("comprehensiveness", "drop in p(y) when the top tokens are deleted", (-1.0, 1.0), false),
            Metric::Sufficiency { .. } => ("sufficiency", "drop in p(y) when only the top tokens are kept", (-1.0, 1.0), true),
            Metric::AopcComprehensiveness => ("aopc_comprehensiveness", "comprehensiveness averaged over k = 10..100%", (-1.0, 1.0), false),
            Metric::AopcSufficiency => ("aopc_sufficiency", "sufficiency averaged over k = 10..100%", (-1.0, 1.0), true),
            Metric::DeletionArea => ("deletion_area", "area under p(y) as top tokens are removed one by one", (0.0, 1.0), true),
            Metric::InsertionArea => ("insertion_area", "area under p(y) as top tokens are inserted one by one", (0.0, 1.0), false),
        };
        let top = |k: &f32| format!("the top {:.0}% of the words by score", 100.0 * k);
        let (title, meaning) = match self {
            Metric::LogOdds { k } => (
                "Log-odds".to_owned(),
                format!("How far the model's confidence falls (in log-odds) when {} are blanked out. Lower: the highlighted words mattered.", top(k)),
            ),
            Metric::Comprehensiveness { k } => (
                "Comprehensiveness".to_owned(),
                format!("How much confidence is lost when {} are deleted. Higher: the highlighted words drove the prediction.", top(k)),
            ),
            Metric::Sufficiency { k } => (
                "Sufficiency".to_owned(),
                format!("How much confidence is lost when only {} are kept. Lower: those words alone are enough.", top(k)),
            ),
            Metric::AopcComprehensiveness => {
                ("AOPC comprehensiveness".to_owned(), "Comprehensiveness averaged over deleting 10%, 20%, … 100% of the words. Higher is better.".to_owned())
            }
            Metric::AopcSufficiency => {
                ("AOPC sufficiency".to_owned(), "Sufficiency averaged over keeping 10%, 20%, … 100% of the words. Lower is better.".to_owned())
            }
            Metric::DeletionArea => (
                "Deletion area".to_owned(),
                "The area under the deletion curve: confidence as words are removed, highest-scored first. Lower: confidence collapses as soon as the top words go.".to_owned(),
            ),
            Metric::InsertionArea => (
                "Insertion area".to_owned(),
                "The area under the insertion curve: confidence as words are put back into an empty text, highest-scored first. Higher: a few top words restore the prediction.".to_owned(),
            ),
        };
        MetricInfo { name: name.into(), description: description.into(), title, meaning, range, lower_is_better }
    }

    /// The metric's value for token `scores` of `input` (one per token).
    pub async fn evaluate(&self, input: &ExplainedInput<'_>, scores: &[f32], options: &PerturbationOptions) -> Result<MetricValue, DeviceError> {
        Ok(evaluate_all(std::slice::from_ref(self), input, scores, options).await?.remove(0))
    }

    /// The perturbed inputs this metric needs, in the order [`Self::value`] reads their `p_y`.
    fn sequences(&self, ranking: &Ranking, input: &ExplainedInput, options: &PerturbationOptions) -> Vec<Vec<u32>> {
        let without = |removed: &[usize], removal| ranking.without(input, removed, removal);
        let curve = ranking.curve_counts(options.curve_intervals);
        match *self {
            Metric::LogOdds { k } => vec![without(ranking.top(k), Removal::Replace)],
            Metric::Comprehensiveness { k } => vec![without(ranking.top(k), options.removal)],
            Metric::Sufficiency { k } => vec![without(ranking.rest(k), options.removal)],
            Metric::AopcComprehensiveness => AOPC_FRACTIONS.iter().map(|&k| without(ranking.top(k), options.removal)).collect(),
            Metric::AopcSufficiency => AOPC_FRACTIONS.iter().map(|&k| without(ranking.rest(k), options.removal)).collect(),
            Metric::DeletionArea => curve.iter().map(|&i| without(&ranking.order[..i], options.removal)).collect(),
            Metric::InsertionArea => curve.iter().map(|&i| without(&ranking.order[i..], options.removal)).collect(),
        }
    }

    /// The value (and curve) from the full input's `log p_y` and that of each perturbed input;
    /// `fractions` are the curves' x values.
    fn value(&self, full_log_p: f32, log_p: &[f32], fractions: &[f32]) -> (f32, Option<Vec<CurvePoint>>) {
        let full = full_log_p.exp();
        let drop = |l: &f32| full - l.exp();
        match self {
            Metric::LogOdds { .. } => (log_p[0] - full_log_p, None),
            Metric::Comprehensiveness { .. } | Metric::Sufficiency { .. } => (drop(&log_p[0]), None),
            Metric::AopcComprehensiveness | Metric::AopcSufficiency => (log_p.iter().map(drop).sum::<f32>() / log_p.len() as f32, None),
            Metric::DeletionArea | Metric::InsertionArea => {
                let curve: Vec<CurvePoint> =
                    log_p.iter().zip(fractions).map(|(l, &fraction)| CurvePoint { fraction, probability: l.exp() }).collect();
                (area(&curve), Some(curve))
            }
        }
    }

    fn conventions(&self, class: &str, options: &PerturbationOptions) -> Conventions {
        let mut c = Conventions::new();
        c.insert("class".into(), json!(class));
        c.insert("include_special_tokens".into(), json!(options.include_special_tokens));
        c.insert("positive_only".into(), json!(options.positive_only));
        let removal = if matches!(self, Metric::LogOdds { .. }) { Removal::Replace } else { options.removal };
        c.insert("removal".into(), json!(removal));
        match self {
            Metric::LogOdds { k } | Metric::Comprehensiveness { k } | Metric::Sufficiency { k } => {
                c.insert("k".into(), json!(k));
            }
            Metric::AopcComprehensiveness | Metric::AopcSufficiency => {
                c.insert("k".into(), json!("10%, 20%, ..., 100%"));
            }
            Metric::DeletionArea | Metric::InsertionArea => {
                // null: a point per candidate token.
                c.insert("curve_intervals".into(), json!(options.curve_intervals));
            }
        }
        c
    }
}

/// Evaluates several metrics on one explanation. Many metrics share perturbed inputs (comprehensiveness
/// at k is a point of the deletion curve, sufficiency one of the insertion curve): every distinct input
/// runs once, and all of them in batches.
pub async fn evaluate_all(
    metrics: &[Metric],
    input: &ExplainedInput<'_>,
    scores: &[f32],
    options: &PerturbationOptions,
) -> Result<Vec<MetricValue>, DeviceError> {
    let ranking = Ranking::new(input, scores, options);
    let y = argmax(&input.probabilities);
    let plans: Vec<Vec<Vec<u32>>> = metrics.iter().map(|m| m.sequences(&ranking, input, options)).collect();
    let mut index: HashMap<&[u32], usize> = HashMap::new();
    let mut distinct: Vec<&[u32]> = Vec::new();
    for sequence in plans.iter().flatten() {
        index.entry(sequence.as_slice()).or_insert_with(|| {
            distinct.push(sequence);
            distinct.len() - 1
        });
    }
    let log_p = log_probabilities(input, &distinct, y, options.batch_size).await?;
    let full_log_p = input.probabilities[y].ln();
    let candidates = ranking.order.len().max(1) as f32;
    let fractions: Vec<f32> = ranking.curve_counts(options.curve_intervals).iter().map(|&i| i as f32 / candidates).collect();
    let class = &input.model.config().labels[y];
    Ok(metrics
        .iter()
        .zip(&plans)
        .map(|(metric, plan)| {
            let values: Vec<f32> = plan.iter().map(|s| log_p[index[s.as_slice()]]).collect();
            let (value, curve) = metric.value(full_log_p, &values, &fractions);
            {
                let info = metric.info();
                MetricValue {
                    metric: info.name,
                    value,
                    lower_is_better: info.lower_is_better,
                    curve,
                    conventions: metric.conventions(class, options),
                }
            }
        })
        .collect())
}

const AOPC_FRACTIONS: [f32; 10] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

/// Candidate tokens in descending score order.
struct Ranking {
    order: Vec<usize>,
}

impl Ranking {
    fn new(input: &ExplainedInput, scores: &[f32], options: &PerturbationOptions) -> Self {
        let mut order: Vec<usize> = (0..input.len())
            .filter(|&i| options.include_special_tokens || !input.encoded.is_special(i))
            .filter(|&i| !options.positive_only || scores[i] > 0.0)
            .collect();
        // Stable: ties keep text order.
        order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
        Self { order }
    }

    /// How many of the candidates make the top `k` fraction: `round(k n)`, at least one when k > 0.
    fn count(&self, k: f32) -> usize {
        let n = self.order.len();
        if k <= 0.0 || n == 0 {
            return 0;
        }
        ((k * n as f32).round() as usize).clamp(1, n)
    }

    /// How many candidates each point of a deletion or insertion curve takes: every count from 0 to
    /// all, or `intervals + 1` evenly spaced ones.
    fn curve_counts(&self, intervals: Option<usize>) -> Vec<usize> {
        let n = self.order.len();
        match intervals.map(|i| i.max(1)) {
            Some(intervals) if intervals < n => (0..=intervals).map(|i| (i as f32 * n as f32 / intervals as f32).round() as usize).collect(),
            _ => (0..=n).collect(),
        }
    }

    fn top(&self, k: f32) -> &[usize] {
        &self.order[..self.count(k)]
    }

    fn rest(&self, k: f32) -> &[usize] {
        &self.order[self.count(k)..]
    }

    /// The input's token ids with the tokens at `removed` taken out.
    fn without(&self, input: &ExplainedInput, removed: &[usize], removal: Removal) -> Vec<u32> {
        let pad = input.model.config().special_tokens.pad;
        let mut gone = vec![false; input.len()];
        removed.iter().for_each(|&i| gone[i] = true);
        let kept: Vec<u32> = input
            .encoded
            .ids
            .iter()
            .zip(&gone)
            .filter_map(|(&id, &gone)| match (gone, removal) {
                (false, _) => Some(id),
                (true, Removal::Replace) => Some(pad),
                (true, Removal::Delete) => None,
            })
            .collect();
        // Deleting every token, special ones included, leaves a lone [PAD]: the model needs one token.
        if kept.is_empty() { vec![pad] } else { kept }
    }
}

/// `log p_y` of each token-id sequence, batched.
async fn log_probabilities(input: &ExplainedInput<'_>, sequences: &[&[u32]], y: usize, batch_size: usize) -> Result<Vec<f32>, DeviceError> {
    let model = input.model;
    let classes = model.config().labels.len();
    input
        .collect_batches(sequences, batch_size, |batch| {
            let logits = model.forward_batch(&model.batch(batch)).logits.detach();
            async move { Ok(read(log_softmax(logits, 1)).await?.chunks_exact(classes).map(|row| row[y]).collect()) }
        })
        .await
}

/// Trapezoid area under a curve over [0, 1].
fn area(curve: &[CurvePoint]) -> f32 {
    curve.windows(2).map(|w| (w[1].fraction - w[0].fraction) * (w[0].probability + w[1].probability) / 2.0).sum()
}
