use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{AttributionMethod, Diagnostics, MethodOutput, conventions};
use crate::ExplainedInput;
use crate::input::{DeviceError, read};

/// How Saliency reduces a token's gradient vector to one score.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SaliencyNorm {
    /// `||dF/dx_i||_2` (unsigned).
    #[default]
    L2,
    /// `sum_d dF/dx_{i,d}` (signed). For BERT-family models this is zero up to rounding: the LayerNorm
    /// right after the embedding sum makes each token's gradient orthogonal to the all-ones vector.
    /// Kept because the methods doc defines it; use Gradient x Input for a signed gradient score.
    Signed,
}

/// Saliency: the gradient of the target logit w.r.t. each token's embedding (Simonyan et al. 2014,
/// "Deep Inside Convolutional Networks", eq. 2; for text, Li et al. 2016).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Saliency {
    /// How a token's gradient vector becomes one score.
    #[serde(default)]
    pub norm: SaliencyNorm,
}

impl AttributionMethod for Saliency {
    async fn attribute(&self, input: &ExplainedInput<'_>) -> Result<MethodOutput, DeviceError> {
        let g = input.embedding_gradients(input.embeddings.clone());
        let [_, s, _] = g.dims();
        let scores = match self.norm {
            SaliencyNorm::L2 => g.powf_scalar(2.0).sum_dim(2).sqrt(),
            SaliencyNorm::Signed => g.sum_dim(2),
        };
        Ok(MethodOutput {
            token_scores: read(scores.reshape([s])).await?,
            conventions: conventions(input, [("norm", json!(self.norm))]),
            diagnostics: Diagnostics::default(),
        })
    }
}

/// Gradient x Input: `sum_d x_{i,d} dF/dx_{i,d}` (Shrikumar et al. 2016, "Not Just a Black Box";
/// Denil et al. 2014 for text).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GradientXInput;

impl AttributionMethod for GradientXInput {
    async fn attribute(&self, input: &ExplainedInput<'_>) -> Result<MethodOutput, DeviceError> {
        let g = input.embedding_gradients(input.embeddings.clone());
        let [_, s, _] = g.dims();
        Ok(MethodOutput {
            token_scores: read((g * input.embeddings.clone()).sum_dim(2).reshape([s])).await?,
            conventions: conventions(input, []),
            diagnostics: Diagnostics::default(),
        })
    }
}
