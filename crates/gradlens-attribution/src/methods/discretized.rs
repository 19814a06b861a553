//! Discretized Integrated Gradients and its uniform variant: Integrated Gradients along a non-linear,
//! monotone path whose points are (close to) real word embeddings.

use burn::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{AttributionMethod, MethodOutput, conventions};
use crate::input::{DeviceError, read, read_indices};
use crate::{Baseline, ExplainedInput};
use gradlens_explanation::{Completeness, Diagnostics};

/// How an anchor is chosen among the candidate words.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnchorStrategy {
    /// The candidate closest (L2) to its own monotonised version.
    #[default]
    Greedy,
    /// The candidate with the most dimensions already monotone.
    MaxCount,
}

/// Distance used by the nearest-word searches of UDIG.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Distance {
    /// Euclidean distance.
    #[default]
    L2,
    /// Cosine distance, `1 - cos(a, b)`.
    Cosine,
}

/// Where the candidate anchors come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "search", rename_all = "snake_case")]
pub enum AnchorSearch {
    /// DIG: the `neighbors` nearest vocabulary words (L2) of the current anchor word.
    NeighboursOfCurrentWord {
        /// Candidate words per anchor.
        neighbors: usize,
    },
    /// UDIG: the `neighbors` nearest vocabulary words of the `k`-th of `steps` points placed uniformly on
    /// the straight line from the input to the baseline.
    NeighboursOfStraightLine {
        /// Candidate words per anchor.
        neighbors: usize,
        /// The distance the nearest words are found by.
        distance: Distance,
    },
}

/// DIG (Sanyal & Ren 2021, "Discretized Integrated Gradients for Explaining Language Models", sec. 3) and
/// UDIG (Roy & Kundu 2024, uniform anchor placement). For each word token, `steps` anchors are chosen
/// from the vocabulary, monotonised (every dimension that does not lie between the current point and the
/// baseline is set to `c - (c - x') / steps`), and joined with the input and baseline into a path;
/// `factor` inserts midpoints `factor` times (path length `2^factor (steps + 1) + 1`). Attribution:
/// `sum_k dF/dx(x^k) . (x^{k+1} - x^k)` along the path from baseline to input. The nearest-word searches
/// run on the device over the whole embedding table; nothing is precomputed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DiscretizedIntegratedGradients {
    /// Where the candidate anchors come from (this is what tells DIG from UDIG).
    pub search: AnchorSearch,
    /// How one anchor is picked among the candidates.
    pub strategy: AnchorStrategy,
    /// Anchors per path.
    pub steps: usize,
    /// Times midpoints are inserted into the path (0: none).
    pub factor: u32,
    /// The baseline `x'`, the path's other end from the input.
    pub baseline: Baseline,
    /// Path points per forward/backward pass.
    pub internal_batch_size: usize,
}

impl Default for DiscretizedIntegratedGradients {
    fn default() -> Self {
        Self::dig()
    }
}

impl DiscretizedIntegratedGradients {
    /// DIG's published defaults: 30 steps, 500 neighbours, Greedy.
    pub fn dig() -> Self {
        Self {
            search: AnchorSearch::NeighboursOfCurrentWord { neighbors: 500 },
            strategy: AnchorStrategy::Greedy,
            steps: 30,
            factor: 0,
            baseline: Baseline::Pad,
            internal_batch_size: 32,
        }
    }

    /// UDIG: 30 steps, 30 neighbours of each uniform point, Greedy.
    pub fn udig() -> Self {
        Self { search: AnchorSearch::NeighboursOfStraightLine { neighbors: 30, distance: Distance::L2 }, ..Self::dig() }
    }

    fn is_uniform(&self) -> bool {
        matches!(self.search, AnchorSearch::NeighboursOfStraightLine { .. })
    }
}

impl AttributionMethod for DiscretizedIntegratedGradients {
    async fn attribute(&self, input: &ExplainedInput<'_>) -> Result<MethodOutput, DeviceError> {
        let [_, s, h] = input.embeddings.dims();
        let device = input.device();
        let words = input.word_positions();
        let p = words.len();
        let word_index = Tensor::<1, Int>::from_data(TensorData::new(words.iter().map(|&i| i as i64).collect::<Vec<_>>(), [p]), device);
        let x = input.embeddings.clone().reshape([s, h]);
        let b = self.baseline.embeddings(input).reshape([s, h]);
        let (x_words, b_words) = (x.clone().select(0, word_index.clone()), b.clone().select(0, word_index));
        let anchors = Anchors::new(input);
        let (neighbors, distance) = match self.search {
            AnchorSearch::NeighboursOfCurrentWord { neighbors } => (neighbors, Distance::L2),
            AnchorSearch::NeighboursOfStraightLine { neighbors, distance } => (neighbors, distance),
        };

        // The path of every word position at once, `[P, H]` per point, from the input to the baseline.
        let mut path = vec![x_words.clone()];
        let mut used: Vec<Vec<u32>> = words.iter().map(|&i| vec![input.encoded.ids[i]]).collect();
        let mut approximation_error = 0.0f32;
        for step in 1..=self.steps {
            let queries = match self.search {
                AnchorSearch::NeighboursOfCurrentWord { .. } => anchors.rows(used.iter().map(|u| *u.last().expect("a word"))),
                AnchorSearch::NeighboursOfStraightLine { .. } => {
                    let t = step as f32 / self.steps as f32;
                    x_words.clone() - (x_words.clone() - b_words.clone()) * t
                }
            };
            // Enough neighbours that `neighbors` remain after dropping the words already on the path.
            let (nearest, distance_to_nearest) = anchors.nearest(queries, neighbors + step, distance).await?;
            approximation_error += distance_to_nearest;
            let candidates: Vec<u32> = nearest
                .iter()
                .zip(&used)
                .flat_map(|(row, used)| row.iter().filter(|c| !used.contains(c)).take(neighbors).copied().collect::<Vec<_>>())
                .collect();
            let current = path.last().expect("the input").clone();
            let (chosen, point) = self.choose(&anchors, candidates, neighbors, current, b_words.clone()).await?;
            used.iter_mut().zip(chosen).for_each(|(u, c)| u.push(c));
            path.push(point);
        }
        path.push(b_words);
        path.reverse();
        let path = upscale(path, self.factor);

        // Every path point is a whole input: word tokens on their paths, special tokens fixed. `scatter`
        // puts the `[P, H]` word rows back at their positions (a one-hot `[S, P]` product, exact).
        let mut scatter = vec![0.0f32; s * p];
        words.iter().enumerate().for_each(|(k, &i)| scatter[i * p + k] = 1.0);
        let scatter = Tensor::<2>::from_data(TensorData::new(scatter, [s, p]), device);
        let mut keep = vec![1.0f32; s];
        words.iter().for_each(|&i| keep[i] = 0.0);
        let specials = x * Tensor::<1>::from_data(TensorData::new(keep, [s]), device).reshape([s, 1]);
        let length = path.len();
        let points: Vec<Tensor<2>> = path.into_iter().map(|w| specials.clone() + scatter.clone().matmul(w)).collect();
        let points = Tensor::stack::<3>(points, 0);

        // The Riemann sum over the path's steps, a batch of steps at a time.
        let steps: Vec<usize> = (0..length - 1).collect();
        let sum = input
            .sum_batches(&steps, self.internal_batch_size, Tensor::<1>::zeros([s], device), |batch| {
                let (start, c) = (batch[0], batch.len());
                let at = points.clone().narrow(0, start, c);
                let step = points.clone().narrow(0, start + 1, c) - at.clone();
                (input.embedding_gradients(at) * step).sum_dims(&[0, 2]).reshape([s])
            })
            .await?;
        let scores = read(sum).await?;
        let ends = read(input.target_logits(Tensor::cat(vec![points.clone().narrow(0, length - 1, 1), points.narrow(0, 0, 1)], 0))).await?;
        let completeness = Completeness::new(scores.iter().sum(), ends[0] - ends[1]);
        let own = vec![
            ("steps", json!(self.steps)),
            ("factor", json!(self.factor)),
            ("strategy", json!(self.strategy)),
            ("search", json!(self.search)),
            ("baseline", json!(self.baseline)),
            ("path_points", json!(length)),
            ("output", json!("logit")),
        ];
        let mut c = conventions(input, []);
        c.extend(own.into_iter().map(|(k, v)| (k.to_owned(), v)));
        let diagnostics = Diagnostics {
            completeness: Some(completeness),
            word_approximation_error: self.is_uniform().then(|| approximation_error / self.steps.max(1) as f32),
            ..Diagnostics::default()
        };
        Ok(MethodOutput { token_scores: scores, conventions: c, diagnostics })
    }
}

impl DiscretizedIntegratedGradients {
    /// For each of the `P` word positions, picks one of its `k` candidate words (`candidates`, `P x k`
    /// ids) and returns the words and their monotonised embeddings `[P, H]`. Monotonising keeps the
    /// dimensions of a candidate that lie between `current` and `baseline` and moves the others a
    /// `1/steps` step from `current` toward `baseline`. Ties go to the nearer candidate.
    async fn choose(
        &self,
        anchors: &Anchors<'_>,
        candidates: Vec<u32>,
        k: usize,
        current: Tensor<2>,
        baseline: Tensor<2>,
    ) -> Result<(Vec<u32>, Tensor<2>), DeviceError> {
        let [p, h] = current.dims();
        let w = anchors.rows(candidates.iter().copied()).reshape([p, k, h]);
        let expand = |t: Tensor<2>| t.unsqueeze_dim::<3>(1).repeat_dim(1, k);
        let (c, b) = (expand(current), expand(baseline));
        let (lo, hi) = (c.clone().min_pair(b.clone()), c.clone().max_pair(b.clone()));
        let inside = w.clone().greater_equal(lo).bool_and(w.clone().lower_equal(hi));
        let stepped = c.clone() - (c - b) / self.steps as f32;
        let monotonised = stepped.mask_where(inside.clone(), w.clone());
        let key = match self.strategy {
            AnchorStrategy::Greedy => (w - monotonised.clone()).powf_scalar(2.0).sum_dim(2),
            AnchorStrategy::MaxCount => inside.float().sum_dim(2).neg(),
        };
        let choice = key.argmin(1);
        let picked = read_indices(choice.clone()).await?;
        let point = monotonised.gather(1, choice.reshape([p, 1, 1]).repeat_dim(2, h)).reshape([p, h]);
        Ok((picked.iter().enumerate().map(|(row, &j)| candidates[row * k + j]).collect(), point))
    }
}

/// Inserts the midpoint between every pair of consecutive points, `factor` times.
fn upscale(mut path: Vec<Tensor<2>>, factor: u32) -> Vec<Tensor<2>> {
    for _ in 0..factor {
        let mut finer = Vec::with_capacity(2 * path.len() - 1);
        for pair in path.windows(2) {
            finer.push(pair[0].clone());
            finer.push((pair[0].clone() + pair[1].clone()) / 2.0);
        }
        finer.push(path.last().expect("a path").clone());
        path = finer;
    }
    path
}

/// The vocabulary, for nearest-word searches on the device.
struct Anchors<'a> {
    input: &'a ExplainedInput<'a>,
    /// `[V, H]` word embeddings.
    table: Tensor<2>,
    /// `[1, V]` their squared norms.
    norms: Tensor<2>,
}

impl<'a> Anchors<'a> {
    fn new(input: &'a ExplainedInput<'a>) -> Self {
        let table = input.model.word_embeddings().clone();
        let norms = table.clone().powf_scalar(2.0).sum_dim(1).transpose();
        Self { input, table, norms }
    }

    /// `[N, H]` embedding rows of the given word ids.
    fn rows(&self, ids: impl Iterator<Item = u32>) -> Tensor<2> {
        let ids: Vec<i64> = ids.map(i64::from).collect();
        let n = ids.len();
        self.table.clone().select(0, Tensor::from_data(TensorData::new(ids, [n]), self.input.device()))
    }

    /// For each `[Q, H]` query, the ids of the `k` nearest vocabulary words, nearest first; and the mean
    /// distance from a query to its nearest word (UDIG's word-approximation error).
    async fn nearest(&self, queries: Tensor<2>, k: usize, distance: Distance) -> Result<(Vec<Vec<u32>>, f32), DeviceError> {
        let [q, _] = queries.dims();
        let dot = queries.clone().matmul(self.table.clone().transpose());
        let q_norms = queries.powf_scalar(2.0).sum_dim(1);
        let closeness = match distance {
            // -||q - v||^2 = 2 q.v - ||v||^2 - ||q||^2
            Distance::L2 => dot * 2.0 - self.norms.clone() - q_norms,
            Distance::Cosine => dot / (self.norms.clone().sqrt() * q_norms.sqrt()).clamp_min(1e-12),
        };
        let (values, indices) = closeness.topk_with_indices(k, 1);
        let ids: Vec<u32> = read_indices(indices).await?.into_iter().map(|i| i as u32).collect();
        let best = read(values.narrow(1, 0, 1).reshape([q])).await?;
        let mean_distance = best
            .iter()
            .map(|&v| match distance {
                Distance::L2 => (-v).max(0.0).sqrt(),
                Distance::Cosine => 1.0 - v,
            })
            .sum::<f32>()
            / q.max(1) as f32;
        Ok((ids.chunks(k).map(<[u32]>::to_vec).collect(), mean_distance))
    }
}
