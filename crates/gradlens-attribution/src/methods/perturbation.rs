//! Perturbation baselines over tokens: LIME, KernelSHAP and Shapley value sampling. Each explains the
//! target-class probability from copies of the text in which some word tokens are replaced by a
//! baseline embedding (a *coalition* is the set of word tokens a copy keeps); special tokens stay in
//! every copy and score 0. All copies of a text run in batches.
//!
//! LIME and KernelSHAP enumerate every coalition when their sample budget covers them all (short
//! texts), which makes them deterministic there; otherwise they sample with a seeded generator.

use burn::prelude::*;
use nalgebra::{DMatrix, DVector};
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{AttributionMethod, MethodOutput, conventions};
use crate::input::DeviceError;
use crate::{Baseline, ExplainedInput};
use gradlens_explanation::{Conventions, Diagnostics};

/// The target-class probability of each coalition's copy of the input: `coalitions[k][j]` says whether
/// copy `k` keeps the word token at `positions[j]` (the features, from [`ExplainedInput::word_positions`]); the tokens it does not keep are replaced by the
/// baseline embedding.
pub async fn coalition_probabilities(
    input: &ExplainedInput<'_>,
    baseline: Baseline,
    positions: &[usize],
    coalitions: &[Vec<bool>],
    batch_size: usize,
) -> Result<Vec<f32>, DeviceError> {
    let [_, s, h] = input.embeddings.dims();
    let replacement = baseline.token_embedding(input).reshape([1, 1, h]);
    input
        .collect_batches(coalitions, batch_size, |batch| {
            let c = batch.len();
            let mut replaced = vec![0.0f32; c * s];
            for (k, coalition) in batch.iter().enumerate() {
                for (&i, &kept) in positions.iter().zip(coalition) {
                    replaced[k * s + i] = if kept { 0.0 } else { 1.0 };
                }
            }
            let replaced = Tensor::<2>::from_data(TensorData::new(replaced, [c, s]), input.device()).reshape([c, s, 1]).repeat_dim(2, h);
            let embeddings =
                input.embeddings.clone().repeat_dim(0, c).mask_where(replaced.bool(), replacement.clone().repeat_dim(0, c).repeat_dim(1, s));
            input.target_probabilities(embeddings, input.mask(c))
        })
        .await
}

/// Every coalition of `n` features, from the empty one to the full one (bit `j` of `k` keeps feature `j`).
fn all_coalitions(n: usize) -> impl Iterator<Item = Vec<bool>> {
    (0..1usize << n).map(move |k| (0..n).map(|j| k >> j & 1 == 1).collect())
}

/// Whether enumerating every coalition costs no more than `samples` (and fits in memory).
fn enumerable(n: usize, samples: usize) -> bool {
    n < 20 && (1usize << n) <= samples
}

/// A random coalition of `n` features that keeps exactly `size` of them.
fn random_coalition(rng: &mut SmallRng, n: usize, size: usize) -> Vec<bool> {
    let mut coalition = vec![false; n];
    for j in rand::seq::index::sample(rng, n, size) {
        coalition[j] = true;
    }
    coalition
}

/// The weighted least-squares solution of `x b = y` with ridge penalty `ridge` (none when 0): the
/// minimum-norm solution when `x` does not determine `b`.
fn weighted_least_squares(x: &DMatrix<f64>, y: &DVector<f64>, weights: &[f64], ridge: f64) -> DVector<f64> {
    let w = DMatrix::from_diagonal(&DVector::from_column_slice(weights));
    let xtw = x.transpose() * w;
    let normal = &xtw * x + DMatrix::identity(x.ncols(), x.ncols()) * ridge;
    normal.svd(true, true).solve(&(xtw * y), 1e-12).expect("the SVD was computed with both factors")
}

/// The conventions every perturbation baseline records, then its own.
fn perturbation_conventions<const N: usize>(
    input: &ExplainedInput,
    baseline: Baseline,
    seed: u64,
    own: [(&str, serde_json::Value); N],
) -> Conventions {
    let mut c = conventions(
        input,
        [("output", json!("probability")), ("features", json!("word tokens")), ("baseline", json!(baseline)), ("seed", json!(seed))],
    );
    c.extend(own.into_iter().map(|(k, v)| (k.to_owned(), v)));
    c
}

fn scores_at(input: &ExplainedInput, positions: &[usize], values: impl IntoIterator<Item = f64>) -> Vec<f32> {
    let mut scores = vec![0.0f32; input.len()];
    for (&i, v) in positions.iter().zip(values) {
        scores[i] = v as f32;
    }
    scores
}

/// LIME (Ribeiro, Singh & Guestrin 2016, "Why should I trust you?"), as its text explainer does it:
/// each sample removes a uniformly drawn number of tokens (a uniformly drawn subset of that size), is
/// weighted by `sqrt(exp(-d^2 / width^2))` with `d` = 100 x the cosine distance between the sample's
/// presence vector and the full text's, and a weighted ridge regression with intercept is fitted to
/// the target probability; the scores are its coefficients.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Lime {
    /// Perturbed copies, the text itself included.
    pub samples: usize,
    /// `width` of the sample-weight kernel, in units of `d` (the `lime` package's default, 25).
    pub kernel_width: f32,
    /// Ridge penalty of the fit (the `lime` package's default, 1).
    pub ridge: f32,
    /// The embedding that replaces a removed word token.
    pub baseline: Baseline,
    /// Seed of the sampled coalitions.
    pub seed: u64,
    /// Perturbed copies per forward pass.
    pub internal_batch_size: usize,
}

impl Default for Lime {
    fn default() -> Self {
        Self { samples: 200, kernel_width: 25.0, ridge: 1.0, baseline: Baseline::Pad, seed: 0, internal_batch_size: 64 }
    }
}

impl Lime {
    /// The sample weight of a coalition keeping `kept` of `n` tokens.
    pub fn weight(&self, kept: usize, n: usize) -> f64 {
        let cosine_distance = if kept == 0 { 1.0 } else { 1.0 - (kept as f64 / n as f64).sqrt() };
        let d = 100.0 * cosine_distance;
        (-(d * d) / f64::from(self.kernel_width).powi(2)).exp().sqrt()
    }
}

impl AttributionMethod for Lime {
    async fn attribute(&self, input: &ExplainedInput<'_>) -> Result<MethodOutput, DeviceError> {
        let positions = input.word_positions();
        let n = positions.len();
        let coalitions: Vec<Vec<bool>> = if enumerable(n, self.samples) {
            all_coalitions(n).collect()
        } else {
            let mut rng = SmallRng::seed_from_u64(self.seed);
            std::iter::once(vec![true; n])
                .chain((1..self.samples).map(|_| {
                    let removed = rng.random_range(1..=n);
                    random_coalition(&mut rng, n, n - removed)
                }))
                .collect()
        };
        let p = coalition_probabilities(input, self.baseline, &positions, &coalitions, self.internal_batch_size).await?;
        let weights: Vec<f64> = coalitions.iter().map(|c| self.weight(c.iter().filter(|&&k| k).count(), n)).collect();
        // An intercept by centring on the weighted means, as scikit-learn's Ridge does.
        let total: f64 = weights.iter().sum();
        let mean_x: Vec<f64> =
            (0..n).map(|j| coalitions.iter().zip(&weights).map(|(c, w)| w * f64::from(u8::from(c[j]))).sum::<f64>() / total).collect();
        let mean_y = p.iter().zip(&weights).map(|(&y, w)| w * f64::from(y)).sum::<f64>() / total;
        let x = DMatrix::from_fn(coalitions.len(), n, |r, j| f64::from(u8::from(coalitions[r][j])) - mean_x[j]);
        let y = DVector::from_iterator(p.len(), p.iter().map(|&y| f64::from(y) - mean_y));
        let coefficients = weighted_least_squares(&x, &y, &weights, f64::from(self.ridge));
        let c = perturbation_conventions(
            input,
            self.baseline,
            self.seed,
            [
                ("samples", json!(coalitions.len())),
                ("coalitions", json!(if enumerable(n, self.samples) { "all" } else { "sampled" })),
                ("kernel_width", json!(self.kernel_width)),
                ("ridge", json!(self.ridge)),
            ],
        );
        Ok(MethodOutput {
            token_scores: scores_at(input, &positions, coefficients.iter().copied()),
            conventions: c,
            diagnostics: Diagnostics::default(),
        })
    }
}

/// KernelSHAP (Lundberg & Lee 2017): Shapley values as the solution of a weighted linear regression
/// over coalitions with the Shapley kernel `(n - 1) / (C(n, k) k (n - k))`, constrained so that the
/// scores sum to `p(x) - p(baseline)`. With every coalition enumerated the scores are the exact
/// Shapley values; otherwise coalition sizes are drawn in proportion to the kernel's mass and subsets
/// uniformly, with equal weights.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KernelShap {
    /// Coalitions besides the empty and the full one.
    pub samples: usize,
    /// The embedding that replaces a word token outside the coalition.
    pub baseline: Baseline,
    /// Seed of the sampled coalitions.
    pub seed: u64,
    /// Coalitions per forward pass.
    pub internal_batch_size: usize,
}

impl Default for KernelShap {
    fn default() -> Self {
        Self { samples: 200, baseline: Baseline::Pad, seed: 0, internal_batch_size: 64 }
    }
}

/// The Shapley kernel's total mass on coalitions of size `k` of `n`: `C(n, k)` times the kernel.
fn kernel_mass(n: usize, k: usize) -> f64 {
    (n - 1) as f64 / (k * (n - k)) as f64
}

fn binomial(n: usize, k: usize) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

impl AttributionMethod for KernelShap {
    async fn attribute(&self, input: &ExplainedInput<'_>) -> Result<MethodOutput, DeviceError> {
        let positions = input.word_positions();
        let n = positions.len();
        let exhaustive = enumerable(n, self.samples + 2);
        let (mut coalitions, weights): (Vec<Vec<bool>>, Vec<f64>) = if n < 2 {
            (Vec::new(), Vec::new())
        } else if exhaustive {
            all_coalitions(n)
                .filter_map(|c| {
                    let k = c.iter().filter(|&&kept| kept).count();
                    (k > 0 && k < n).then(|| (c, kernel_mass(n, k) / binomial(n, k)))
                })
                .unzip()
        } else {
            let mut rng = SmallRng::seed_from_u64(self.seed);
            let masses: Vec<f64> = (1..n).map(|k| kernel_mass(n, k)).collect();
            let total: f64 = masses.iter().sum();
            (0..self.samples)
                .map(|_| {
                    let mut u = rng.random::<f64>() * total;
                    let size = 1 + masses
                        .iter()
                        .position(|&m| {
                            u -= m;
                            u <= 0.0
                        })
                        .unwrap_or(n - 2);
                    (random_coalition(&mut rng, n, size), 1.0)
                })
                .unzip()
        };
        coalitions.push(vec![false; n]);
        coalitions.push(vec![true; n]);
        let p = coalition_probabilities(input, self.baseline, &positions, &coalitions, self.internal_batch_size).await?;
        let (empty, full) = (f64::from(p[p.len() - 2]), f64::from(p[p.len() - 1]));
        let values: Vec<f64> = if n < 2 {
            vec![full - empty; n]
        } else {
            // The constraint sum = full - empty removes the last feature: with z the presence vector,
            // y - empty - z_last (full - empty) = sum_{j < last} phi_j (z_j - z_last).
            let rows = weights.len();
            let last = n - 1;
            let z = |r: usize, j: usize| f64::from(u8::from(coalitions[r][j]));
            let x = DMatrix::from_fn(rows, last, |r, j| z(r, j) - z(r, last));
            let y = DVector::from_iterator(rows, (0..rows).map(|r| f64::from(p[r]) - empty - z(r, last) * (full - empty)));
            let phi = weighted_least_squares(&x, &y, &weights, 0.0);
            let rest = full - empty - phi.sum();
            phi.iter().copied().chain(std::iter::once(rest)).collect()
        };
        let c = perturbation_conventions(
            input,
            self.baseline,
            self.seed,
            [("samples", json!(coalitions.len())), ("coalitions", json!(if exhaustive { "all" } else { "sampled" }))],
        );
        Ok(MethodOutput {
            token_scores: scores_at(input, &positions, values),
            conventions: c,
            // Efficiency holds by construction (the last value is what the others leave): no check to report.
            diagnostics: Diagnostics::default(),
        })
    }
}

/// Shapley value sampling (Castro, Gómez & Tejada 2009; Štrumbelj & Kononenko 2010): for random
/// permutations of the word tokens, add them one by one to the baseline and credit each with the change
/// in the target probability; scores are the mean over permutations. Each permutation's credits sum to
/// `p(x) - p(baseline)`, so the scores are complete by construction.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShapleySampling {
    /// Random orders of the word tokens averaged over.
    pub permutations: usize,
    /// The embedding of a word token not yet added.
    pub baseline: Baseline,
    /// Seed of the permutations.
    pub seed: u64,
    /// Perturbed copies per forward pass.
    pub internal_batch_size: usize,
}

impl Default for ShapleySampling {
    fn default() -> Self {
        Self { permutations: 25, baseline: Baseline::Pad, seed: 0, internal_batch_size: 64 }
    }
}

impl AttributionMethod for ShapleySampling {
    async fn attribute(&self, input: &ExplainedInput<'_>) -> Result<MethodOutput, DeviceError> {
        let positions = input.word_positions();
        let n = positions.len();
        let permutations = self.permutations.max(1);
        let mut rng = SmallRng::seed_from_u64(self.seed);
        let orders: Vec<Vec<usize>> = (0..permutations)
            .map(|_| {
                let mut order: Vec<usize> = (0..n).collect();
                order.shuffle(&mut rng);
                order
            })
            .collect();
        // Per permutation: the baseline, then one more token at a time, up to the full text.
        let coalitions: Vec<Vec<bool>> = orders
            .iter()
            .flat_map(|order| {
                (0..=n).map(move |added| {
                    let mut coalition = vec![false; n];
                    for &j in &order[..added] {
                        coalition[j] = true;
                    }
                    coalition
                })
            })
            .collect();
        let p = coalition_probabilities(input, self.baseline, &positions, &coalitions, self.internal_batch_size).await?;
        let mut values = vec![0.0f64; n];
        for (order, p) in orders.iter().zip(p.chunks(n + 1)) {
            for (step, &j) in order.iter().enumerate() {
                values[j] += f64::from(p[step + 1] - p[step]) / permutations as f64;
            }
        }
        let c = perturbation_conventions(input, self.baseline, self.seed, [("permutations", json!(permutations))]);
        Ok(MethodOutput {
            token_scores: scores_at(input, &positions, values),
            conventions: c,
            // Each permutation's credits telescope to p(x) - p(baseline): complete by construction.
            diagnostics: Diagnostics::default(),
        })
    }
}
