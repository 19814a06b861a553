use burn::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{AttributionMethod, MethodOutput, conventions};
use crate::input::DeviceError;
use crate::{Baseline, ExplainedInput};

/// How a token is taken out of the input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OcclusionMode {
    /// Its embedding is replaced by the baseline's.
    #[default]
    Replace,
    /// It is deleted; later tokens move up one position.
    Delete,
}

/// Occlusion / leave-one-out (Zeiler & Fergus 2014; for text, Li, Monroe & Jurafsky 2016,
/// "Understanding Neural Networks through Representation Erasure"): score_i = p_c(x) - p_c(x without i).
/// All occluded copies of a text run in batches; special tokens are never occluded (score 0).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Occlusion {
    pub mode: OcclusionMode,
    /// The replacement when `mode` is `Replace`.
    pub baseline: Baseline,
    /// Occluded copies per forward pass.
    pub internal_batch_size: usize,
}

impl Default for Occlusion {
    fn default() -> Self {
        Self { mode: OcclusionMode::Replace, baseline: Baseline::Pad, internal_batch_size: 32 }
    }
}

impl AttributionMethod for Occlusion {
    fn name(&self) -> &'static str {
        "occlusion"
    }

    async fn attribute(&self, input: &ExplainedInput<'_>) -> Result<MethodOutput, DeviceError> {
        let s = input.len();
        let words: Vec<usize> = (0..s).filter(|&i| !input.encoded.is_special(i)).collect();
        let full = input.probabilities[input.target];
        let mut scores = vec![0.0f32; s];
        for chunk in words.chunks(self.internal_batch_size.max(1)) {
            let (embeddings, mask) = match self.mode {
                OcclusionMode::Replace => (self.replaced(input, chunk), input.mask(chunk.len())),
                OcclusionMode::Delete => deleted(input, chunk),
            };
            for (&i, p) in chunk.iter().zip(input.target_probabilities(embeddings, mask).await?) {
                scores[i] = full - p;
            }
        }
        let mut own = vec![("output", json!("probability")), ("mode", json!(self.mode))];
        if self.mode == OcclusionMode::Replace {
            own.push(("baseline", json!(self.baseline)));
        }
        let mut c = conventions(input, []);
        c.extend(own.into_iter().map(|(k, v)| (k.to_owned(), v)));
        Ok(MethodOutput { token_scores: scores, conventions: c, completeness: None })
    }
}

impl Occlusion {
    /// `[C, S, H]`: copy `k` has token `positions[k]` replaced by the baseline embedding.
    fn replaced(&self, input: &ExplainedInput, positions: &[usize]) -> Tensor<3> {
        let [_, s, h] = input.embeddings.dims();
        let c = positions.len();
        let mut hit = vec![0.0f32; c * s];
        for (k, &i) in positions.iter().enumerate() {
            hit[k * s + i] = 1.0;
        }
        let hit = Tensor::<2>::from_data(TensorData::new(hit, [c, s]), input.device()).reshape([c, s, 1]).repeat_dim(2, h);
        let replacement = self.baseline.token_embedding(input).reshape([1, 1, h]).repeat_dim(0, c).repeat_dim(1, s);
        input.embeddings.clone().repeat_dim(0, c).mask_where(hit.bool(), replacement)
    }
}

/// `[C, S - 1, H]` embeddings and masks: copy `k` lacks token `positions[k]`.
fn deleted(input: &ExplainedInput, positions: &[usize]) -> (Tensor<3>, Tensor<2>) {
    let ids = &input.encoded.ids;
    let kept: Vec<Vec<u32>> = positions
        .iter()
        .map(|&i| ids.iter().enumerate().filter(|&(j, _)| j != i).map(|(_, &id)| id).collect())
        .collect();
    let refs: Vec<&[u32]> = kept.iter().map(Vec::as_slice).collect();
    let batch = input.model.batch(&refs);
    (input.model.embed(batch.ids), batch.mask)
}
