//! Discretized Integrated Gradients and its uniform variant: Integrated Gradients along a non-linear,
//! monotone path whose points are (close to) real word embeddings.

use burn::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{AttributionMethod, MethodOutput, conventions};
use crate::explanation::Completeness;
use crate::input::to_vec;
use crate::{Baseline, ExplainedInput};

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
    #[default]
    L2,
    Cosine,
}

/// Where the candidate anchors come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "search", rename_all = "snake_case")]
pub enum AnchorSearch {
    /// DIG: the `neighbors` nearest vocabulary words (L2) of the current anchor word.
    NeighboursOfCurrentWord { neighbors: usize },
    /// UDIG: the `neighbors` nearest vocabulary words of the `k`-th of `steps` points placed uniformly on
    /// the straight line from the input to the baseline.
    NeighboursOfStraightLine { neighbors: usize, distance: Distance },
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
    pub search: AnchorSearch,
    pub strategy: AnchorStrategy,
    pub steps: usize,
    pub factor: u32,
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

/// Row-major `[rows, width]` values on the host.
struct Rows {
    values: Vec<f32>,
    width: usize,
}

impl Rows {
    fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.width..(i + 1) * self.width]
    }
}

impl AttributionMethod for DiscretizedIntegratedGradients {
    fn name(&self) -> &'static str {
        if self.is_uniform() { "udig" } else { "dig" }
    }

    fn attribute(&self, input: &ExplainedInput) -> MethodOutput {
        let [_, s, h] = input.embeddings.dims();
        let x = Rows { values: to_vec(input.embeddings.clone()), width: h };
        let b = Rows { values: to_vec(self.baseline.embeddings(input)), width: h };
        let words: Vec<usize> = (0..s).filter(|&i| !input.encoded.is_special(i)).collect();
        let anchors = Anchors::new(input);

        // paths[p] = points from the input to the baseline for word position words[p].
        let mut paths: Vec<Vec<Vec<f32>>> = words.iter().map(|&i| vec![x.row(i).to_vec()]).collect();
        let mut used: Vec<Vec<u32>> = words.iter().map(|&i| vec![input.encoded.ids[i]]).collect();
        let mut approximation_error = 0.0f32;
        for step in 1..=self.steps {
            let queries: Vec<Vec<f32>> = match self.search {
                AnchorSearch::NeighboursOfCurrentWord { .. } => {
                    used.iter().map(|u| anchors.table.row(*u.last().expect("a word") as usize).to_vec()).collect()
                }
                AnchorSearch::NeighboursOfStraightLine { .. } => words
                    .iter()
                    .map(|&i| {
                        let t = step as f32 / self.steps as f32;
                        x.row(i).iter().zip(b.row(i)).map(|(xi, bi)| xi - t * (xi - bi)).collect()
                    })
                    .collect(),
            };
            let (neighbors, distance) = match self.search {
                AnchorSearch::NeighboursOfCurrentWord { neighbors } => (neighbors, Distance::L2),
                AnchorSearch::NeighboursOfStraightLine { neighbors, distance } => (neighbors, distance),
            };
            let (candidates, nearest) = anchors.nearest(&queries, neighbors + self.steps + 1, distance);
            approximation_error += nearest.iter().sum::<f32>() / nearest.len().max(1) as f32;
            for (p, &i) in words.iter().enumerate() {
                let current = paths[p].last().expect("the input").clone();
                let options = candidates[p].iter().filter(|c| !used[p].contains(c)).take(neighbors);
                let key = |m: &Monotonised| match self.strategy {
                    AnchorStrategy::Greedy => m.distance,
                    AnchorStrategy::MaxCount => -(m.monotone_dims as f32),
                };
                // Ties go to the nearer candidate (the first in search order).
                let (word, point) = options
                    .map(|&c| (c, self.monotonise(anchors.table.row(c as usize), &current, b.row(i))))
                    .reduce(|best, next| if key(&next.1) < key(&best.1) { next } else { best })
                    .expect("the vocabulary has more words than the path");
                used[p].push(word);
                paths[p].push(point.point);
            }
        }
        for (p, &i) in words.iter().enumerate() {
            paths[p].push(b.row(i).to_vec());
            paths[p].reverse();
            paths[p] = upscale(std::mem::take(&mut paths[p]), self.factor);
        }

        // Every path point is a whole input: word tokens on their paths, special tokens fixed.
        let length = paths.first().map_or(2, Vec::len);
        let mut points = Vec::with_capacity(length * s * h);
        for k in 0..length {
            for i in 0..s {
                match words.iter().position(|&w| w == i) {
                    Some(p) => points.extend_from_slice(&paths[p][k]),
                    None => points.extend_from_slice(x.row(i)),
                }
            }
        }
        let points = Tensor::<3>::from_data(TensorData::new(points, [length, s, h]), input.device());
        let mut scores = vec![0.0f32; s];
        let starts: Vec<usize> = (0..length - 1).step_by(self.internal_batch_size.max(1)).collect();
        for start in starts {
            let c = (length - 1 - start).min(self.internal_batch_size.max(1));
            let at = points.clone().narrow(0, start, c);
            let step = points.clone().narrow(0, start + 1, c) - at.clone();
            let contribution = to_vec((input.gradients(at).embeddings * step).sum_dims(&[0, 2]).reshape([s]));
            scores.iter_mut().zip(contribution).for_each(|(a, c)| *a += c);
        }
        let ends = to_vec(input.target_logits(Tensor::cat(vec![points.clone().narrow(0, length - 1, 1), points.narrow(0, 0, 1)], 0)));
        let completeness = Completeness::new(scores.iter().sum(), ends[0] - ends[1]);
        let mut own = vec![
            ("steps", json!(self.steps)),
            ("factor", json!(self.factor)),
            ("strategy", json!(self.strategy)),
            ("search", json!(self.search)),
            ("baseline", json!(self.baseline)),
            ("path_points", json!(length)),
            ("output", json!("logit")),
        ];
        if self.is_uniform() {
            own.push(("word_approximation_error", json!(approximation_error / self.steps.max(1) as f32)));
        }
        let mut c = conventions(input, []);
        c.extend(own.into_iter().map(|(k, v)| (k.to_owned(), v)));
        MethodOutput { token_scores: scores, conventions: c, completeness: Some(completeness) }
    }
}

struct Monotonised {
    point: Vec<f32>,
    /// L2 distance between the candidate and its monotonised version.
    distance: f32,
    monotone_dims: usize,
}

impl DiscretizedIntegratedGradients {
    /// Keeps the dimensions of `candidate` that lie between `current` and `baseline`; moves the others a
    /// `1/steps` step from `current` toward `baseline`.
    fn monotonise(&self, candidate: &[f32], current: &[f32], baseline: &[f32]) -> Monotonised {
        let mut point = Vec::with_capacity(candidate.len());
        let (mut distance, mut monotone_dims) = (0.0f32, 0);
        for ((&w, &c), &b) in candidate.iter().zip(current).zip(baseline) {
            let (lo, hi) = if c <= b { (c, b) } else { (b, c) };
            let v = if (lo..=hi).contains(&w) {
                monotone_dims += 1;
                w
            } else {
                c - (c - b) / self.steps as f32
            };
            distance += (w - v) * (w - v);
            point.push(v);
        }
        Monotonised { point, distance: distance.sqrt(), monotone_dims }
    }
}

/// Inserts the midpoint between every pair of consecutive points, `factor` times.
fn upscale(mut path: Vec<Vec<f32>>, factor: u32) -> Vec<Vec<f32>> {
    for _ in 0..factor {
        let mut finer = Vec::with_capacity(2 * path.len() - 1);
        for pair in path.windows(2) {
            finer.push(pair[0].clone());
            finer.push(pair[0].iter().zip(&pair[1]).map(|(a, b)| (a + b) / 2.0).collect());
        }
        finer.push(path.last().expect("a path").clone());
        path = finer;
    }
    path
}

/// The vocabulary, for nearest-word searches on the device.
struct Anchors<'a> {
    input: &'a ExplainedInput<'a>,
    /// The table on the host, to read candidate rows.
    table: Rows,
    /// `[V]` squared norms, on the device.
    norms: Tensor<1>,
}

impl<'a> Anchors<'a> {
    fn new(input: &'a ExplainedInput<'a>) -> Self {
        let table = input.model.word_embeddings().clone();
        let [_, h] = table.dims();
        let norms = table.clone().powf_scalar(2.0).sum_dim(1).squeeze_dim(1);
        Self { input, table: Rows { values: to_vec(table), width: h }, norms }
    }

    /// For each query, the ids of the `k` nearest vocabulary words, nearest first, and the distance to
    /// the nearest one.
    fn nearest(&self, queries: &[Vec<f32>], k: usize, distance: Distance) -> (Vec<Vec<u32>>, Vec<f32>) {
        let (q, h) = (queries.len(), self.table.width);
        let device = self.input.device();
        let flat: Vec<f32> = queries.iter().flatten().copied().collect();
        let queries = Tensor::<2>::from_data(TensorData::new(flat, [q, h]), device);
        let table = self.input.model.word_embeddings().clone();
        let dot = queries.clone().matmul(table.transpose());
        let closeness = match distance {
            // -||q - v||^2 = 2 q.v - ||v||^2 - ||q||^2
            Distance::L2 => dot * 2.0 - self.norms.clone().unsqueeze_dim(0) - queries.powf_scalar(2.0).sum_dim(1),
            Distance::Cosine => {
                let q_norm = queries.powf_scalar(2.0).sum_dim(1).sqrt();
                dot / (self.norms.clone().sqrt().unsqueeze_dim(0) * q_norm).clamp_min(1e-12)
            }
        };
        let (values, indices) = closeness.topk_with_indices(k, 1);
        let ids: Vec<u32> =
            indices.into_data().convert::<i64>().try_to_vec::<i64>().expect("int indices").into_iter().map(|i| i as u32).collect();
        let best = to_vec(values.narrow(1, 0, 1).reshape([q]));
        let nearest = best
            .into_iter()
            .map(|v| match distance {
                Distance::L2 => (-v).max(0.0).sqrt(),
                Distance::Cosine => 1.0 - v,
            })
            .collect();
        (ids.chunks(k).map(<[u32]>::to_vec).collect(), nearest)
    }
}
