//! Reference inputs for path and perturbation methods. Special tokens ([CLS], [SEP]) keep their own
//! embedding in every baseline, so that they are held fixed and get no attribution.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ExplainedInput;

/// The reference input `x'` that a word token is replaced by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Baseline {
    /// The [PAD] embedding at every word position (as in DIG's code).
    #[default]
    Pad,
    /// The [MASK] embedding at every word position.
    Mask,
    /// The zero vector at every word position.
    Zero,
}

impl Baseline {
    /// The baseline's name, as in JSON and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Baseline::Pad => "pad",
            Baseline::Mask => "mask",
            Baseline::Zero => "zero",
        }
    }

    /// The embedding that replaces a word token, `[H]`.
    pub fn token_embedding(self, input: &ExplainedInput) -> Tensor<1> {
        let special = input.model.config().special_tokens;
        match self {
            Baseline::Pad => input.model.token_embedding(special.pad),
            Baseline::Mask => input.model.token_embedding(special.mask),
            Baseline::Zero => Tensor::zeros([input.model.config().hidden_size], input.device()),
        }
    }

    /// `[1, S, H]`: the baseline embedding at word positions, the input's own at special tokens.
    pub fn embeddings(self, input: &ExplainedInput) -> Tensor<3> {
        let [_, s, h] = input.embeddings.dims();
        let replaced = self.token_embedding(input).reshape([1, 1, h]).repeat_dim(1, s);
        let keep = special_mask(input).reshape([1, s, 1]).repeat_dim(2, h);
        replaced.mask_where(keep.bool(), input.embeddings.clone()).detach()
    }
}

/// `[S]` 1.0 at word tokens, 0.0 at special tokens.
pub(crate) fn word_mask(input: &ExplainedInput) -> Tensor<1> {
    let values: Vec<f32> = (0..input.len()).map(|i| if input.encoded.is_special(i) { 0.0 } else { 1.0 }).collect();
    Tensor::from_data(TensorData::new(values, [input.len()]), input.device())
}

/// `[S]` 0.0 at word tokens, 1.0 at special tokens.
fn special_mask(input: &ExplainedInput) -> Tensor<1> {
    word_mask(input).neg() + 1.0
}
