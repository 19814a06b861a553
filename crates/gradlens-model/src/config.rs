use serde::{Deserialize, Serialize};

/// `config.json` of a shipped model (written by tools/prepare_model.py).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Which generated graph runs this model.
    pub name: String,
    /// Class names, in logit order.
    pub labels: Vec<String>,
    pub num_layers: usize,
    pub num_heads: usize,
    pub hidden_size: usize,
    pub vocab_size: usize,
    /// Longest input in tokens, [CLS] and [SEP] included; longer text is truncated.
    pub max_len: usize,
    pub special_tokens: SpecialTokens,
}

/// Token ids of the special tokens: baselines and masking need them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialTokens {
    pub pad: u32,
    pub unk: u32,
    pub cls: u32,
    pub sep: u32,
    pub mask: u32,
}
