use burn::prelude::*;
use burn::tensor::activation::softmax;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{AttributionMethod, MethodOutput, conventions};
use crate::ExplainedInput;
use crate::input::{DeviceError, read};
use gradlens_explanation::{Diagnostics, Reading, Readings};

/// Layer saliency decoded to tokens, with a semantic-coherence score per layer (after Hou & Castanon,
/// ICML 2023, "Decoding Layer Saliency in Language Transformers"). At each encoder layer `l`:
///
/// - saliency of position `i`: `a_i = sum_d dF_c/dH^l_{i,d} * H^l_{i,d}` (gradient x activation, one
///   backward pass for every layer through the hidden-state probe);
/// - decoding: position `i`'s hidden state is read in token space through the tied word-embedding
///   matrix `E`, `q_i = softmax(E H^l_i)` over the vocabulary, and `r_{i,j} = q_i(token j)` for the
///   text's word tokens `j`;
/// - token scores: each position's saliency shared out over the words it decodes to,
///   `s_j = sum_i a_i r_{i,j} / sum_j' r_{i,j'}`;
/// - coherence: `mean_i sum_j r_{i,j}` over word positions, the share of what the layer's hidden
///   states decode to that is the text's own words.
///
/// The most coherent layer is reported unless `layer` names one. The paper decodes with the model's
/// language-model head; a classifier export carries only the tied embedding matrix, so this reading
/// uses `E` alone (no transform before it): the coherence scores are GradLens's, not the paper's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LayerSaliency {
    /// The 1-based encoder layer to report; `None`: the most coherent.
    pub layer: Option<usize>,
}

impl AttributionMethod for LayerSaliency {
    async fn attribute(&self, input: &ExplainedInput<'_>) -> Result<MethodOutput, DeviceError> {
        let gradients = input.probe_gradients();
        let [layers, _, s, _] = gradients.hidden_probe.dims();
        let words = input.word_positions();
        let word_ids: Vec<i64> = words.iter().map(|&i| i64::from(input.encoded.ids[i])).collect();
        let word_ids = Tensor::<1, Int>::from_data(TensorData::new(word_ids, [words.len()]), input.device());
        let table = input.model.word_embeddings().clone().transpose();

        let mut layer_readings = Vec::with_capacity(layers);
        for l in 0..layers {
            let (hidden, gradient) = gradients.layer(l);
            let saliency = read((gradient * hidden.clone()).sum_dim(1).reshape([s])).await?;
            let decoded = softmax(hidden.matmul(table.clone()), 1).select(1, word_ids.clone());
            let on_words = read(decoded).await?;
            layer_readings.push(decode(&saliency, &on_words, &words, s));
        }
        let chosen = match self.layer {
            Some(layer) => layer.clamp(1, layers),
            None => 1 + (0..layers).max_by(|&a, &b| layer_readings[a].coherence.total_cmp(&layer_readings[b].coherence)).unwrap_or(0),
        };
        let c = conventions(
            input,
            [
                ("layer", json!(chosen)),
                ("chosen", json!(if self.layer.is_some() { "asked" } else { "most coherent" })),
                ("saliency", json!("gradient x activation of the layer's hidden states")),
                ("decoding", json!("softmax over the tied word-embedding matrix, read at the text's word tokens")),
            ],
        );
        let readings: Vec<Reading> = layer_readings
            .into_iter()
            .enumerate()
            .map(|(l, r)| Reading { label: format!("layer {}", l + 1), score: r.coherence, token_scores: r.scores })
            .collect();
        let token_scores = readings[chosen - 1].token_scores.clone();
        let readings = Readings { score_meaning: "semantic coherence of the layer".into(), parts: readings };
        Ok(MethodOutput { token_scores, conventions: c, diagnostics: Diagnostics { readings: Some(readings), ..Diagnostics::default() } })
    }
}

struct LayerReading {
    scores: Vec<f32>,
    coherence: f32,
}

/// One layer's token scores and coherence from its position saliency `[S]` and the decoded
/// probabilities of the word tokens at every position (`[S, W]`, row-major).
fn decode(saliency: &[f32], on_words: &[f32], words: &[usize], s: usize) -> LayerReading {
    let w = words.len();
    let mut scores = vec![0.0f32; s];
    for i in 0..s {
        let row = &on_words[i * w..(i + 1) * w];
        let mass: f32 = row.iter().sum();
        if mass > 0.0 {
            for (&j, &r) in words.iter().zip(row) {
                scores[j] += saliency[i] * r / mass;
            }
        }
    }
    let coherence = words.iter().map(|&i| on_words[i * w..(i + 1) * w].iter().sum::<f32>()).sum::<f32>() / w.max(1) as f32;
    LayerReading { scores, coherence }
}
