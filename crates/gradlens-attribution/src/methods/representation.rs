//! Representation attribution: the [CLS] representation's dimensions attributed to the tokens by expected
//! gradients, and composed into class scores through each dimension's weight for the class.

use burn::prelude::*;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{AttributionMethod, MethodOutput, conventions};
use crate::ExplainedInput;
use crate::input::{DeviceError, read};
use gradlens_explanation::{Diagnostics, Reading, Readings};

/// Representation attribution (after Bertolini et al. 2022): each
/// dimension `d` of the text's representation `h` (the last layer's [CLS] hidden state, which the
/// classification head reads) is treated as an output and attributed to the tokens by expected
/// gradients, `EG_{d,i} = mean_k sum_e (x - x'_k)_{i,e} dh_d/dx_{i,e}(x'_k + a_k (x - x'_k))`, with
/// background texts `x'_k` of random vocabulary words (special tokens kept) and `a_k ~ U(0, 1)`.
/// These per-dimension maps are label-free. Composed with the class -> dimension step
/// (`dF_c/dh_d`, the layer-to-layer map), they give token scores `sum_d dF_c/dh_d EG_{d,i}`.
///
/// Two label-free scores of the encoder on this text go with them (N = min-max over the map):
/// **informativeness** `mean |N(EG(text)) - N(EG(random text))|`, how much the map depends on the
/// words rather than on the position pattern, and **disentanglement** `mean_i var_d N(EG)_{d,i}`, how
/// differently the dimensions read the tokens.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RepresentationAttribution {
    /// Background texts (one interpolation point each).
    pub samples: usize,
    /// Representation dimensions attributed: those with the largest |h_d| on the text.
    pub dimensions: usize,
    /// Seed of the background texts and their `alpha`s (the random text of informativeness uses `seed + 1`).
    pub seed: u64,
}

impl Default for RepresentationAttribution {
    fn default() -> Self {
        Self { samples: 8, dimensions: 16, seed: 0 }
    }
}

/// One background point of expected gradients: a text of random words and where on the way from it
/// to the input the gradient is taken.
#[derive(Clone, Debug, PartialEq)]
pub struct BackgroundPoint {
    /// `[S]` token ids: random vocabulary words at the word positions, the input's special tokens elsewhere.
    pub ids: Vec<u32>,
    /// Where on the way from the background text (0) to the input (1) the gradient is taken.
    pub alpha: f32,
}

impl RepresentationAttribution {
    /// The seeded background: per sample, random vocabulary words (no special tokens) at the word
    /// positions, the input's special tokens in place, and `alpha ~ U(0, 1)`.
    pub fn background(&self, input: &ExplainedInput) -> Vec<BackgroundPoint> {
        let mut rng = SmallRng::seed_from_u64(self.seed);
        (0..self.samples.max(1)).map(|_| BackgroundPoint { ids: random_words(input, &mut rng), alpha: rng.random::<f32>() }).collect()
    }

    /// A text of random words as long as the input, for informativeness (seeded apart from the background,
    /// which uses `seed`).
    pub fn random_text(&self, input: &ExplainedInput) -> Vec<u32> {
        random_words(input, &mut SmallRng::seed_from_u64(self.seed.wrapping_add(1)))
    }

    /// `[D, S]` row-major: expected gradients of representation dimensions `dims` at `embeddings`
    /// (`[1, S, H]`), one batch of `D` copies per background point.
    pub async fn dimension_maps(
        &self,
        input: &ExplainedInput<'_>,
        embeddings: Tensor<3>,
        dims: &[usize],
        background: &[BackgroundPoint],
    ) -> Result<Vec<f32>, DeviceError> {
        let model = input.model;
        let [_, s, h] = embeddings.dims();
        let d = dims.len();
        let mut one_hot = vec![0.0f32; d * h];
        for (row, &dim) in dims.iter().enumerate() {
            one_hot[row * h + dim] = 1.0;
        }
        let one_hot = Tensor::<2>::from_data(TensorData::new(one_hot, [d, h]), input.device());
        let mut total: Option<Tensor<2>> = None;
        for point in background {
            let ids = Tensor::<2, Int>::from_data(TensorData::new(point.ids.iter().map(|&i| i64::from(i)).collect(), [1, s]), input.device());
            let start = model.embed(ids);
            let difference = embeddings.clone() - start.clone();
            let at = (start + difference.clone() * point.alpha).detach().repeat_dim(0, d).require_grad();
            let out = model.forward(at.clone(), input.mask(d), model.neutral_probes(d, s));
            let layers = out.hidden_states.dims()[0];
            let cls = out.hidden_states.narrow(0, layers - 1, 1).reshape([d, s, h]).narrow(1, 0, 1).reshape([d, h]);
            let grads = (cls * one_hot.clone()).sum().backward();
            let gradient = at.grad(&grads).expect("the embeddings take part in the forward pass");
            let map = (gradient * difference.repeat_dim(0, d)).sum_dim(2).reshape([d, s]);
            total = Some(match total {
                Some(t) => t + map,
                None => map,
            });
        }
        let total = total.expect("at least one background point");
        read(total / background.len() as f32).await
    }
}

fn random_words(input: &ExplainedInput, rng: &mut SmallRng) -> Vec<u32> {
    let config = input.model.config();
    let special = config.special_tokens;
    let reserved = [special.pad, special.unk, special.cls, special.sep, special.mask];
    (0..input.len())
        .map(|i| {
            if input.encoded.is_special(i) {
                return input.encoded.ids[i];
            }
            loop {
                let id = rng.random_range(0..config.vocab_size as u32);
                if !reserved.contains(&id) {
                    return id;
                }
            }
        })
        .collect()
}

/// `(x - min) / (max - min)` over the whole map.
fn min_max(map: &[f32]) -> Vec<f32> {
    let (lo, hi) = map.iter().fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let range = (hi - lo).max(f32::MIN_POSITIVE);
    map.iter().map(|v| (v - lo) / range).collect()
}

/// `mean |N(a) - N(b)|` of two maps of the same shape.
pub fn informativeness(text: &[f32], random: &[f32]) -> f32 {
    let (a, b) = (min_max(text), min_max(random));
    a.iter().zip(&b).map(|(x, y)| (x - y).abs()).sum::<f32>() / a.len().max(1) as f32
}

/// `mean_i var_d N(map)_{d,i}` of a `[D, S]` map.
pub fn disentanglement(map: &[f32], dims: usize) -> f32 {
    let n = min_max(map);
    let s = map.len() / dims.max(1);
    let variance_at = |i: usize| {
        let column: Vec<f32> = (0..dims).map(|d| n[d * s + i]).collect();
        let mean = column.iter().sum::<f32>() / dims as f32;
        column.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / dims as f32
    };
    (0..s).map(variance_at).sum::<f32>() / s.max(1) as f32
}

impl AttributionMethod for RepresentationAttribution {
    async fn attribute(&self, input: &ExplainedInput<'_>) -> Result<MethodOutput, DeviceError> {
        let s = input.len();
        let gradients = input.probe_gradients();
        let [layers, _, _, h] = gradients.hidden_probe.dims();
        // h and dF_c/dh: the last layer's hidden state at [CLS] and its gradient (the probe there).
        let (hidden, gradient) = gradients.layer(layers - 1);
        let representation = read(hidden.narrow(0, 0, 1).reshape([h])).await?;
        let class_weights = read(gradient.narrow(0, 0, 1).reshape([h])).await?;
        let mut dims: Vec<usize> = (0..h).collect();
        dims.sort_by(|&a, &b| representation[b].abs().total_cmp(&representation[a].abs()));
        dims.truncate(self.dimensions.clamp(1, h));

        let background = self.background(input);
        let text_map = self.dimension_maps(input, input.embeddings.clone(), &dims, &background).await?;
        let random_ids = self.random_text(input);
        let random_ids = Tensor::<2, Int>::from_data(TensorData::new(random_ids.iter().map(|&i| i64::from(i)).collect(), [1, s]), input.device());
        let random_map = self.dimension_maps(input, input.model.embed(random_ids), &dims, &background).await?;

        let mut scores = vec![0.0f32; s];
        for (row, &dim) in dims.iter().enumerate() {
            for (i, score) in scores.iter_mut().enumerate() {
                *score += class_weights[dim] * text_map[row * s + i];
            }
        }
        let readings = dims
            .iter()
            .enumerate()
            .map(|(row, &dim)| Reading {
                label: format!("dimension {dim}"),
                score: class_weights[dim],
                token_scores: text_map[row * s..(row + 1) * s].to_vec(),
            })
            .collect();
        let c = conventions(
            input,
            [
                ("representation", json!("last layer's [CLS] hidden state")),
                ("dimensions", json!(dims)),
                ("samples", json!(background.len())),
                ("background", json!("random vocabulary words, alpha ~ U(0, 1)")),
                ("seed", json!(self.seed)),
                ("composition", json!("sum_d dF_c/dh_d x EG_d")),
            ],
        );
        let diagnostics = Diagnostics {
            informativeness: Some(informativeness(&text_map, &random_map)),
            disentanglement: Some(disentanglement(&text_map, dims.len())),
            readings: Some(Readings { score_meaning: "dF_c/dh_d, the dimension's weight for the class".into(), parts: readings }),
            ..Diagnostics::default()
        };
        Ok(MethodOutput { token_scores: scores, conventions: c, diagnostics })
    }
}
