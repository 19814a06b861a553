use burn::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::perturbation::coalition_probabilities;
use super::{AttributionMethod, Diagnostics, MethodOutput, conventions};
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
    /// Whether a token is replaced by the baseline or deleted.
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
    async fn attribute(&self, input: &ExplainedInput<'_>) -> Result<MethodOutput, DeviceError> {
        let words = input.word_positions();
        let occluded = match self.mode {
            OcclusionMode::Replace => {
                let all_but: Vec<Vec<bool>> = (0..words.len()).map(|k| (0..words.len()).map(|j| j != k).collect()).collect();
                coalition_probabilities(input, self.baseline, &words, &all_but, self.internal_batch_size).await?
            }
            OcclusionMode::Delete => {
                input
                    .collect_batches(&words, self.internal_batch_size, |batch| {
                        let (embeddings, mask) = deleted(input, batch);
                        input.target_probabilities(embeddings, mask)
                    })
                    .await?
            }
        };
        let full = input.probabilities[input.target];
        let mut scores = vec![0.0f32; input.len()];
        for (&i, p) in words.iter().zip(occluded) {
            scores[i] = full - p;
        }
        let mut own = vec![("output", json!("probability")), ("mode", json!(self.mode))];
        if self.mode == OcclusionMode::Replace {
            own.push(("baseline", json!(self.baseline)));
        }
        let mut c = conventions(input, []);
        c.extend(own.into_iter().map(|(k, v)| (k.to_owned(), v)));
        Ok(MethodOutput { token_scores: scores, conventions: c, diagnostics: Diagnostics::default() })
    }
}

/// `[C, S - 1, H]` embeddings and masks: copy `k` lacks token `positions[k]`.
fn deleted(input: &ExplainedInput, positions: &[usize]) -> (Tensor<3>, Tensor<2>) {
    let ids = &input.encoded.ids;
    let kept: Vec<Vec<u32>> = positions.iter().map(|&i| ids.iter().enumerate().filter(|&(j, _)| j != i).map(|(_, &id)| id).collect()).collect();
    let refs: Vec<&[u32]> = kept.iter().map(Vec::as_slice).collect();
    let batch = input.model.batch(&refs);
    (input.model.embed(batch.ids), batch.mask)
}
