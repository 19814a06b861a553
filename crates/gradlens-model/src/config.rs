use serde::{Deserialize, Serialize};

use crate::weights::Quantization;

/// `config.json` of a model (written by tools/prepare_model.py).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Which generated graph runs this model.
    pub name: String,
    /// Class names, in logit order.
    pub labels: Vec<String>,
    /// Transformer layers (`L` in probe shapes).
    pub num_layers: usize,
    /// Attention heads per layer (`N`).
    pub num_heads: usize,
    /// Width of the hidden states and word embeddings (`H`).
    pub hidden_size: usize,
    /// Rows of the word-embedding table (`V`).
    pub vocab_size: usize,
    /// Longest input in tokens, [CLS] and [SEP] included; longer text is truncated.
    pub max_len: usize,
    /// The ids of [PAD], [UNK], [CLS], [SEP] and [MASK].
    pub special_tokens: SpecialTokens,
    /// One line about the model for the page (what it reads, what its classes mean). Optional.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Example texts the page offers. Optional.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
    /// How the site stores the weights; without it they ship as they are (f32 graph, f16 table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantization: Option<Quantization>,
}

/// Token ids of the special tokens: baselines and masking need them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialTokens {
    /// `[PAD]`: fills a batch's shorter sequences.
    pub pad: u32,
    /// `[UNK]`: stands for a word the vocabulary lacks.
    pub unk: u32,
    /// `[CLS]`: opens every sequence.
    pub cls: u32,
    /// `[SEP]`: closes every sequence.
    pub sep: u32,
    /// `[MASK]`: the masked-language-model token (the `mask` baseline).
    pub mask: u32,
}
