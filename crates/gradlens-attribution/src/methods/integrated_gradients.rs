use burn::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{AttributionMethod, MethodOutput, conventions};
use crate::input::{DeviceError, read};
use crate::{Baseline, ExplainedInput, IntegrationRule};
use gradlens_explanation::{Completeness, Diagnostics};

/// Integrated Gradients (Sundararajan, Taly & Yan 2017, "Axiomatic Attribution for Deep Networks",
/// eq. 1 and its Riemann approximation, eq. 3): `IG_i = sum_d (x - x')_{i,d} * sum_k w_k dF/dx(x' + a_k (x - x'))_{i,d}`.
/// The path points are evaluated in batches of `internal_batch_size` to bound memory.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IntegratedGradients {
    /// Points on the path from the baseline to the input.
    pub steps: usize,
    /// Where the points lie and how they are weighted.
    pub rule: IntegrationRule,
    /// The path's start `x'`.
    pub baseline: Baseline,
    /// Path points per forward/backward pass.
    pub internal_batch_size: usize,
}

impl Default for IntegratedGradients {
    fn default() -> Self {
        Self { steps: 50, rule: IntegrationRule::GaussLegendre, baseline: Baseline::Pad, internal_batch_size: 25 }
    }
}

impl AttributionMethod for IntegratedGradients {
    async fn attribute(&self, input: &ExplainedInput<'_>) -> Result<MethodOutput, DeviceError> {
        let x = input.embeddings.clone();
        let baseline = self.baseline.embeddings(input);
        let delta = x.clone() - baseline.clone();
        let [_, s, h] = x.dims();
        let points = self.rule.points(self.steps);
        let zero = Tensor::<3>::zeros([1, s, h], input.device());
        let weighted_gradients = input
            .sum_batches(&points, self.internal_batch_size, zero, |batch| {
                let c = batch.len();
                let alphas = column(batch.iter().map(|p| p.0), input.device()).reshape([c, 1, 1]);
                let weights = column(batch.iter().map(|p| p.1), input.device()).reshape([c, 1, 1]);
                let path = baseline.clone().repeat_dim(0, c) + delta.clone().repeat_dim(0, c) * alphas;
                (input.embedding_gradients(path) * weights).sum_dim(0)
            })
            .await?;
        let scores = read((weighted_gradients * delta).sum_dim(2).reshape([s])).await?;
        let ends = read(input.target_logits(Tensor::cat(vec![x, baseline], 0))).await?;
        let completeness = Completeness::new(scores.iter().sum(), ends[0] - ends[1]);
        Ok(MethodOutput {
            token_scores: scores,
            conventions: conventions(
                input,
                [
                    ("output", json!("logit")),
                    ("steps", json!(self.steps)),
                    ("rule", json!(self.rule)),
                    ("baseline", json!(self.baseline)),
                    ("special_tokens", json!("held fixed (baseline = input)")),
                ],
            ),
            diagnostics: Diagnostics { completeness: Some(completeness), ..Diagnostics::default() },
        })
    }
}

fn column(values: impl Iterator<Item = f64>, device: &Device) -> Tensor<1> {
    let values: Vec<f32> = values.map(|v| v as f32).collect();
    let n = values.len();
    Tensor::from_data(TensorData::new(values, [n]), device)
}
