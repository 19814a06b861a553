//! Methods that read the attention maps (and their gradients, through the attention gate) or the hidden
//! states (and theirs, through the hidden-state probe).

use burn::prelude::*;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{AttributionMethod, Diagnostics, MethodOutput, conventions};
use crate::ExplainedInput;
use crate::input::{DeviceError, read};

/// `[L, 1, N, S, S]` -> the head mean of layer `l`, `[S, S]`.
fn head_mean(maps: &Tensor<5>, l: usize) -> Tensor<2> {
    let [_, _, _, s, _] = maps.dims();
    maps.clone().narrow(0, l, 1).mean_dim(2).reshape([s, s])
}

/// Row `row` of an `[S, S]` matrix.
async fn row(m: Tensor<2>, row: usize) -> Result<Vec<f32>, DeviceError> {
    let [_, s] = m.dims();
    read(m.narrow(0, row, 1).reshape([s])).await
}

/// Raw attention: the last layer's attention from [CLS] to each token, averaged over heads (the usual
/// attention-as-explanation baseline; see Jain & Wallace 2019).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RawAttention;

impl AttributionMethod for RawAttention {
    async fn attribute(&self, input: &ExplainedInput<'_>) -> Result<MethodOutput, DeviceError> {
        let attentions = input.outputs().attentions;
        let layers = attentions.dims()[0];
        Ok(MethodOutput {
            token_scores: row(head_mean(&attentions, layers - 1), 0).await?,
            conventions: conventions(input, [("layer", json!("last")), ("row", json!("[CLS]")), ("heads", json!("mean"))]),
            diagnostics: Diagnostics::default(),
        })
    }
}

/// Attention rollout (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers", sec. 3):
/// `Â^l = (A^l + I) / rowsum`, `R = Â^L ... Â^1`, token score `R[CLS, j]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AttentionRollout;

impl AttributionMethod for AttentionRollout {
    async fn attribute(&self, input: &ExplainedInput<'_>) -> Result<MethodOutput, DeviceError> {
        let attentions = input.outputs().attentions;
        let [layers, _, _, s, _] = attentions.dims();
        let eye = Tensor::<2>::eye(s, input.device());
        let mut rollout = eye.clone();
        for l in 0..layers {
            let a = head_mean(&attentions, l) + eye.clone();
            let a = a.clone() / a.sum_dim(1);
            rollout = a.matmul(rollout);
        }
        Ok(MethodOutput {
            token_scores: row(rollout, 0).await?,
            conventions: conventions(input, [("residual", json!("A + I, rows renormalised")), ("row", json!("[CLS]"))]),
            diagnostics: Diagnostics::default(),
        })
    }
}

/// Which way Grad-SAM reads its token-by-token map.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GradSamReading {
    /// `s_j = mean_i H_ij`: how much every token attends to token `j`.
    #[default]
    Column,
    /// `s_i = mean_j H_ij`: how much token `i` attends to the others.
    Row,
}

/// Grad-SAM (Barkan et al. 2021, "Grad-SAM: Explaining Transformers via Gradient Self-Attention Maps",
/// eq. 3-4): `H = mean_{l,h} A^{l,h} (*) ReLU(dF/dA^{l,h})`. Since `A >= 0` and the gate's gradient at 1
/// is `A (*) dF/dA`, `H = mean_{l,h} ReLU(dF/dgate)`: one backward pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GradSam {
    /// Which way the map `H` is read into token scores.
    #[serde(default)]
    pub reading: GradSamReading,
}

impl GradSam {
    /// The `[S, S]` map `H`.
    fn map(input: &ExplainedInput) -> Tensor<2> {
        let gate = input.probe_gradients().attention_gate;
        let [_, _, _, s, _] = gate.dims();
        relu(gate).mean_dims(&[0, 1, 2]).reshape([s, s])
    }
}

impl AttributionMethod for GradSam {
    async fn attribute(&self, input: &ExplainedInput<'_>) -> Result<MethodOutput, DeviceError> {
        let map = Self::map(input);
        let [s, _] = map.dims();
        let scores = match self.reading {
            GradSamReading::Column => map.clone().mean_dim(0),
            GradSamReading::Row => map.clone().mean_dim(1),
        };
        let token_map = Some(read(map).await?);
        Ok(MethodOutput {
            token_scores: read(scores.reshape([s])).await?,
            conventions: conventions(input, [("reading", json!(self.reading)), ("layers", json!("all")), ("heads", json!("mean"))]),
            diagnostics: Diagnostics { token_map, ..Diagnostics::default() },
        })
    }
}

/// Gradient-weighted attention rollout (Chefer, Gur & Wolf 2021, "Generic Attention-model Explainability",
/// eq. 5-6 for self-attention): `R = I`, then per layer `R <- R + mean_h ReLU(dF/dA (*) A) R`; score
/// `R[CLS, j]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GradientWeightedRollout;

impl AttributionMethod for GradientWeightedRollout {
    async fn attribute(&self, input: &ExplainedInput<'_>) -> Result<MethodOutput, DeviceError> {
        let gate = relu(input.probe_gradients().attention_gate);
        let [layers, _, _, s, _] = gate.dims();
        let mut relevance = Tensor::<2>::eye(s, input.device());
        for l in 0..layers {
            relevance = relevance.clone() + head_mean(&gate, l).matmul(relevance);
        }
        Ok(MethodOutput {
            token_scores: row(relevance, 0).await?,
            conventions: conventions(input, [("row", json!("[CLS]")), ("heads", json!("mean of ReLU(A * dF/dA)"))]),
            diagnostics: Diagnostics::default(),
        })
    }
}

/// GAM for text (after Barkan et al. 2021, "GAM: Explainable Visual Similarity and Classification via
/// Gradient Activation Maps"): per layer `m^l_i = sum_d ReLU(dF/dH^l_{i,d}) H^l_{i,d}` (gradient
/// localisation with negative gradients suppressed), min-max normalised per layer, summed over `layers`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerGam {
    /// Encoder layers to sum (0-based); empty means all.
    #[serde(default)]
    pub layers: Vec<usize>,
}

impl AttributionMethod for LayerGam {
    async fn attribute(&self, input: &ExplainedInput<'_>) -> Result<MethodOutput, DeviceError> {
        let gradients = input.probe_gradients();
        let [layers, _, s, _] = gradients.hidden_probe.dims();
        let chosen: Vec<usize> =
            if self.layers.is_empty() { (0..layers).collect() } else { self.layers.iter().copied().filter(|&l| l < layers).collect() };
        let mut total = vec![0.0f32; s];
        for &l in &chosen {
            let (hidden, grad) = gradients.layer(l);
            let map = read((relu(grad) * hidden).sum_dim(1).reshape([s])).await?;
            let (lo, hi) = map.iter().fold((f32::MAX, f32::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
            let range = (hi - lo).max(f32::MIN_POSITIVE);
            total.iter_mut().zip(&map).for_each(|(t, m)| *t += (m - lo) / range);
        }
        Ok(MethodOutput {
            token_scores: total,
            conventions: conventions(input, [("layers", json!(chosen)), ("per_layer", json!("min-max normalised"))]),
            diagnostics: Diagnostics::default(),
        })
    }
}
